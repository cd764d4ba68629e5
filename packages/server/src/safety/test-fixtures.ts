// Real images for the safety tests: simple drawings rendered by sharp (a sky gradient, a sun, hills),
// which the bundled MobileNetV2 confidently calls neutral or drawing. Made and delivered the honest way:
// a generation over HTTP, a registered worker pops and uploads.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Coordinator } from '../app.js';
import { auth } from '../test-support/coordinator.js';
import { pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

export const SIDE = 128;

/** A landscape drawing; `variant` changes its colours so no two uploads are the same bytes. */
export function drawing(variant: number, side = SIDE): Promise<Buffer> {
  const hue = (variant * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}" viewBox="0 0 100 100">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="hsl(${hue},60%,25%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},70%,75%)"/>
    </linearGradient></defs>
    <rect width="100" height="100" fill="url(#sky)"/>
    <circle cx="70" cy="30" r="12" fill="#fc3"/>
    <path d="M0 80 Q25 55 50 78 T100 72 V100 H0 Z" fill="hsl(${(hue + 120) % 360},45%,35%)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Submits a generation of `n` drawings for a model of its own and delivers them; returns the job ids. */
export async function deliverDrawings(
  c: Coordinator,
  ownerKey: string,
  n: number,
  variant: number,
): Promise<{ generationId: string; imageIds: string[] }> {
  const model = `m-${randomUUID().slice(0, 10)}`;
  const submitted = await submit(c, ownerKey, {
    prompt: 'a landscape drawing',
    model,
    n,
    width: SIDE,
    height: SIDE,
  });
  if (submitted.statusCode !== 201) throw new Error(`submit failed: ${submitted.body}`);
  const generationId = submitted.json().id as string;
  const worker = await registerWorker(c, ownerKey, `w-${model}`);
  const imageIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const job = (await pop(c, worker, { models: [model] })).json().job as { id: string; leaseId: string };
    const done = await upload(c, worker, job.id, job.leaseId, await drawing(variant + i));
    if (done.statusCode !== 200) throw new Error(`upload failed: ${done.body}`);
    imageIds.push(job.id);
  }
  return { generationId, imageIds };
}

export interface OwnerImage {
  jobId: string;
  nsfw?: {
    state: string;
    score?: number;
    blur: boolean;
    hidden: boolean;
    hiddenBy?: string;
    reason?: string;
    appeal?: { id: string; state: string };
  };
}

export async function ownerView(c: Coordinator, key: string, generationId: string): Promise<OwnerImage[]> {
  const res = await c.app.inject({ url: `/v1/generations/${generationId}`, headers: auth(key) });
  if (res.statusCode !== 200) throw new Error(`read failed: ${res.body}`);
  return res.json().images as OwnerImage[];
}

/** Polls the owner's view until no image is pending (the classifier runs in its own thread). */
export async function classified(c: Coordinator, key: string, generationId: string): Promise<OwnerImage[]> {
  for (let i = 0; i < 600; i++) {
    const images = await ownerView(c, key, generationId);
    if (images.every((img) => img.nsfw && img.nsfw.state !== 'pending')) return images;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the images were not classified within a minute');
}

/** An admin replaces the prompt filter's words (no patterns) and the re-evaluation it starts runs to its end. */
export async function setBlockedWords(c: Coordinator & { adminKey: string }, words: string[]): Promise<void> {
  const res = await c.app.inject({
    method: 'PUT',
    url: '/v1/admin/prompt-filter',
    headers: auth(c.adminKey),
    payload: { words, patterns: [] },
  });
  if (res.statusCode !== 200) throw new Error(`prompt filter: ${res.statusCode} ${res.body}`);
  await c.services.safety.reevaluations.idle();
}
