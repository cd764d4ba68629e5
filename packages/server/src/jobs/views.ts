import type { Generation, GenerationImage, GenerationStatus } from '@dreamfold/protocol';
import { toIso, toIsoOrUndefined } from '../ids.js';
import type { GenerationRow, JobRow } from './sql/read-generations.js';

export function imageUrl(generationId: string, index: number): string {
  return `/v1/generations/${generationId}/images/${index}`;
}

/** A generation's status is derived from its jobs, never stored, so it cannot drift from them. */
export function generationStatus(jobs: readonly Pick<JobRow, 'state'>[]): GenerationStatus {
  const count = (s: JobRow['state']) => jobs.filter((j) => j.state === s).length;
  const queued = count('queued');
  const leased = count('leased');
  const done = count('done');
  if (queued + leased > 0) return leased + done > 0 ? 'running' : 'queued';
  if (done === jobs.length) return 'done';
  if (done > 0) return 'partial';
  if (count('cancelled') === jobs.length) return 'cancelled';
  return count('failed') > 0 ? 'failed' : 'cancelled';
}

export const isFinished = (status: GenerationStatus) => status !== 'queued' && status !== 'running';

export function toGenerationImage(job: JobRow): GenerationImage {
  return {
    index: job.idx,
    jobId: job.id,
    state: job.state,
    seed: job.seed,
    step: job.step,
    attempts: job.attempts,
    url: job.state === 'done' ? imageUrl(job.generation_id, job.idx) : undefined,
    sha256: job.result_sha256 ?? undefined,
    error: job.state === 'failed' ? (job.last_error ?? 'failed') : undefined,
    cancelReason: job.state === 'cancelled' ? (job.last_error ?? 'Cancelled.') : undefined,
    finishedAt: toIsoOrUndefined(job.finished_at),
  };
}

/** The request's parameters as the protocol spells them (the seed is per image, so it is not here). */
export function generationParams(g: GenerationRow): Generation['params'] {
  return {
    prompt: g.prompt,
    negativePrompt: g.negative_prompt,
    model: g.model,
    width: g.width,
    height: g.height,
    steps: g.steps,
    guidanceScale: g.guidance_scale,
    sampler: g.sampler as Generation['params']['sampler'],
  };
}

export function toGeneration(g: GenerationRow, jobs: readonly JobRow[], queuePosition?: number): Generation {
  return {
    id: g.id,
    status: generationStatus(jobs),
    params: generationParams(g),
    seed: g.seed,
    n: g.n,
    createdAt: toIso(g.created_at),
    queuePosition,
    images: jobs.map(toGenerationImage),
    maxSecondsPerImage: g.max_seconds_per_image ?? undefined,
  };
}
