// Helpers for the trust tests: a coordinator with verification on and a moving clock, donors (each its
// own account, since replicas go to other accounts) speaking the worker protocol through app.inject, and
// honest pictures: smooth waves whose shape follows from the seed, like a deterministic model's output.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { ManualClock } from '../clock.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import type { TestDatabase, TestDialect } from '../test-support/databases.js';
import type { BlobStore } from '../storage/blob-store.js';
import { areaDownscale } from './image-analysis.js';

export async function startTrustCoordinator(
  dialect: TestDialect,
  env: Record<string, string> = {},
  reuse: { clock?: ManualClock; database?: TestDatabase; dataDir?: string; blobs?: BlobStore } = {},
): Promise<{ c: TestCoordinator; clock: ManualClock }> {
  const clock = reuse.clock ?? new ManualClock();
  const c = await startTestCoordinator({
    dialect,
    clock,
    ...(reuse.database ? { database: reuse.database } : {}),
    ...(reuse.dataDir ? { dataDir: reuse.dataDir } : {}),
    env: { TRUST_VERIFY: 'full', LEASE_SECONDS: '60', ...env },
    // The reaper runs when a test calls services.leases.expire(), not on a timer.
    build: { reaperIntervalMs: 3_600_000, ...(reuse.blobs ? { blobs: reuse.blobs } : {}) },
  });
  return { c, clock };
}

/**
 * A trust coordinator in the open stage where an image of 64×64 × 25 steps costs 16 credits and earns its
 * worker 8, with 100,000 credits granted to the requester (c.userKey).
 */
export async function startCreditedTrustCoordinator(
  dialect: TestDialect,
  env: Record<string, string> = {},
): Promise<{ c: TestCoordinator; clock: ManualClock }> {
  const started = await startTrustCoordinator(dialect, {
    ACCESS_STAGE: 'open',
    CREDITS_IMAGE_COST: '1000',
    CREDITS_WORKER_REWARD: '500',
    ...env,
  });
  const { c } = started;
  const grant = await c.app.inject({
    method: 'POST',
    url: '/v1/admin/credits/grants',
    headers: auth(c.adminKey),
    payload: { userId: c.userId, amount: 100_000, memo: 'requester' },
  });
  if (grant.statusCode !== 201) throw new Error(`grant failed: ${grant.body}`);
  return started;
}

export interface Assignment {
  id: string;
  leaseId: string;
  params: { seed: number; width: number; height: number; steps: number; prompt: string; model: string };
}

/** A donor account with one worker, speaking the protocol like the daemon does. */
export class Donor {
  private constructor(
    private readonly c: TestCoordinator,
    readonly userId: string,
    readonly userKey: string,
    readonly workerId: string,
    readonly key: string,
    private readonly fingerprint: string | undefined,
    private readonly gpu: string | undefined,
  ) {}

  static async create(
    c: TestCoordinator,
    o: { fingerprint?: string | null; gpu?: string; owner?: { id: string; key: string } } = {},
  ): Promise<Donor> {
    const owner = o.owner ?? (await c.createUser());
    const res = await c.app.inject({
      method: 'POST',
      url: '/v1/workers',
      headers: auth(owner.key),
      payload: { name: 'donor' },
    });
    if (res.statusCode !== 201) throw new Error(`register failed: ${res.body}`);
    const { key, worker } = res.json() as { key: string; worker: { id: string } };
    const fingerprint = o.fingerprint === null ? undefined : (o.fingerprint ?? FINGERPRINT);
    return new Donor(c, owner.id, owner.key, worker.id, key, fingerprint, o.gpu);
  }

  /** The same donor talking to another coordinator (after a restart on the same database). */
  on(c: TestCoordinator): Donor {
    return new Donor(c, this.userId, this.userKey, this.workerId, this.key, this.fingerprint, this.gpu);
  }

  popRaw(models: string[] = [MODEL]) {
    return this.c.app.inject({
      method: 'POST',
      url: '/v1/workers/pop',
      headers: auth(this.key),
      payload: {
        backend: 'test-pattern',
        models,
        maxPixels: 1024 * 1024,
        waitSeconds: 0,
        ...(this.gpu ? { hardware: { gpu: this.gpu } } : {}),
        ...(this.fingerprint
          ? { fingerprints: models.map((model) => ({ model, sha256: this.fingerprint })) }
          : {}),
      },
    });
  }

  async pop(models: string[] = [MODEL]): Promise<Assignment | null> {
    const res = await this.popRaw(models);
    if (res.statusCode !== 200) throw new Error(`pop failed: ${res.statusCode} ${res.body}`);
    return (res.json() as { job: Assignment | null }).job;
  }

