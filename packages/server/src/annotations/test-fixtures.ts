// Helpers for the annotation tests: finished images whose pixels say what they are (so a simulated
// honest rater can answer from what it was shown, as a person would), and a rater that speaks HTTP.
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, upload } from '../test-support/worker-client.js';

let models = 0;

/** A 64×64 PNG whose colour encodes a true score (red = 20 × score) and a tag (green). */
export function taggedPng(score: number, tag: number): Promise<Buffer> {
  return sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: score * 20, g: tag, b: 7 } },
  })
    .png()
    .toBuffer();
}

export async function readTag(png: Buffer): Promise<{ score: number; tag: number }> {
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { score: Math.round((data[0] ?? 0) / 20), tag: data[1] ?? 0 };
}

/**
 * One generation of `images.length` finished images owned by `ownerKey`, rendered by a worker of
 * `workerOwnerKey`; image i carries images[i]. Returns the image (job) ids in order.
 */
export async function finishedGeneration(
  c: TestCoordinator,
  ownerKey: string,
  prompt: string,
  images: { score: number; tag: number }[],
  workerOwnerKey = c.adminKey,
): Promise<string[]> {
  const model = `annot-${++models}`;
  const res = await c.app.inject({
    method: 'POST',
    url: '/v1/generations',
    headers: auth(ownerKey),
    payload: { prompt, model, width: 64, height: 64, steps: 1, n: images.length },
  });
  if (res.statusCode !== 201) throw new Error(`submit failed: ${res.body}`);
  const generation = res.json() as { images: { jobId: string; index: number }[] };
  const worker = await registerWorker(c, workerOwnerKey, model);
  for (;;) {
    const job = (await pop(c, worker, { models: [model] })).json().job as {
      id: string;
      leaseId: string;
    } | null;
    if (!job) break;
    const index = generation.images.find((i) => i.jobId === job.id)?.index ?? 0;
    const img = images[index] ?? { score: 1, tag: 0 };
    const up = await upload(c, worker, job.id, job.leaseId, await taggedPng(img.score, img.tag));
    if (up.statusCode !== 200) throw new Error(`upload failed: ${up.body}`);
  }
  return generation.images.map((i) => i.jobId);
}

export interface Task {
  id: string;
  kind: 'rating' | 'pairwise' | 'flag';
  prompt: string;
  images: { url: string; width: number; height: number }[];
  expiresAt: string;
}

export function client(c: TestCoordinator, key: string) {
  return {
    next: async (kind: string) => {
      const res = await c.app.inject({ url: `/v1/annotations/next?kind=${kind}`, headers: auth(key) });
      if (res.statusCode !== 200) throw new Error(`next ${kind}: ${res.statusCode} ${res.body}`);
      return res.json().task as Task | null;
    },
    nextRaw: (kind: string) => c.app.inject({ url: `/v1/annotations/next?kind=${kind}`, headers: auth(key) }),
    answer: (taskId: string, payload: unknown, headers: Record<string, string> = {}) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/annotations/${taskId}`,
        headers: { ...auth(key), ...headers },
        payload: payload as object,
      }),
    image: (url: string) => c.app.inject({ url, headers: auth(key) }),
    /** What the task's images show (decoded from their pixels). */
    look: async (task: Task) => {
      const shown = [];
      for (const img of task.images) {
        const res = await c.app.inject({ url: img.url, headers: auth(key) });
        if (res.statusCode !== 200) throw new Error(`image ${img.url}: ${res.statusCode}`);
        shown.push(await readTag(res.rawPayload));
      }
      return shown;
    },
    me: async () => (await c.app.inject({ url: '/v1/me/annotations', headers: auth(key) })).json(),
    credits: async () => (await c.app.inject({ url: '/v1/me/credits', headers: auth(key) })).json(),
  };
}

/** A small deterministic PRNG (mulberry32), so a "random clicker" clicks the same way every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean and sample standard deviation, two-pass (independent of the server's sums of squares). */
export function stats(xs: number[]): { count: number; mean?: number; stddev?: number } {
  if (xs.length === 0) return { count: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { count: 1, mean };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { count: xs.length, mean, stddev: Math.sqrt(ss / (xs.length - 1)) };
}

export function assertClose(actual: number | undefined, expected: number | undefined, what: string): void {
  if (expected === undefined) return assert.equal(actual, undefined, what);
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
}

/** A moderator makes a finished image a rating check whose known answer is 8–10. */
export async function ratingGold(c: TestCoordinator, moderatorKey: string, imageId: string): Promise<void> {
  const res = await c.app.inject({
    method: 'POST',
    url: '/v1/admin/annotations/gold',
    headers: auth(moderatorKey),
    payload: { kind: 'rating', imageId, ratingMin: 8, ratingMax: 10 },
  });
  assert.equal(res.statusCode, 201, res.body);
}
