/**
 * Euler and Euler-ancestral samplers (Karras et al. 2022, k-diffusion), with diffusers' table construction
 * (EulerDiscreteScheduler / EulerAncestralDiscreteScheduler): sigmas interpolated at the spaced timesteps, then 0.
 */
import type { SchedulerConfig } from './config.js';
import { alphasCumprod, interpolate, spacedTimesteps, trainingSigmas } from './tables.js';
import type { NoiseSource, Scheduler } from './types.js';

export class EulerScheduler implements Scheduler {
  readonly sampler: 'euler' | 'euler_a';
  readonly timesteps: Float64Array;
  readonly sigmas: Float64Array;
  readonly initNoiseSigma: number;
  private readonly vPrediction: boolean;
  private noiseBuffer: Float32Array | undefined;

  constructor(config: SchedulerConfig, steps: number, startIndex: number, ancestral: boolean) {
    this.sampler = ancestral ? 'euler_a' : 'euler';
    this.vPrediction = config.predictionType === 'v_prediction';
    const spacing = config.timestepSpacing ?? 'linspace';
    const all = spacedTimesteps(config, steps, spacing);
    const table = trainingSigmas(alphasCumprod(config));
    const sigmas = new Float64Array(steps + 1);
    all.forEach((t, i) => (sigmas[i] = interpolate(table, t)));
    const maxSigma = Math.max(...sigmas);
    // diffusers: with "leading" spacing the first timestep is not the last training one, hence the +1.
    this.initNoiseSigma = spacing === 'leading' ? Math.sqrt(maxSigma ** 2 + 1) : maxSigma;
    this.timesteps = all.slice(startIndex);
    this.sigmas = sigmas.slice(startIndex);
  }

  scaleModelInput(sample: Float32Array, i: number, out: Float32Array): void {
    const scale = 1 / Math.sqrt(this.sigmas[i]! ** 2 + 1);
    for (let k = 0; k < sample.length; k++) out[k] = sample[k]! * scale;
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array, noise: NoiseSource): void {
    const sigma = this.sigmas[i]!;
    const sigmaNext = this.sigmas[i + 1]!;
    // Ancestral: step down to sigmaDown deterministically, then add fresh noise of size sigmaUp.
    let sigmaTo = sigmaNext;
    let sigmaUp = 0;
    if (this.sampler === 'euler_a') {
      sigmaUp = Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2);
      sigmaTo = Math.sqrt(sigmaNext ** 2 - sigmaUp ** 2);
    }
    const dt = sigmaTo - sigma;
    const c = 1 / (sigma ** 2 + 1);
    const cOut = -sigma / Math.sqrt(sigma ** 2 + 1);
    let fresh: Float32Array | undefined;
    if (sigmaUp > 0) {
      fresh = this.noiseBuffer?.length === sample.length ? this.noiseBuffer : new Float32Array(sample.length);
      this.noiseBuffer = fresh;
      noise.fill(fresh);
    }
    for (let k = 0; k < sample.length; k++) {
      const x = sample[k]!;
      const m = modelOutput[k]!;
      const denoised = this.vPrediction ? m * cOut + x * c : x - sigma * m;
      let next = x + ((x - denoised) / sigma) * dt;
      if (fresh) next += fresh[k]! * sigmaUp;
      sample[k] = next;
    }
  }

  addNoise(latents: Float32Array, noise: Float32Array, i: number): void {
    const sigma = this.sigmas[i]!;
    for (let k = 0; k < latents.length; k++) latents[k] = latents[k]! + noise[k]! * sigma;
  }
}