  upload(job: Assignment, png: Buffer) {
    return this.c.app.inject({
      method: 'PUT',
      url: `/v1/jobs/${job.id}/result?leaseId=${job.leaseId}`,
      headers: { ...auth(this.key), 'content-type': 'image/png' },
      payload: png,
    });
  }

  /** Sends a CLIP embedding for the job (as float32) under its lease, as the daemon does before the PNG. */
  sendEmbedding(job: Assignment, values: Float32Array) {
    const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
    return this.c.app.inject({
      method: 'PUT',
      url: `/v1/jobs/${job.id}/embedding`,
      headers: auth(this.key),
      payload: { leaseId: job.leaseId, dtype: 'float32', dim: values.length, data },
    });
  }

  /** Uploads the honest picture for the job. */
  async deliver(job: Assignment) {
    return this.upload(job, await honestPng(job.params));
  }

  reputation(key = this.userKey) {
    return this.c.app.inject({ url: `/v1/workers/${this.workerId}/reputation`, headers: auth(key) });
  }
}

/** Pops a job or replica of `model` for the donor (there must be one), then lets 2 s pass (its run). */
export async function take(clock: ManualClock, donor: Donor, model: string): Promise<Assignment> {
  const job = await donor.pop([model]);
  if (!job) throw new Error(`no job or replica of ${model} for the donor`);
  clock.advance(2000);
  return job;
}

/** A job's verification case (the verifications row), if one was opened. */
export function verificationOf(c: TestCoordinator, jobId: string) {
  return c.services.database.db
    .selectFrom('verifications')
    .selectAll()
    .where('job_id', '=', jobId)
    .executeTakeFirst();
}

export const MODEL = 'trust-model';
export const FINGERPRINT = 'a'.repeat(64);

export function submitJobs(c: TestCoordinator, body: Record<string, unknown> = {}, key = c.userKey) {
  return c.app.inject({
    method: 'POST',
    url: '/v1/generations',
    headers: auth(key),
    payload: { prompt: 'a quiet harbour', model: MODEL, width: 64, height: 64, steps: 10, ...body },
  });
}

/** A smooth picture determined by the job's parameters (what an honest deterministic model returns). */
export function honestPng(p: {
  seed: number;
  width: number;
  height: number;
  prompt?: string;
  steps?: number;
}) {
  const digest = createHash('sha256')
    .update(JSON.stringify([p.seed, p.prompt ?? '', p.steps ?? 0]))
    .digest();
  const waves = [0, 1, 2, 3].map((k) => ({
    amplitude: 20 + (digest[k * 5]! % 30),
    fx: 1 + (digest[k * 5 + 1]! % 6),
    fy: 1 + (digest[k * 5 + 2]! % 6),
    px: (digest[k * 5 + 3]! / 256) * 2 * Math.PI,
    py: (digest[k * 5 + 4]! / 256) * 2 * Math.PI,
  }));
  const { width, height } = p;
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 128;
      for (const w of waves) {
        v +=
          w.amplitude *
          Math.sin((2 * Math.PI * w.fx * x) / width + w.px) *
          Math.sin((2 * Math.PI * w.fy * y) / height + w.py);
      }
      const i = (y * width + x) * 3;
      px[i] = clamp(v);
      px[i + 1] = clamp(255 - v);
      px[i + 2] = clamp(v / 2 + 40);
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/**
 * Another honest picture, determined by the job's parameters like honestPng but with detail at every
 * scale a perceptual hash reads: an 8×8 grid of colours drawn from the seed, smoothly enlarged. honestPng's
 * few waves leave most low frequencies near zero, where a tiny change flips hash bits; a real model's
 * output, and this, do not.
 */
export function texturedPng(p: { seed: number; width: number; height: number; prompt?: string }) {
  const digest = createHash('sha512')
    .update(JSON.stringify(['textured', p.seed, p.prompt ?? '']))
    .digest();
  const grid = Buffer.alloc(8 * 8 * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = digest[i % digest.length]! ^ ((i >> 6) * 97);
  return sharp(grid, { raw: { width: 8, height: 8, channels: 3 } })
    .resize(p.width, p.height, { kernel: 'cubic', fit: 'fill' })
    .png()
    .toBuffer();
}

export function solidImage(width: number, height: number, grey = 90): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } })
    .png()
    .toBuffer();
}

/**
 * Suspends the donor the way a bad worker gets suspended: four blank results in a row (1 strike each), each
 * for a new job of `model`.
 */
