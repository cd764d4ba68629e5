// A backend for tests: no model, no GPU. It "denoises" for `steps` steps (a configurable delay each, so a
// test can catch a job mid-generation) and draws a deterministic picture of exactly the job's size: a
// gradient whose top-left pixel is the seed's colour (so tests can check that image i came from seed + i),
// overlaid with smooth waves whose frequencies and phases come from every generation parameter — like a
// real model, the same parameters always give the same picture and other parameters a different one.
//
// Behaviours simulate the donors a volunteer network must cope with (trust population tests):
//   honest   — the picture above, after the step delays;
//   lazy     — a blank (one-colour) image at once;
//   noise    — random pixels, after the step delays;
//   replay   — its first picture again for every later job (every other time re-encoded with a
//              one-level change, so only a perceptual hash finds it);
//   too-fast — skips the step delays and renders as if the job had one step (work it did not do);
//   wrong    — a plausible picture of another seed, after the step delays (only replication finds it).
// With badShare below 1 a worker misbehaves only on that share of its jobs (an intermittent fault, or a
// cheat trying to stay under the radar) and is honest on the rest.
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { GenerationParams, Hardware } from '@dreamfold/protocol';
import type { Backend, GenerateOptions, ModelInfo } from '../backend.js';

export const TEST_BEHAVIOURS = ['honest', 'lazy', 'noise', 'replay', 'too-fast', 'wrong'] as const;
export type TestBehaviour = (typeof TEST_BEHAVIOURS)[number];

export interface TestPatternOptions {
  models?: string[];
  maxPixels?: number;
  stepDelayMs?: number;
  /** Generation throws with this message (to exercise the fail path). */
  failWith?: string;
  behaviour?: TestBehaviour;
  /** The share of jobs (0–1) the behaviour applies to; the others are done honestly. Default 1. */
  badShare?: number;
  /** Declared in the hardware report (the coordinator compares speeds within one kind of GPU). */
  gpu?: string;
  /** Changes the reported model fingerprints, as a different copy of the weights would. */
  fingerprintSalt?: string;
}

export type PatternParams = Pick<GenerationParams, 'width' | 'height' | 'seed'> &
  Partial<Omit<GenerationParams, 'width' | 'height' | 'seed'>>;

export class TestPatternBackend implements Backend {
  readonly name = 'test-pattern';
  readonly loaded = new Set<string>();
  private replayed: Buffer | undefined;
  private replays = 0;

  constructor(private readonly options: TestPatternOptions = {}) {}

  async listModels(): Promise<ModelInfo[]> {
    const maxPixels = this.options.maxPixels ?? 1024 * 1024;
    return (this.options.models ?? ['test-model']).map((id) => ({
      id,
      maxPixels,
      fingerprint: testFingerprint(id, this.options.fingerprintSalt),
    }));
  }

  async load(modelId: string): Promise<void> {
    const known = (await this.listModels()).some((m) => m.id === modelId);
    if (!known) throw new Error(`Model ${modelId} is not served by this worker.`);
    this.loaded.add(modelId);
  }

  async generate(params: GenerationParams, { onProgress, signal }: GenerateOptions): Promise<Buffer> {
    const behaviour = this.misbehavesOn(params) ? (this.options.behaviour ?? 'honest') : 'honest';
    const skipWork = behaviour === 'lazy' || behaviour === 'too-fast';
    for (let step = 1; step <= params.steps; step++) {
      if (!skipWork) await delay(this.options.stepDelayMs ?? 0, signal);
      onProgress(step, params.steps);
    }
    if (this.options.failWith) throw new Error(this.options.failWith);
    switch (behaviour) {
      case 'honest':
        return testPattern(params);
      case 'lazy':
        return solidImage(params.width, params.height, seedColour(params.seed));
      case 'noise':
        return noiseImage(params.width, params.height);
      case 'too-fast':
        return testPattern({ ...params, steps: 1 });
      case 'wrong':
        return testPattern({ ...params, seed: (params.seed + 7919) % 4294967296 });
      case 'replay':
        return this.replay(params);
    }
  }

  /** Whether this job gets the bad behaviour: a fixed share of jobs, chosen by a hash of the parameters. */
  private misbehavesOn(params: GenerationParams): boolean {
    const share = this.options.badShare ?? 1;
    if (share >= 1) return true;
    const digest = createHash('sha256').update(`${params.seed}|${params.prompt}`).digest();
    return digest.readUInt32BE(0) / 2 ** 32 < share;
  }

  private async replay(params: GenerationParams): Promise<Buffer> {
    if (!this.replayed) {
      this.replayed = await testPattern(params);
      return this.replayed;
    }
    this.replays++;
    if (this.replays % 2 === 1) return this.replayed;
    // Re-encoded with every pixel one level brighter: other bytes, the same picture.
    return sharp(this.replayed).linear(1, 1).png().toBuffer();
  }

  async hardware(): Promise<Hardware> {
    return { provider: 'test-pattern', ...(this.options.gpu ? { gpu: this.options.gpu } : {}) };
  }

  async close(): Promise<void> {}
}

/** What a test-pattern worker reports as the SHA-256 of a model's weights. */
export function testFingerprint(model: string, salt = ''): string {
  return createHash('sha256').update(`test-pattern/${model}/${salt}`).digest('hex');
}

/** The colour of the top-left pixel of seed's pattern; tests compare against it. */
export function seedColour(seed: number): [number, number, number] {
  return [seed % 251, (seed * 7) % 253, (seed * 13) % 255];
}

export async function testPattern(params: PatternParams): Promise<Buffer> {
  const { width, height, seed } = params;
  const [r, g, b] = seedColour(seed);
  const waves = wavesOf(params);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      // Every wave is zero on the top row and the left column, so pixel (0, 0) keeps the seed's colour.
      let wave = 0;
      for (const w of waves) {
        wave +=
          w.amplitude *
          (Math.sin((2 * Math.PI * w.fx * x) / width + w.px) - Math.sin(w.px)) *
          Math.sin((2 * Math.PI * w.fy * y) / height);
      }
      pixels[i] = clamp(((r + Math.floor((x * 255) / width)) % 256) + wave);
      pixels[i + 1] = clamp(((g + Math.floor((y * 255) / height)) % 256) - wave);
      pixels[i + 2] = clamp(b + wave / 2);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Four waves whose shape follows from every parameter (a SHA-256 of them, read as small numbers). */
function wavesOf(params: PatternParams) {
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        params.seed,
        params.prompt ?? '',
        params.negativePrompt ?? '',
        params.model ?? '',
        params.steps ?? 0,
        params.guidanceScale ?? 0,
        params.sampler ?? '',
      ]),
    )
    .digest();
  return [0, 1, 2, 3].map((k) => ({
    amplitude: 40 + (digest[k * 4]! % 50),
    fx: 1 + (digest[k * 4 + 1]! % 6),
    fy: 1 + (digest[k * 4 + 2]! % 6),
    px: (digest[k * 4 + 3]! / 256) * 2 * Math.PI,
  }));
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function solidImage(width: number, height: number, [r, g, b]: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}

function noiseImage(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(abortError());
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const err = new Error('generation aborted');
  err.name = 'AbortError';
  return err;
}
