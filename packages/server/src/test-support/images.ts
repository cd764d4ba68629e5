// Finished images for tests, made the honest way: a generation submitted over HTTP, each job popped and
// its PNG uploaded by a registered worker. An image id is its job id.
import { randomUUID } from 'node:crypto';
import type { Coordinator } from '../app.js';
import { solidPng } from './coordinator.js';
import { pop, registerWorker, submit, upload } from './worker-client.js';

export interface MadeImages {
  generationId: string;
  /** Job ids, in index order. */
  imageIds: string[];
}

export async function makeImages(
  c: Coordinator,
  ownerKey: string,
  options: { prompt?: string; negativePrompt?: string; n?: number; seed?: number } = {},
): Promise<MadeImages> {
  // A model of its own, so this call's jobs are the only ones its worker can pop.
  const model = `m-${randomUUID().slice(0, 12)}`;
  const n = options.n ?? 1;
  const submitted = await submit(c, ownerKey, {
    prompt: options.prompt ?? 'a quiet harbour at dawn',
    negativePrompt: options.negativePrompt,
    model,
    n,
    seed: options.seed ?? 7,
  });
  if (submitted.statusCode !== 201) throw new Error(`submit failed: ${submitted.body}`);
  const generationId = submitted.json().id as string;
  const worker = await registerWorker(c, ownerKey, `w-${model}`);
  const imageIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const popped = await pop(c, worker, { models: [model] });
    const job = popped.json().job as
      { id: string; leaseId: string; width: number; height: number } | undefined;
    if (!job) throw new Error(`pop returned no job: ${popped.body}`);
    const png = await solidPng(64, 64, (options.seed ?? 7) * 31 + i);
    const done = await upload(c, worker, job.id, job.leaseId, png);
    if (done.statusCode !== 200) throw new Error(`upload failed: ${done.body}`);
    imageIds.push(job.id);
  }
  imageIds.sort();
  return { generationId, imageIds };
}
