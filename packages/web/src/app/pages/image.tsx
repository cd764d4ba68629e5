// One public image: the picture, its parameters, ratings and aesthetic score, "generate again with this
// seed", and a report button.
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'wouter';
import type { ImageDetail, ReportReason } from '@dreamfold/protocol';
import { api, newIdempotencyKey } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { SelectField, SubmitButton, TextArea } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { REPORT_REASON_LABELS, SAMPLER_LABELS } from '../lib/labels.js';
import { generateAgainHref } from '../lib/generation-links.js';
import { formatDate } from '../lib/format.js';

function Report({ imageId }: { imageId: string }) {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [sent, setSent] = useState(false);
  const [key] = useState(newIdempotencyKey);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const note = String(data.get('note') ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      await api.post(
        `/v1/images/${imageId}/reports`,
        { reason: String(data.get('reason')) as ReportReason, note: note || undefined },
        { idempotencyKey: key },
      );
      setSent(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (sent) return <Notice kind="success">Thank you. A moderator will look at this image.</Notice>;
  if (!user) {
    return (
      <p className="small">
        Something wrong with this image? <Link href={`/sign-in?next=/images/${imageId}`}>Sign in</Link> to
        report it.
      </p>
    );
  }
  if (!open) {
    return (
      <button type="button" className="button button-small" onClick={() => setOpen(true)}>
        Report this image
      </button>
    );
  }
  return (
    <form className="card" onSubmit={submit}>
      <h2>Report this image</h2>
      <SelectField label="What is wrong?" name="reason" required defaultValue="">
        <option value="" disabled>
          Choose one…
        </option>
        {Object.entries(REPORT_REASON_LABELS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </SelectField>
      <TextArea label="Details (optional)" name="note" maxLength={1000} rows={3} />
      <ErrorMessage error={error} />
      <div className="row">
        <SubmitButton busy={busy} busyLabel="Sending…">
          Send report
        </SubmitButton>
        <button type="button" className="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export default function ImagePage() {
  const { id = '' } = useParams<{ id: string }>();
  const image = useResource(
    (signal) => api.get<ImageDetail>(`/v1/images/${encodeURIComponent(id)}`, { signal }),
    [id],
  );
  const d = image.data;
  return (
    <Page title={d ? d.params.prompt.slice(0, 60) : 'Image'} heading="Image" wide>
      {image.loading && !d ? (
        <Loading lines={4} />
      ) : image.error ? (
        <ErrorMessage error={image.error} retry={image.reload} />
      ) : d ? (
        <div className="image-layout">
          <div
            className="result-frame image-frame"
            style={{ aspectRatio: `${d.params.width} / ${d.params.height}` }}
          >
            <img src={d.url} alt={d.params.prompt} width={d.params.width} height={d.params.height} />
          </div>
          <div>
            {d.visibility !== 'public' ? (
              <Notice kind="warning">
                {d.visibility === 'hidden'
                  ? 'A moderator hid this image: only you and moderators see it.'
                  : 'Its owner withdrew this image.'}
              </Notice>
            ) : null}
            <p className="prompt-text image-prompt">{d.params.prompt}</p>
            <dl className="params">
              {d.params.negativePrompt ? (
                <>
                  <dt>Negative prompt</dt>
                  <dd className="prompt-text">{d.params.negativePrompt}</dd>
                </>
              ) : null}
              <dt>Model</dt>
              <dd>{d.params.model}</dd>
              <dt>Size</dt>
              <dd>
                {d.params.width} × {d.params.height}
              </dd>
              <dt>Steps</dt>
              <dd>{d.params.steps}</dd>
              <dt>Guidance</dt>
              <dd>{d.params.guidanceScale}</dd>
              <dt>Sampler</dt>
              <dd>{SAMPLER_LABELS[d.params.sampler] ?? d.params.sampler}</dd>
              <dt>Seed</dt>
              <dd>{d.params.seed}</dd>
              <dt>Made</dt>
              <dd>{formatDate(d.finishedAt)}</dd>
              <dt>Ratings</dt>
              <dd>
                {d.rating && d.rating.count > 0
                  ? `${d.rating.mean?.toFixed(1) ?? '–'} average from ${d.rating.count} ${d.rating.count === 1 ? 'rating' : 'ratings'}${d.rating.stddev !== undefined ? ` (± ${d.rating.stddev.toFixed(1)})` : ''}`
                  : 'Not rated yet'}
              </dd>
              <dt>Aesthetic score</dt>
              <dd>{d.aestheticScore !== undefined ? d.aestheticScore.toFixed(2) : 'Not scored yet'}</dd>
            </dl>
            <div className="row form-actions">
              <a className="button button-small" href={d.url} download={`dreamfold-${d.id}.png`}>
                Download
              </a>
              <Link
                className="button button-small"
                href={generateAgainHref(
                  { ...d.params, negativePrompt: d.params.negativePrompt },
                  d.params.seed,
                )}
              >
                Generate again with this seed
              </Link>
            </div>
            <Report imageId={d.id} />
          </div>
        </div>
      ) : null}
    </Page>
  );
}
