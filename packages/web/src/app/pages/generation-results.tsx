// One generation as it happens: status and queue position, a fixed-size slot per image (so nothing jumps
// when progress or the image arrives), step progress with time left, and the results with download,
// parameters and "generate again with this seed".
import { useState } from 'react';
import { Link } from 'wouter';
import type { Generation, GenerationImage, Stats } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import {
  imageFraction,
  secondsLeft,
  statusLine,
  type GenerationView,
  type ImageProgress,
} from '../lib/generation-view.js';
import { formatDuration } from '../lib/format.js';
import { generateAgainHref } from '../lib/generation-links.js';
import { SAMPLER_LABELS } from '../lib/labels.js';
import { Blurred, SafetyNote } from './image-safety.js';

function Slot({
  generation,
  image,
  progress,
  note,
}: {
  generation: Generation;
  image: GenerationImage;
  progress: ImageProgress | undefined;
  note: string | undefined;
}) {
  const { params } = generation;
  const fraction = imageFraction(image, progress);
  const left = secondsLeft(progress);
  const label = `Image ${image.index + 1} of ${generation.images.length}`;
  let placeholder: string | undefined;
  if (image.state === 'queued') placeholder = note ? `Back in the queue: ${note}` : 'Waiting for a worker…';
  else if (image.state === 'failed')
    placeholder = `Could not be made: ${image.error ?? note ?? 'unknown reason'}`;
  else if (image.state === 'cancelled') placeholder = image.cancelReason ?? 'Cancelled';
  return (
    <figure className="result" aria-label={label}>
      <div className="result-frame" style={{ aspectRatio: `${params.width} / ${params.height}` }}>
        {image.state === 'done' && image.url ? (
          <Blurred safety={image.nsfw}>
            <img
              src={image.url}
              alt={`${label}: ${params.prompt}`}
              width={params.width}
              height={params.height}
              decoding="async"
            />
          </Blurred>
        ) : image.state === 'leased' ? (
          <div className="result-placeholder">
            <div className="progress-block">
              <progress max={1} value={fraction} aria-label={`${label} progress`} />
              <span className="progress-label small">
                {progress && progress.step > 0
                  ? `Step ${progress.step} of ${progress.totalSteps}${left !== undefined ? ` · about ${formatDuration(left)} left` : ''}`
                  : 'Starting on a worker…'}
              </span>
            </div>
          </div>
        ) : (
          <div className="result-placeholder">{placeholder}</div>
        )}
      </div>
      <figcaption>
        <span className="muted">Seed {image.seed}</span>
        {image.state === 'done' && image.url ? (
          <span className="row">
            <a
              className="button button-small"
              href={image.url}
              download={`dreamfold-${generation.id}-${image.index}.png`}
            >
              Download
            </a>
            <Link className="button button-small" href={generateAgainHref(params, image.seed)}>
              Again with this seed
            </Link>
            <Link className="button button-small" href={`/images/${image.jobId}`}>
              Image page
            </Link>
          </span>
        ) : null}
        {image.state === 'done' ? <SafetyNote imageId={image.jobId} safety={image.nsfw} /> : null}
      </figcaption>
    </figure>
  );
}

function EtaHint({ view }: { view: GenerationView }) {
  const eta = view.generation.eta;
  if (!eta || view.finished) return null;
  if (eta.basis === 'no_worker') {
    return (
      <p className="small hint-warning">
        No online worker can make these images now, so they wait in the queue until one connects. You can
        leave this page: they will be in <Link href="/my-images">My images</Link>.
      </p>
    );
  }
  if (eta.seconds === undefined) return null;
  return (
    <p className="small muted">
      About {formatDuration(eta.seconds)} until done{eta.basis === 'assumed' ? ' (estimated)' : ''}, from the
      speed of {eta.workers} {eta.workers === 1 ? 'worker' : 'workers'} that can make them.
    </p>
  );
}

function QueueHint({ view }: { view: GenerationView }) {
  const queued = view.generation.status === 'queued' && !view.generation.eta;
  const stats = useResource(
    queued ? (signal) => api.get<Stats>('/v1/stats', { signal }) : undefined,
    [queued],
    { pollMs: 10_000 },
  );
  if (!queued || !stats.data) return null;
  if (stats.data.workersOnline === 0) {
    return (
      <p className="small muted">
        No worker is online right now, so your images wait in the queue until one connects. You can leave this
        page: they will be in <Link href="/my-images">My images</Link>.
      </p>
    );
  }
  return (
    <p className="small muted">
      {stats.data.workersOnline} {stats.data.workersOnline === 1 ? 'worker is' : 'workers are'} online. You
      can leave this page: your images will be in <Link href="/my-images">My images</Link>.
    </p>
  );
}

export function GenerationResults({ view, error }: { view: GenerationView; error?: unknown }) {
  const { generation } = view;
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<unknown>();
  const open = !view.finished;

  async function cancel() {
    setCancelling(true);
    setCancelError(undefined);
    try {
      await api.delete(`/v1/generations/${generation.id}`);
    } catch (err) {
      setCancelError(err);
    } finally {
      setCancelling(false);
    }
  }

  return (
    <section aria-labelledby="result-heading" className="generation">
      <h2 id="result-heading" className="visually-hidden">
        Your images
      </h2>
      <div className="row space-between">
        <p className="status-line" role="status" aria-live="polite">
          {statusLine(view)}
        </p>
        {open ? (
          <button
            type="button"
            className="button button-small"
            disabled={cancelling}
            onClick={() => void cancel()}
          >
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : null}
      </div>
      <EtaHint view={view} />
      <QueueHint view={view} />
      {error ? <p className="small muted">Live updates are interrupted; retrying…</p> : null}
      <ErrorMessage error={cancelError} />
      <div className="results">
        {generation.images.map((image) => (
          <Slot
            key={image.index}
            generation={generation}
            image={image}
            progress={view.progress[image.index]}
            note={view.notes[image.index]}
          />
        ))}
      </div>
      <details className="more">
        <summary>Parameters</summary>
        <dl className="params">
          <dt>Prompt</dt>
          <dd className="prompt-text">{generation.params.prompt}</dd>
          {generation.params.negativePrompt ? (
            <>
              <dt>Negative prompt</dt>
              <dd className="prompt-text">{generation.params.negativePrompt}</dd>
            </>
          ) : null}
          <dt>Model</dt>
          <dd>{generation.params.model}</dd>
          <dt>Size</dt>
          <dd>
            {generation.params.width} × {generation.params.height}
          </dd>
          <dt>Steps</dt>
          <dd>{generation.params.steps}</dd>
          <dt>Guidance</dt>
          <dd>{generation.params.guidanceScale}</dd>
          <dt>Sampler</dt>
          <dd>{SAMPLER_LABELS[generation.params.sampler] ?? generation.params.sampler}</dd>
          <dt>Seed</dt>
          <dd>
            {generation.seed}
            {generation.n > 1 ? ` (image i uses ${generation.seed} + i)` : ''}
          </dd>
        </dl>
      </details>
    </section>
  );
}
