// What the generate page shows, derived from the generation's server-sent events. A pure reducer so it
// can be tested without a browser: a snapshot replaces everything (also after a reconnect), later
// events patch one image at a time.
import type { Generation, GenerationEvent, GenerationImage, GenerationStatus } from '@dreamfold/protocol';

export interface ImageProgress {
  step: number;
  totalSteps: number;
  /** Time of the first and latest progress report (ms), to estimate how long the rest takes. */
  firstAt?: number;
  firstStep?: number;
  lastAt?: number;
}

export interface GenerationView {
  generation: Generation;
  /** Jobs ahead of this generation's first queued image (0 = next). */
  queuePosition?: number;
  progress: Record<number, ImageProgress>;
  /** Why images failed or went back to the queue, by index. */
  notes: Record<number, string>;
  finished: boolean;
}

const FINISHED: readonly GenerationStatus[] = ['done', 'partial', 'failed', 'cancelled'];
export const isFinishedStatus = (status: GenerationStatus) => FINISHED.includes(status);

export function viewOf(generation: Generation): GenerationView {
  const progress: Record<number, ImageProgress> = {};
  for (const image of generation.images) {
    if (image.state === 'leased' && image.step > 0) {
      progress[image.index] = { step: image.step, totalSteps: generation.params.steps };
    }
  }
  return {
    generation,
    queuePosition: generation.queuePosition,
    progress,
    notes: {},
    finished: isFinishedStatus(generation.status),
  };
}

function patchImage(view: GenerationView, index: number, patch: Partial<GenerationImage>): GenerationView {
  const images = view.generation.images.map((image) =>
    image.index === index ? { ...image, ...patch } : image,
  );
  return { ...view, generation: { ...view.generation, images, status: statusOf(images) } };
}

/** The generation's status, derived from its images exactly as the server derives it (jobs/views.ts). */
export function statusOf(images: GenerationImage[]): GenerationStatus {
  const count = (state: GenerationImage['state']) => images.filter((i) => i.state === state).length;
  const open = count('queued') + count('leased');
  const done = count('done');
  if (open > 0) return count('leased') + done > 0 ? 'running' : 'queued';
  if (done === images.length) return 'done';
  if (done > 0) return 'partial';
  if (count('cancelled') === images.length) return 'cancelled';
  return count('failed') > 0 ? 'failed' : 'cancelled';
}

/**
 * Whether a `started` or `progress` event moves its image forward. The server subscribes before it reads
 * the snapshot, so an event that the snapshot already reflects can follow it: a `started` for an image
 * the snapshot shows running or done, or an earlier step. Those must not take the image back. (An image
 * that really runs again is announced with `requeued` first, which sets it queued at step 0.)
 */
function advances(
  view: GenerationView,
  event: { type: 'started'; index: number } | { type: 'progress'; index: number; step: number },
): boolean {
  const image = view.generation.images.find((i) => i.index === event.index);
  if (event.type === 'started') return image?.state === 'queued';
  return (image?.state === 'queued' || image?.state === 'leased') && event.step >= image.step;
}

export function applyEvent(
  view: GenerationView | undefined,
  event: GenerationEvent,
  now: number,
): GenerationView | undefined {
  if (event.type === 'snapshot') {
    const next = viewOf(event.generation);
    // Keep timing estimates across a reconnect.
    if (view) {
      for (const [index, p] of Object.entries(view.progress)) {
        const fresh = next.progress[Number(index)];
        if (fresh) next.progress[Number(index)] = { ...p, step: Math.max(p.step, fresh.step) };
      }
    }
    return next;
  }
  if (!view) return view;
  if ((event.type === 'started' || event.type === 'progress') && !advances(view, event)) return view;
  switch (event.type) {
    case 'queued':
      return { ...view, queuePosition: event.position };
    case 'started': {
      const next = patchImage(view, event.index, { state: 'leased', step: 0 });
      return {
        ...next,
        progress: { ...next.progress, [event.index]: { step: 0, totalSteps: view.generation.params.steps } },
      };
    }
    case 'progress': {
      const before = view.progress[event.index];
      const progress: ImageProgress = {
        step: event.step,
        totalSteps: event.totalSteps,
        firstAt: before?.firstAt ?? now,
        firstStep: before?.firstStep ?? event.step,
        lastAt: now,
      };
      const next = patchImage(view, event.index, { state: 'leased', step: event.step });
      return { ...next, progress: { ...next.progress, [event.index]: progress } };
    }
    case 'image': {
      const next = patchImage(view, event.index, { state: 'done', url: event.url, sha256: event.sha256 });
      const progress = { ...next.progress };
      delete progress[event.index];
      return { ...next, progress };
    }
    case 'requeued': {
      const next = patchImage(view, event.index, { state: 'queued', step: 0 });
      const progress = { ...next.progress };
      delete progress[event.index];
      return { ...next, progress, notes: { ...next.notes, [event.index]: event.reason } };
    }
    case 'failed': {
      const next = patchImage(view, event.index, { state: 'failed', error: event.reason });
      const progress = { ...next.progress };
      delete progress[event.index];
      return { ...next, progress, notes: { ...next.notes, [event.index]: event.reason } };
    }
    case 'cancelled': {
      const images = view.generation.images.map((i) =>
        i.state === 'queued' || i.state === 'leased'
          ? { ...i, state: 'cancelled' as const, cancelReason: event.reason ?? i.cancelReason }
          : i,
      );
      return { ...view, generation: { ...view.generation, images, status: statusOf(images) }, progress: {} };
    }
    case 'finished':
      return {
        ...view,
        generation: { ...view.generation, status: event.status },
        queuePosition: undefined,
        finished: true,
      };
  }
}

/** Seconds left for one image, from the step rate seen so far; undefined until two reports arrived. */
export function secondsLeft(p: ImageProgress | undefined): number | undefined {
  if (!p || p.firstAt === undefined || p.lastAt === undefined || p.firstStep === undefined) return undefined;
  const steps = p.step - p.firstStep;
  if (steps <= 0 || p.lastAt <= p.firstAt) return undefined;
  const perStep = (p.lastAt - p.firstAt) / 1000 / steps;
  return Math.max(0, (p.totalSteps - p.step) * perStep);
}

/** 0–1 for one image: done images are 1, queued 0, running their step share. */
export function imageFraction(image: GenerationImage, progress: ImageProgress | undefined): number {
  if (image.state === 'done') return 1;
  if (image.state !== 'leased' || !progress) return 0;
  return Math.min(1, progress.step / Math.max(1, progress.totalSteps));
}

/** One line saying where the generation stands, for people and for screen readers. */
export function statusLine(view: GenerationView): string {
  const { generation } = view;
  const total = generation.images.length;
  const done = generation.images.filter((i) => i.state === 'done').length;
  const failed = generation.images.filter((i) => i.state === 'failed').length;
  switch (generation.status) {
    case 'queued':
      return view.queuePosition === undefined || view.queuePosition === 0
        ? 'Queued: next in line, waiting for a worker.'
        : `Queued: ${view.queuePosition} ${view.queuePosition === 1 ? 'job' : 'jobs'} ahead.`;
    case 'running':
      return total === 1 ? 'Generating…' : `Generating: ${done} of ${total} images done.`;
    case 'done':
      return total === 1 ? 'Done.' : `Done: ${total} images.`;
    case 'partial':
      return `Finished: ${done} of ${total} images; ${failed || total - done} could not be made.`;
    case 'failed':
      return 'Failed: no image could be made.';
    case 'cancelled':
      return done ? `Cancelled after ${done} of ${total} images.` : 'Cancelled.';
  }
}
