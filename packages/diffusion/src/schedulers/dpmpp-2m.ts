/**
 * DPM-Solver++(2M) with Karras sigmas (Lu et al. 2022; diffusers DPMSolverMultistepScheduler with
 * algorithm_type="dpmsolver++", solver_order=2, use_karras_sigmas=True, final_sigmas_type="zero").
 *
 * Unlike Euler, the sample stays in variance-preserving form x = α·x0 + σ_vp·ε with α = 1/sqrt(σ²+1),
 * σ_vp = σ·α, so the model input is not rescaled and the initial noise has unit scale.
 */
import type { SchedulerConfig } from './config.js';
import { alphasCumprod, karrasSigmas, roundHalfEven, sigmaToTimestep, trainingSigmas } from './tables.js';
import type { Scheduler } from './types.js';

export class DpmSolverMultistepScheduler implements Scheduler {
  readonly sampler = 'dpmpp_2m_karras' as const;
  readonly timesteps: Float64Array;
  readonly sigmas: Float64Array;
  readonly initNoiseSigma = 1;
  private readonly vPrediction: boolean;
  private previousDenoised: Float32Array | undefined;
  private denoised: Float32Array | undefined;

  constructor(config: SchedulerConfig, steps: number, startIndex: number) {
    this.vPrediction = config.predictionType === 'v_prediction';
    const table = trainingSigmas(alphasCumprod(config));
    const karras = karrasSigmas(table[0]!, table[table.length - 1]!, steps);
    const sigmas = new Float64Array(steps + 1);
    sigmas.set(karras);
    this.timesteps = karras.map((s) => roundHalfEven(sigmaToTimestep(s, table))).slice(startIndex);
    this.sigmas = sigmas.slice(startIndex);
  }

  scaleModelInput(sample: Float32Array, _i: number, out: Float32Array): void {
    out.set(sample);
  }

  step(modelOutput: Float32Array, i: number, sample: Float32Array): void {
    const [alphaS, sigmaS] = vp(this.sigmas[i]!);
    const denoised =
      this.denoised?.length === sample.length ? this.denoised : new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const x = sample[k]!;
      const m = modelOutput[k]!;
      denoised[k] = this.vPrediction ? alphaS * x - sigmaS * m : (x - sigmaS * m) / alphaS;
    }
    const sigmaNext = this.sigmas[i + 1]!;
    const last = i === this.timesteps.length - 1;
    if (sigmaNext === 0) {
      // The limit of the first-order update as σ → 0: the denoised estimate itself.
      sample.set(denoised);
    } else {
      const [alphaT, sigmaT] = vp(sigmaNext);
      const h = lambda(alphaT, sigmaT) - lambda(alphaS, sigmaS);
      const ratio = sigmaT / sigmaS;
      const phi = alphaT * (Math.exp(-h) - 1);
      const previous = this.previousDenoised;
      if (i === 0 || last || !previous) {
        for (let k = 0; k < sample.length; k++) sample[k] = ratio * sample[k]! - phi * denoised[k]!;
      } else {
        const [alphaP, sigmaP] = vp(this.sigmas[i - 1]!);
        const r = (lambda(alphaS, sigmaS) - lambda(alphaP, sigmaP)) / h;
        for (let k = 0; k < sample.length; k++) {
          const d1 = (denoised[k]! - previous[k]!) / r;
          sample[k] = ratio * sample[k]! - phi * denoised[k]! - 0.5 * phi * d1;
        }
      }
    }
    // Keep this step's estimate for the next second-order update; recycle the older buffer.
    this.denoised = this.previousDenoised;
    this.previousDenoised = denoised;
  }

  addNoise(latents: Float32Array, noise: Float32Array, i: number): void {
    const [alpha, sigma] = vp(this.sigmas[i]!);
    for (let k = 0; k < latents.length; k++) latents[k] = alpha * latents[k]! + sigma * noise[k]!;
  }
}

function vp(sigma: number): [alpha: number, sigma: number] {
  const alpha = 1 / Math.sqrt(sigma ** 2 + 1);
  return [alpha, sigma * alpha];
}

function lambda(alpha: number, sigma: number): number {
  return Math.log(alpha) - Math.log(sigma);
}
