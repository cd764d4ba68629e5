// The safety side of one of my images: blurred until I choose to see it when the classifier thinks it may
// be sensitive, why it was hidden from the public (and by what), and an appeal against that decision.
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Appeal, HideSource, ImageSafety } from '@dreamfold/protocol';
import { api, newIdempotencyKey } from '../api/client.js';
import { ErrorMessage } from '../ui/feedback.js';
import { SubmitButton, TextArea } from '../ui/forms.js';

/** Wraps the picture: blurred behind a "show" button when the classifier asks for it. */
export function Blurred({ safety, children }: { safety: ImageSafety | undefined; children: ReactNode }) {
  const [shown, setShown] = useState(false);
  if (!safety?.blur || shown) return <>{children}</>;
  return (
    <div className="blurred">
      {children}
      <div className="blurred-cover">
        <p className="small">This image may be sensitive.</p>
        <button type="button" className="button button-small" onClick={() => setShown(true)}>
          Show image
        </button>
      </div>
    </div>
  );
}

/** Who or what hid an image, in words (the owner's view and the appeal queue). */
export const HIDDEN_BY: Record<HideSource, string> = {
  classifier: 'the safety classifier',
  prompt_filter: 'the prompt filter',
  verification: 'result verification',
  moderator: 'a moderator',
};

const APPEAL_STATE: Record<Appeal['state'], string> = {
  open: 'Your appeal is waiting for a moderator.',
  upheld: 'A moderator looked at your appeal and the decision stands.',
  overturned: 'Your appeal succeeded: the image is public again.',
};

/** Under the picture: whether the public sees it, and if not why, with an appeal. */
export function SafetyNote({ imageId, safety }: { imageId: string; safety: ImageSafety | undefined }) {
  const [appealing, setAppealing] = useState(false);
  const [appeal, setAppeal] = useState<Appeal>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [key] = useState(newIdempotencyKey);
  if (!safety) return null;
  if (safety.state === 'pending')
    return <span className="small muted">Being checked before it goes public.</span>;
  if (!safety.hidden) return null;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const note = String(new FormData(event.currentTarget).get('note') ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      setAppeal(await api.post<Appeal>(`/v1/images/${imageId}/appeals`, { note }, { idempotencyKey: key }));
      setAppealing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const state = appeal?.state ?? safety.appeal?.state;
  return (
    <div className="safety-note small">
      <p>
        Not shown in the public gallery
        {safety.hiddenBy ? ` (${HIDDEN_BY[safety.hiddenBy]} hid it` : ' ('}
        {safety.reason ? `: ${safety.reason})` : ')'}.
      </p>
      {state ? (
        <p role="status">{APPEAL_STATE[state]}</p>
      ) : appealing ? (
        <form onSubmit={submit}>
          <TextArea label="Why is this decision wrong?" name="note" required maxLength={2000} rows={3} />
          <ErrorMessage error={error} />
          <div className="row">
            <SubmitButton busy={busy} busyLabel="Sending…">
              Send appeal
            </SubmitButton>
            <button type="button" className="button button-small" onClick={() => setAppealing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="link-button" onClick={() => setAppealing(true)}>
          Appeal this decision
        </button>
      )}
    </div>
  );
}
