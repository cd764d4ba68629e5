/**
 * DDIM (Song et al. 2021) with η = 0, as diffusers' DDIMScheduler: integer timesteps, the previous timestep is
 * always t − N // steps, and the step after the last uses alphas_cumprod[0] (or 1 with set_alpha_to_one).
 */
import type { SchedulerConfig } from './config.js';
import { alphasCumprod, roundHalfEven, spacedTimesteps } from './tables.js';
import type { Scheduler } from './types.js';

export class DdimScheduler implements Scheduler {
  readonly sampler = 'ddim' as const;
  readonly timesteps: Float64Array;
  readonly sigmas = undefined;
  readonly initNoiseSigma = 1;
  private readonly acp: Float64Array;
  private readonly finalAlpha: number;
  private readonly stride: number;
  private readonly config: SchedulerConfig;

  constructor(config: SchedulerConfig, steps: number, startIndex: number) {
    this.config = config;
    this.acp = alphasCumprod(config);
    this.finalAlpha = config.setAlphaToOne ? 1 : this.acp[0]!;
    this.stride = Math.floor(config.numTrainTimesteps / steps);
    const spacing = config.timestepSpacing ?? 'leading';
    this.timesteps = spacedTimesteps(config, steps, spacing).map(roundHalfEven).slice(startIndex);
  }

  private alphaAt(t: number): number {
    return t >= 0 ? this.acp[Math.min(t, this.acp.length - 1)]! : this.finalAlpha;
  }

  scaleModelInput(sample: Float32Array, _i: number, out: Float32Array): void {
    out.set(sample);
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array): void {
    const t = this.timesteps[i]!;
    const a = this.alphaAt(t);
    const aPrev = this.alphaAt(t - this.stride);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const saPrev = Math.sqrt(aPrev);
    const sbPrev = Math.sqrt(1 - aPrev);
    const v = this.config.predictionType === 'v_prediction';
    const clip = this.config.clipSample ? this.config.clipSampleRange : Infinity;
    for (let k = 0; k < sample.length; k++) {
      const x = sample[k]!;
      const m = modelOutput[k]!;
      let x0 = v ? sa * x - sb * m : (x - sb * m) / sa;
      x0 = Math.min(clip, Math.max(-clip, x0));
      // With clipping, ε is re-derived from the clipped x0 (diffusers does the same).
      const eps = v ? sa * m + sb * x : clip === Infinity ? m : (x - sa * x0) / sb;
      sample[k] = saPrev * x0 + sbPrev * eps;
    }
  }

  addNoise(latents: Float32Array, noise: Float32Array, i: number): void {
    const a = this.alphaAt(this.timesteps[i]!);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    for (let k = 0; k < latents.length; k++) latents[k] = sa * latents[k]! + sb * noise[k]!;
  }
}
