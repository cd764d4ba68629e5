// A destructive action in two steps, without a modal: the first press asks, the second does it.
import { useEffect, useRef, useState, type ReactNode } from 'react';

export function ConfirmButton({
  children,
  confirmLabel,
  question,
  onConfirm,
  busy,
}: {
  children: ReactNode;
  confirmLabel: string;
  question: string;
  onConfirm: () => void;
  busy?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className="button button-small button-danger" onClick={() => setAsking(true)}>
        {children}
      </button>
    );
  }
  return (
    <span className="row" role="group" aria-label={question}>
      <span className="small">{question}</span>
      <button
        ref={confirmRef}
        type="button"
        className="button button-small button-danger"
        disabled={busy}
        onClick={onConfirm}
      >
        {busy ? 'Working…' : confirmLabel}
      </button>
      <button type="button" className="button button-small" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
