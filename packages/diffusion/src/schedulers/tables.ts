/**
 * The noise-schedule tables shared by the samplers, in float64: betas, alphas_cumprod, sigmas, timestep spacing,
 * Karras sigmas and sigma→timestep interpolation, each as in diffusers.
 */
import type { SchedulerConfig, TimestepSpacing } from './config.js';

export function betas(config: SchedulerConfig): Float64Array {
  const n = config.numTrainTimesteps;
  const out = new Float64Array(n);
  if (config.betaSchedule === 'linear') {
    for (let i = 0; i < n; i++)
      out[i] = config.betaStart + ((config.betaEnd - config.betaStart) * i) / (n - 1);
  } else if (config.betaSchedule === 'scaled_linear') {
    // Linear in sqrt(beta) — the schedule SD was trained with.
    const a = Math.sqrt(config.betaStart);
    const b = Math.sqrt(config.betaEnd);
    for (let i = 0; i < n; i++) out[i] = (a + ((b - a) * i) / (n - 1)) ** 2;
  } else {
    const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  }
  return out;
}

export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const b = betas(config);
  const out = new Float64Array(b.length);
  let acc = 1;
  for (let i = 0; i < b.length; i++) out[i] = acc *= 1 - b[i]!;
  return out;
}

/** Karras/k-diffusion sigma of each training timestep: sqrt((1 - ᾱ) / ᾱ). */
export function trainingSigmas(acp: Float64Array): Float64Array {
  return acp.map((a) => Math.sqrt((1 - a) / a));
}

/** NumPy rounds half to even; the timestep tables depend on it (e.g. 1000/3 spacing). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Descending model timesteps for `steps` inference steps (float; "linspace" gives fractions).
 * leading:  (arange(steps) * (N // steps)).round()[::-1] + steps_offset
 * trailing: arange(N, 0, -N / steps).round() - 1
 * linspace: linspace(0, N - 1, steps)[::-1]
 */
export function spacedTimesteps(
  config: SchedulerConfig,
  steps: number,
  spacing: TimestepSpacing,
): Float64Array {
  const n = config.numTrainTimesteps;
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    if (spacing === 'leading') {
      out[i] = (steps - 1 - i) * Math.floor(n / steps) + config.stepsOffset;
    } else if (spacing === 'trailing') {
      out[i] = roundHalfEven(n - (i * n) / steps) - 1;
    } else {
      out[i] = steps === 1 ? 0 : ((n - 1) * (steps - 1 - i)) / (steps - 1);
    }
  }
  return out;
}

/** np.interp(x, arange(len(table)), table): linear interpolation on a unit-spaced table, clamped at the ends. */
export function interpolate(table: Float64Array, x: number): number {
  if (x <= 0) return table[0]!;
  const last = table.length - 1;
  if (x >= last) return table[last]!;
  const i = Math.floor(x);
  const w = x - i;
  return table[i]! * (1 - w) + table[i + 1]! * w;
}

/** Karras et al. (2022) eq. 5 with rho = 7, from sigmaMax down to sigmaMin. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, steps: number, rho = 7): Float64Array {
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const ramp = steps === 1 ? 0 : i / (steps - 1);
    out[i] = (maxInv + ramp * (minInv - maxInv)) ** rho;
  }
  return out;
}

/** The (fractional) training timestep whose log-sigma interpolates to `sigma` — diffusers' `_sigma_to_t`. */
export function sigmaToTimestep(sigma: number, sigmas: Float64Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < sigmas.length; i++) if (Math.log(sigmas[i]!) <= logSigma) low = i;
  low = Math.min(low, sigmas.length - 2);
  const lo = Math.log(sigmas[low]!);
  const hi = Math.log(sigmas[low + 1]!);
  const w = Math.min(1, Math.max(0, (lo - logSigma) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}
