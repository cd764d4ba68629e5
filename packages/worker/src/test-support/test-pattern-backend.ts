// A backend for tests: no model, no GPU. It "denoises" for `steps` steps (a configurable delay each, so a
// test can catch a job mid-generation) and draws a deterministic gradient from the seed at exactly the
// job's size, so tests can check that image i really came from seed + i.
import sharp from 'sharp';
import type { GenerationParams, Hardware } from '@dreamfold/protocol';
import type { Backend, GenerateOptions, ModelInfo } from '../backend.js';

export interface TestPatternOptions {
  models?: string[];
  maxPixels?: number;
  stepDelayMs?: number;
  /** Generation throws with this message (to exercise the fail path). */
  failWith?: string;
}

export class TestPatternBackend implements Backend {
  readonly name = 'test-pattern';
  readonly loaded = new Set<string>();

  constructor(private readonly options: TestPatternOptions = {}) {}

  async listModels(): Promise<ModelInfo[]> {
    const maxPixels = this.options.maxPixels ?? 1024 * 1024;
    return (this.options.models ?? ['test-model']).map((id) => ({ id, maxPixels }));
  }

  async load(modelId: string): Promise<void> {
    const known = (await this.listModels()).some((m) => m.id === modelId);
    if (!known) throw new Error(`Model ${modelId} is not served by this worker.`);
    this.loaded.add(modelId);
  }

  async generate(params: GenerationParams, { onProgress, signal }: GenerateOptions): Promise<Buffer> {
    for (let step = 1; step <= params.steps; step++) {
      await delay(this.options.stepDelayMs ?? 0, signal);
      onProgress(step, params.steps);
    }
    if (this.options.failWith) throw new Error(this.options.failWith);
    return testPattern(params.width, params.height, params.seed);
  }

  async hardware(): Promise<Hardware> {
    return { provider: 'test-pattern' };
  }

  async close(): Promise<void> {}
}

/** The colour of the top-left pixel of seed's pattern; tests compare against it. */
export function seedColour(seed: number): [number, number, number] {
  return [seed % 251, (seed * 7) % 253, (seed * 13) % 255];
}

export async function testPattern(width: number, height: number, seed: number): Promise<Buffer> {
  const [r, g, b] = seedColour(seed);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (r + Math.floor((x * 255) / width)) % 256;
      pixels[i + 1] = (g + Math.floor((y * 255) / height)) % 256;
      pixels[i + 2] = b;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
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
