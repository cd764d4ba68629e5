// Reported images, longest waiting first: see the image and the reports, then keep it or hide it (with a
// reason for the audit log). Hidden images can be restored.
import { useState } from 'react';
import type { HiddenImageList, ModeratedImage, ReportQueue, ReportQueueItem } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { TextField } from '../ui/forms.js';
import { formatAgo } from '../lib/format.js';

function ImageBox({ image }: { image: ModeratedImage }) {
  return (
    <a className="mod-image" href={image.url} target="_blank" rel="noreferrer">
      <img src={image.thumbUrl} alt={`Reported image: ${image.prompt}`} loading="lazy" />
    </a>
  );
}

function Decision({
  submitLabel,
  onSubmit,
  secondary,
}: {
  submitLabel: string;
  onSubmit: (reason: string) => Promise<void>;
  secondary?: { label: string; run: (reason: string) => Promise<void> };
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (action: (reason: string) => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action(reason.trim());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run(onSubmit);
      }}
    >
      <TextField
        label="Reason (kept in the audit log)"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        required
        maxLength={500}
      />
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" className="button button-danger" disabled={busy || !reason.trim()}>
          {submitLabel}
        </button>
        {secondary ? (
          <button
            type="button"
            className="button"
            disabled={busy || !reason.trim()}
            onClick={() => void run(secondary.run)}
          >
            {secondary.label}
          </button>
        ) : null}
      </div>
    </form>
  );
}

function ReportCard({ item, onDone }: { item: ReportQueueItem; onDone: () => void }) {
  const reportId = item.reports[0]?.id;
  const resolve = async (action: 'hide' | 'dismiss', reason: string) => {
    if (!reportId) return;
    await api.post(`/v1/moderation/reports/${reportId}/resolve`, { action, reason });
    onDone();
  };
  return (
    <li className="card mod-card">
      <ImageBox image={item.image} />
      <div>
        <p className="prompt-text">{item.image.prompt}</p>
        <p className="small muted">
          {item.openReports} open {item.openReports === 1 ? 'report' : 'reports'}:{' '}
          {item.reasons.map((r) => `${r.reason} × ${r.count}`).join(', ')} · first{' '}
          {formatAgo(item.firstReportedAt)}
          {item.image.ownerSuspended ? ' · owner suspended' : ''}
        </p>
        {item.reports.some((r) => r.note) ? (
          <ul className="small">
            {item.reports
              .filter((r) => r.note)
              .map((r) => (
                <li key={r.id}>“{r.note}”</li>
              ))}
          </ul>
        ) : null}
        <Decision
          submitLabel="Hide image"
          onSubmit={(reason) => resolve('hide', reason)}
          secondary={{ label: 'Keep it (dismiss)', run: (reason) => resolve('dismiss', reason) }}
        />
      </div>
    </li>
  );
}

export function Reports() {
  const queue = useResource((signal) => api.get<ReportQueue>('/v1/moderation/reports', { signal }), []);
  const [done, setDone] = useState<string[]>([]);
  if (queue.loading && !queue.data) return <Loading />;
  if (queue.error) return <ErrorMessage error={queue.error} retry={queue.reload} />;
  const items = queue.data?.items.filter((i) => !done.includes(i.image.id)) ?? [];
  if (items.length === 0)
    return <Empty title="No open reports">When someone reports an image, it appears here.</Empty>;
  return (
    <ul className="plain-list">
      {items.map((item) => (
        <ReportCard key={item.image.id} item={item} onDone={() => setDone((d) => [...d, item.image.id])} />
      ))}
    </ul>
  );
}

export function HiddenImages() {
  const list = useResource(
    (signal) => api.get<HiddenImageList>('/v1/moderation/hidden-images', { signal }),
    [],
  );
  const [restored, setRestored] = useState<string[]>([]);
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorMessage error={list.error} retry={list.reload} />;
  const items = list.data?.items.filter((i) => !restored.includes(i.image.id)) ?? [];
  if (items.length === 0) return <Empty title="No hidden images">Images moderators hide appear here.</Empty>;
  return (
    <ul className="plain-list">
      {items.map((item) => (
        <li className="card mod-card" key={item.image.id}>
          <ImageBox image={item.image} />
          <div>
            <p className="prompt-text">{item.image.prompt}</p>
            <p className="small muted">
              Hidden {formatAgo(item.hiddenAt)}: {item.reason}
            </p>
            <Decision
              submitLabel="Restore to the gallery"
              onSubmit={async (reason) => {
                await api.post(`/v1/moderation/images/${item.image.id}/unhide`, { reason });
                setRestored((r) => [...r, item.image.id]);
              }}
            />
          </div>
        </li>
      ))}
    </ul>
  );
}
