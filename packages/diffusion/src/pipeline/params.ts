/** Generation parameters as jobs carry them, and their validation into clear, coded errors. */
import { DiffusionError } from '../errors.js';
import { randomSeed } from '../random.js';
import { isSamplerName, SAMPLER_NAMES } from '../schedulers/types.js';
import type { SamplerName } from '../schedulers/types.js';

export interface GenerateParams {
  prompt: string;
  negativePrompt?: string;
  /** Pixels; multiples of 8. */
  width: number;
  height: number;
  steps: number;
  /** Classifier-free guidance scale; ≤ 1 runs the UNet on the prompt alone (no negative/unconditional pass). */
  guidanceScale: number;
  sampler: SamplerName;
  /** 0 … 2^53−1; omitted → a random 32-bit seed, returned in the result. */
  seed?: number;
  /** img2img: a PNG or JPEG; resized (cover) to width×height. Needs vae_encoder/. */
  initImage?: Uint8Array;
  /** img2img: how much to change the init image, (0, 1]. Default 0.75. */
  strength?: number;
}

export interface ValidatedParams extends Required<Omit<GenerateParams, 'initImage' | 'strength'>> {
  initImage: Uint8Array | undefined;
  strength: number | undefined;
}

export interface SizeLimits {
  /** Largest width×height accepted (default 2048×2048). */
  maxPixels: number;
}

function invalid(message: string): DiffusionError {
  return new DiffusionError('invalid_params', message);
}

export function validateParams(params: GenerateParams, limits: SizeLimits): ValidatedParams {
  if (typeof params.prompt !== 'string') throw invalid('prompt must be a string');
  const negativePrompt = params.negativePrompt ?? '';
  if (typeof negativePrompt !== 'string') throw invalid('negativePrompt must be a string');
  for (const [name, value] of [
    ['width', params.width],
    ['height', params.height],
  ] as const) {
    if (!Number.isInteger(value) || value < 8 || value % 8 !== 0) {
      throw invalid(`${name} must be a positive multiple of 8 (the VAE downsamples by 8), got ${value}`);
    }
  }
  if (params.width * params.height > limits.maxPixels) {
    throw invalid(`${params.width}x${params.height} is over the limit of ${limits.maxPixels} pixels`);
  }
  if (!Number.isInteger(params.steps) || params.steps < 1 || params.steps > 1000) {
    throw invalid(`steps must be an integer from 1 to 1000, got ${params.steps}`);
  }
  if (!Number.isFinite(params.guidanceScale) || params.guidanceScale < 0 || params.guidanceScale > 100) {
    throw invalid(`guidanceScale must be a number from 0 to 100, got ${params.guidanceScale}`);
  }
  if (!isSamplerName(params.sampler)) {
    throw new DiffusionError(
      'unknown_sampler',
      `unknown sampler "${String(params.sampler)}"; known: ${SAMPLER_NAMES.join(', ')}`,
    );
  }
  const seed = params.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw invalid(`seed must be an integer from 0 to 2^53-1, got ${seed}`);
  let strength: number | undefined;
  if (params.initImage !== undefined) {
    strength = params.strength ?? 0.75;
    if (!(strength > 0 && strength <= 1)) throw invalid(`strength must be in (0, 1], got ${strength}`);
  } else if (params.strength !== undefined) {
    throw invalid('strength applies only with an initImage');
  }
  return {
    prompt: params.prompt,
    negativePrompt,
    width: params.width,
    height: params.height,
    steps: params.steps,
    guidanceScale: params.guidanceScale,
    sampler: params.sampler,
    seed,
    initImage: params.initImage,
    strength,
  };
}
