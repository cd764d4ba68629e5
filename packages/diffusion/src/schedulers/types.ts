/** The samplers offered across the platform, by the names jobs and PNG metadata use. */
export const SAMPLER_NAMES = ['euler', 'euler_a', 'dpmpp_2m_karras', 'ddim', 'lcm'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export function isSamplerName(value: unknown): value is SamplerName {
  return typeof value === 'string' && (SAMPLER_NAMES as readonly string[]).includes(value);
}

/** A source of standard-normal noise (ancestral samplers and LCM draw fresh noise each step). */
export interface NoiseSource {
  fill(out: Float32Array): void;
}

/**
 * One denoising run. Index `i` counts the steps of this run (0 … timesteps.length-1); for img2img the run starts
 * part-way down the schedule, so `timesteps` is already the truncated list.
 */
export interface Scheduler {
  readonly sampler: SamplerName;
  /** The timestep given to the UNet at each step, descending (may be fractional; see `unetTimestep`). */
  readonly timesteps: Float64Array;
  /** Noise sigmas per step plus the final one, for samplers that work in sigma space (else undefined). */
  readonly sigmas: Float64Array | undefined;
  /** Scale of the initial latent noise for text-to-image. */
  readonly initNoiseSigma: number;
  /** Model input for step i, written into `out` (samplers in sigma space divide by sqrt(σ²+1)). */
  scaleModelInput(sample: Float32Array, i: number, out: Float32Array): void;
  /** Advance `sample` in place by one step given the model's output for it. */
  step(modelOutput: Float32Array, i: number, sample: Float32Array, noise: NoiseSource): void;
  /** Noise clean latents to the level of step `i` (img2img), in place on `latents`. */
  addNoise(latents: Float32Array, noise: Float32Array, i: number): void;
}
