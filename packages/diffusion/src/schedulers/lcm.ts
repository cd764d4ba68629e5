/**
 * Latent Consistency Model sampler (Luo et al. 2023), as diffusers' LCMScheduler: timesteps are picked from the
 * distilled "origin" schedule of `original_inference_steps`, each step predicts the clean latent through the
 * consistency boundary condition, then re-noises it to the next timestep with fresh noise.
 */
import { DiffusionError } from '../errors.js';
import type { SchedulerConfig } from './config.js';
import { alphasCumprod } from './tables.js';
import type { NoiseSource, Scheduler } from './types.js';

/** Descending LCM timesteps: origin = (1..orig)·(N // orig) − 1 reversed, taken at floor(linspace(0, orig, steps)). */
export function lcmTimesteps(config: SchedulerConfig, steps: number): Float64Array {
  const orig = config.originalInferenceSteps;
  if (steps > orig) {
    throw new DiffusionError(
      'invalid_params',
      `lcm supports at most ${orig} steps (original_inference_steps of the scheduler config)`,
    );
  }
  const k = Math.floor(config.numTrainTimesteps / orig);
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const index = Math.floor((i * orig) / steps);
    out[i] = (orig - index) * k - 1;
  }
  return out;
}

export class LcmScheduler implements Scheduler {
  readonly sampler = 'lcm' as const;
  readonly timesteps: Float64Array;
  readonly sigmas = undefined;
  readonly initNoiseSigma = 1;
  private readonly acp: Float64Array;
  private readonly config: SchedulerConfig;
  private noiseBuffer: Float32Array | undefined;

  constructor(config: SchedulerConfig, steps: number, startIndex: number) {
    this.config = config;
    this.acp = alphasCumprod(config);
    this.timesteps = lcmTimesteps(config, steps).slice(startIndex);
  }

  private alphaAt(t: number): number {
    return t >= 0 ? this.acp[t]! : this.config.setAlphaToOne ? 1 : this.acp[0]!;
  }

  scaleModelInput(sample: Float32Array, _i: number, out: Float32Array): void {
    out.set(sample);
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array, noise: NoiseSource): void {
    const t = this.timesteps[i]!;
    const last = i === this.timesteps.length - 1;
    const a = this.alphaAt(t);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    // Consistency-model boundary condition (σ_data = 0.5) on the scaled timestep.
    const scaled = t * this.config.timestepScaling;
    const cSkip = 0.25 / (scaled ** 2 + 0.25);
    const cOut = scaled / Math.sqrt(scaled ** 2 + 0.25);
    const v = this.config.predictionType === 'v_prediction';
    let fresh: Float32Array | undefined;
    let saNext = 0;
    let sbNext = 0;
    if (!last) {
      const aNext = this.alphaAt(this.timesteps[i + 1]!);
      saNext = Math.sqrt(aNext);
      sbNext = Math.sqrt(1 - aNext);
      fresh = this.noiseBuffer?.length === sample.length ? this.noiseBuffer : new Float32Array(sample.length);
      this.noiseBuffer = fresh;
      noise.fill(fresh);
    }
    for (let k = 0; k < sample.length; k++) {
      const x = sample[k]!;
      const m = modelOutput[k]!;
      const x0 = v ? sa * x - sb * m : (x - sb * m) / sa;
      const denoised = cOut * x0 + cSkip * x;
      sample[k] = fresh ? saNext * denoised + sbNext * fresh[k]! : denoised;
    }
  }

  addNoise(latents: Float32Array, noise: Float32Array, i: number): void {
    const a = this.alphaAt(this.timesteps[i]!);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    for (let k = 0; k < latents.length; k++) latents[k] = sa * latents[k]! + sb * noise[k]!;
  }
}