export async function suspendWithBlanks(
  c: TestCoordinator,
  clock: ManualClock,
  donor: Donor,
  model: string,
  seedBase = 7000,
): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const submitted = await submitJobs(c, { model, seed: seedBase + i });
    if (submitted.statusCode !== 201) throw new Error(`submit failed: ${submitted.body}`);
    const job = await donor.pop([model]);
    if (!job) throw new Error('no job for the donor to spoil');
    clock.advance(2000);
    const res = await donor.upload(job, await solidImage(job.params.width, job.params.height, 30 + i));
    if (res.statusCode !== 422) throw new Error(`a blank was not refused: ${res.statusCode} ${res.body}`);
  }
  const state = (await donor.reputation()).json().state as string;
  if (state !== 'suspended') throw new Error(`four strikes left the donor ${state}`);
}

/**
 * Gives the donor a verified record: five jobs of a model of its own (seeds of their own too: the same
 * picture for another model's job would be a replay), each re-run by a partner of another account, so it
 * becomes trusted and its held earnings are paid to its owner. Answers the partner (trusted as well).
 */
export async function makeTrusted(
  c: TestCoordinator,
  clock: ManualClock,
  donor: Donor,
  o: { model: string; seedBase: number; steps?: number },
): Promise<Donor> {
  const partner = await Donor.create(c);
  for (let i = 0; i < 5; i++) {
    const submitted = await submitJobs(c, { model: o.model, seed: o.seedBase + i, steps: o.steps ?? 25 });
    if (submitted.statusCode !== 201) throw new Error(`submit failed: ${submitted.body}`);
    for (const d of [donor, partner]) {
      const job = await d.pop([o.model]);
      if (!job) throw new Error('nothing to run while building a record');
      clock.advance(2000);
      const res = await d.deliver(job);
      if (res.statusCode !== 200) throw new Error(`delivery failed: ${res.body}`);
    }
  }
  const state = (await donor.reputation()).json().state as string;
  if (state !== 'trusted') throw new Error(`five verified results left the donor ${state}`);
  return partner;
}

/** Width of pictureEmbedding's vectors: 3 channels × 7 × 7. */
export const PICTURE_EMBEDDING_DIM = 147;

/**
 * The test donors' image encoder: each channel's mean over a 7×7 grid, centred on grey. It is what the tiny
 * model's CLIP tower (@dreamfold/diffusion) reads before its random projection, so it sees colour and
 * layout as that tower does. The coordinator only compares the vectors workers send; the real ONNX tower
 * runs in the CLI's end-to-end test (the server does not depend on the worker's inference stack).
 */
export async function pictureEmbedding(png: Buffer): Promise<Float32Array> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(PICTURE_EMBEDDING_DIM);
  for (let c = 0; c < 3; c++) {
    const channel = new Float64Array(info.width * info.height);
    for (let i = 0; i < channel.length; i++) channel[i] = data[i * 3 + c]!;
    areaDownscale(channel, info.width, info.height, 7, 7).forEach((v, i) => (out[c * 49 + i] = v - 128));
  }
  return out;
}

/**
 * Another picture that pHash cannot tell from this one: the same luminance (BT.601, what pHash reads) in
 * the complementary hue, c' = Y − k·(c − Y), with k ≤ 1 only as far as needed to stay within 0–255.
 * A red apple turns cyan; its shape, and every perceptual-hash bit, stay.
 */
export async function complementaryColours(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = Buffer.alloc(data.length);
  for (let p = 0; p < data.length; p += 3) {
    const y = 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
    let k = 1;
    for (let c = 0; c < 3; c++) {
      const d = data[p + c]! - y;
      if (d > 0) k = Math.min(k, y / d);
      if (d < 0) k = Math.min(k, (255 - y) / -d);
    }
    const target = [0, 1, 2].map((c) => y - k * (data[p + c]! - y));
    // Rounded so the luminance stays as close as integers allow: on a picture of little contrast, plain
    // rounding's half-level errors follow the colours and move several hash bits.
    let best = { err: Infinity, rgb: [0, 0, 0] };
    for (const r of [Math.floor(target[0]!), Math.ceil(target[0]!)])
      for (const b of [Math.floor(target[2]!), Math.ceil(target[2]!)]) {
        const g = clamp((y - 0.299 * r - 0.114 * b) / 0.587);
        const err = Math.abs(0.299 * clamp(r) + 0.587 * g + 0.114 * clamp(b) - y);
        if (err < best.err) best = { err, rgb: [clamp(r), g, clamp(b)] };
      }
    out.set(best.rgb, p);
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } })
    .png()
    .toBuffer();
}
