/**
 * Scheduler tables checked against values computed here, independently, from the published formulas
 * (DDPM scaled_linear betas, k-diffusion sigmas, Karras et al. eq. 5, diffusers' spacing rules), plus "oracle"
 * runs: when the model predicts the true noise, a deterministic sampler must land on the clean sample.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createScheduler,
  DEFAULT_SCHEDULER_CONFIG,
  isDiffusionError,
  parseSchedulerConfig,
  SeededRandom,
} from '../index.js';
import type { NoiseSource, SchedulerConfig } from '../index.js';

// Stable Diffusion 1.5's scheduler_config.json.
const SD15 = parseSchedulerConfig({
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
});

/** ᾱ_t = Π (1 − β_i), β_i = (√β_start + i/(N−1)·(√β_end − √β_start))². */
function referenceAlphasCumprod(): number[] {
  const out: number[] = [];
  let product = 1;
  for (let i = 0; i < 1000; i++) {
    const beta = (Math.sqrt(0.00085) + (i / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2;
    product *= 1 - beta;
    out.push(product);
  }
  return out;
}
const ACP = referenceAlphasCumprod();
const SIGMA = ACP.map((a) => Math.sqrt((1 - a) / a));

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

const noNoise: NoiseSource = { fill: (out) => out.fill(0) };

describe('scheduler tables', () => {
  it('SD 1.5 config: known sigma range (k-diffusion: 0.0292 … 14.6146)', () => {
    close(SIGMA[999]!, 14.6146, 1e-4, 'sigma_max');
    close(SIGMA[0]!, 0.0292, 1e-4, 'sigma_min');
  });

  it('euler, leading spacing, 50 steps, steps_offset 1 → 981, 961, …, 1 and sigma = √((1−ᾱ)/ᾱ)', () => {
    const s = createScheduler('euler', { ...SD15, timestepSpacing: 'leading' }, 50);
    const expected = Array.from({ length: 50 }, (_, i) => (49 - i) * 20 + 1);
    assert.equal(s.timesteps[0], 981);
    assert.deepEqual([...s.timesteps], expected);
    expected.forEach((t, i) => close(s.sigmas![i]!, SIGMA[t]!, 1e-9, `sigma ${i}`));
    assert.equal(s.sigmas![50], 0);
    // leading spacing: init noise σ = √(σ_max² + 1)
    close(s.initNoiseSigma, Math.sqrt(SIGMA[981]! ** 2 + 1), 1e-9, 'init noise sigma');
  });

  it('euler defaults to linspace spacing: fractional timesteps, interpolated sigmas', () => {
    const s = createScheduler('euler', SD15, 10);
    for (let i = 0; i < 10; i++) {
      const t = (999 * (9 - i)) / 9;
      close(s.timesteps[i]!, t, 1e-9, `t ${i}`);
      const lo = Math.floor(t);
      const w = t - lo;
      const sigma = lo >= 999 ? SIGMA[999]! : SIGMA[lo]! * (1 - w) + SIGMA[lo + 1]! * w;
      close(s.sigmas![i]!, sigma, 1e-9, `sigma ${i}`);
    }
    close(s.initNoiseSigma, SIGMA[999]!, 1e-9, 'init noise sigma');
  });

  it('euler_a: the same linspace sigmas; one step goes down to σ_down and adds σ_up of fresh noise', () => {
    const steps = 10;
    const s = createScheduler('euler_a', SD15, steps);
    // k-diffusion get_ancestral_step (η = 1): σ_up = √(σ_next²(σ² − σ_next²)/σ²), σ_down = √(σ_next² − σ_up²).
    const m = 0.8;
    const n = -1.5;
    for (let i = 0; i < steps; i++) {
      const t = (999 * (steps - 1 - i)) / (steps - 1);
      const lo = Math.floor(t);
      const sigma = lo >= 999 ? SIGMA[999]! : SIGMA[lo]! + (t - lo) * (SIGMA[lo + 1]! - SIGMA[lo]!);
      close(s.sigmas![i]!, sigma, 1e-9, `sigma ${i}`);
      const next = s.sigmas![i + 1]!;
      const up = Math.sqrt((next ** 2 * (sigma ** 2 - next ** 2)) / sigma ** 2);
      const down = Math.sqrt(next ** 2 - up ** 2);
      // ε-prediction: denoised = x − σ·m, d = (x − denoised)/σ = m, x' = x + d·(σ_down − σ) + n·σ_up.
      const x = new Float32Array([2]);
      s.step(new Float32Array([m]), i, x, { fill: (out) => out.fill(n) });
      close(x[0]!, 2 + m * (down - sigma) + n * up, 1e-5, `step ${i}`);
    }
    assert.equal(s.sigmas![steps], 0);
  });

  it('lcm: one step is the consistency boundary condition, then re-noising to the next timestep', () => {
    const s = createScheduler('lcm', { ...SD15, originalInferenceSteps: 50 }, 4);
    // diffusers LCMScheduler: σ_data = 0.5, timestep_scaling 10; c_skip = σ_d²/((10t)² + σ_d²),
    // c_out = 10t/√((10t)² + σ_d²); x̂0 = (x − √(1−ᾱ_t)·ε)/√ᾱ_t; x' = √ᾱ_next·(c_out·x̂0 + c_skip·x) + √(1−ᾱ_next)·n.
    const [x, eps, n] = [0.7, 0.3, -0.4];
    const cases: Array<[number, number | undefined]> = [
      [999, 759],
      [759, 499],
      [499, 259],
      [259, undefined],
    ];
    cases.forEach(([t, next], i) => {
      assert.equal(s.timesteps[i], t);
      const scaled = 10 * t;
      const cSkip = 0.25 / (scaled ** 2 + 0.25);
      const cOut = scaled / Math.sqrt(scaled ** 2 + 0.25);
      const x0 = (x - Math.sqrt(1 - ACP[t]!) * eps) / Math.sqrt(ACP[t]!);
      const denoised = cOut * x0 + cSkip * x;
      const expected =
        next === undefined ? denoised : Math.sqrt(ACP[next]!) * denoised + Math.sqrt(1 - ACP[next]!) * n;
      const sample = new Float32Array([x]);
      s.step(new Float32Array([eps]), i, sample, { fill: (out) => out.fill(n) });
      close(sample[0]!, expected, 1e-5, `lcm step ${i} (t = ${t})`);
    });
  });

  it('ddim: one η = 0 step from the formula, and set_alpha_to_one for the step after the last', () => {
    // x' = √ᾱ_prev·x̂0 + √(1−ᾱ_prev)·ε with x̂0 = (x − √(1−ᾱ_t)·ε)/√ᾱ_t; prev = t − 1000/steps.
    const [x, eps] = [1.2, -0.6];
    const step = (config: SchedulerConfig, i: number) => {
      const sample = new Float32Array([x]);
      createScheduler('ddim', config, 4).step(new Float32Array([eps]), i, sample, noNoise);
      return sample[0]!;
    };
    const x0 = (t: number) => (x - Math.sqrt(1 - ACP[t]!) * eps) / Math.sqrt(ACP[t]!);
    const at = (aPrev: number, t: number) => Math.sqrt(aPrev) * x0(t) + Math.sqrt(1 - aPrev) * eps;
    // leading, offset 1, 4 steps: 751, 501, 251, 1.
    close(step(SD15, 0), at(ACP[501]!, 751), 1e-5, 'first step');
    close(step(SD15, 3), at(ACP[0]!, 1), 1e-5, 'last step, ᾱ_prev = ᾱ_0');
    close(step({ ...SD15, setAlphaToOne: true }, 3), at(1, 1), 1e-5, 'last step, ᾱ_prev = 1');
  });

  it('trailing spacing rounds half to even: 3 steps → 999, 666, 332', () => {
    const s = createScheduler('ddim', { ...SD15, timestepSpacing: 'trailing' }, 3);
    // round(1000 − i·333.33…) − 1
    assert.deepEqual([...s.timesteps], [999, 666, 332]);
  });

  it('dpmpp_2m_karras: Karras sigmas with rho 7 and their nearest timesteps', () => {
    const steps = 20;
    const s = createScheduler('dpmpp_2m_karras', SD15, steps);
    const [minInv, maxInv] = [SIGMA[0]! ** (1 / 7), SIGMA[999]! ** (1 / 7)];
    for (let i = 0; i < steps; i++) {
      close(s.sigmas![i]!, (maxInv + (i / (steps - 1)) * (minInv - maxInv)) ** 7, 1e-9, `sigma ${i}`);
    }
    assert.equal(s.sigmas![steps], 0);
    assert.equal(s.timesteps[0], 999);
    for (let i = 0; i < steps; i++) {
      // The timestep whose (log-linearly interpolated) sigma is the Karras sigma, found here by bisection.
      const target = Math.log(s.sigmas![i]!);
      let [lo, hi] = [0, 999];
      for (let k = 0; k < 60; k++) {
        const mid = (lo + hi) / 2;
        const j = Math.min(Math.floor(mid), 998);
        const w = mid - j;
        const logSigma = Math.log(SIGMA[j]!) * (1 - w) + Math.log(SIGMA[j + 1]!) * w;
        if (logSigma < target) lo = mid;
        else hi = mid;
      }
      assert.ok(Math.abs(s.timesteps[i]! - lo) <= 0.5 + 1e-6, `t ${i}: ${s.timesteps[i]} vs ${lo}`);
    }
  });

  it('ddim: leading spacing by default and alphas from the same table', () => {
    const s = createScheduler('ddim', SD15, 50);
    assert.deepEqual(
      [...s.timesteps],
      Array.from({ length: 50 }, (_, i) => (49 - i) * 20 + 1),
    );
    assert.equal(s.initNoiseSigma, 1);
  });

  it('lcm: timesteps from the 50-step origin schedule', () => {
    const config = { ...SD15, originalInferenceSteps: 50 };
    // origin = (1..50)·20 − 1 reversed; picked at floor(linspace(0, 50, n, endpoint=False))
    assert.deepEqual([...createScheduler('lcm', config, 4).timesteps], [999, 759, 499, 259]);
    assert.deepEqual(
      [...createScheduler('lcm', config, 8).timesteps],
      [999, 879, 759, 639, 499, 379, 259, 139],
    );
  });

  it('img2img strength runs the last floor(steps·strength) steps', () => {
    const s = createScheduler('ddim', SD15, 50, { strength: 0.5 });
    assert.equal(s.timesteps.length, 25);
    assert.equal(s.timesteps[0], (49 - 25) * 20 + 1);
    assert.throws(
      () => createScheduler('ddim', SD15, 4, { strength: 0.1 }),
      (e) => isDiffusionError(e, 'invalid_params'),
    );
  });

  it('rejects unknown samplers and bad configs with coded errors', () => {
    assert.throws(
      () => createScheduler('plms', SD15, 10),
      (e) => isDiffusionError(e, 'unknown_sampler'),
    );
    assert.throws(
      () => parseSchedulerConfig({ beta_schedule: 'sigmoid' }),
      (e) => isDiffusionError(e, 'model_file_malformed') && e.file === 'scheduler/scheduler_config.json',
    );
    assert.equal(parseSchedulerConfig({}).betaSchedule, DEFAULT_SCHEDULER_CONFIG.betaSchedule);
  });

  it('linear betas follow β_i = β_start + i/(N−1)·(β_end − β_start)', () => {
    const config: SchedulerConfig = { ...SD15, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 };
    const s = createScheduler('ddim', config, 10, {});
    // t = 901 (leading, offset 1): ᾱ = Π_{i ≤ 901} (1 − β_i); check via one step with a zero model output:
    // x_prev = √ᾱ_prev/√ᾱ_t · x, for ε = 0.
    let acp = 1;
    const acpAt: number[] = [];
    for (let i = 0; i < 1000; i++) acpAt.push((acp *= 1 - (0.0001 + (i / 999) * (0.02 - 0.0001))));
    const x = new Float32Array([1]);
    s.step(new Float32Array([0]), 0, x, noNoise);
    close(x[0]!, Math.sqrt(acpAt[801]!) / Math.sqrt(acpAt[901]!), 1e-6, 'ddim step');
  });
});

describe('sampler oracle runs', () => {
  const x0 = new Float32Array([0.5, -1.25, 2, 0]);
  const eps = new Float32Array([1, -0.5, 0.25, -2]);

  /** Start from x0 noised to the first step, then feed `predict(modelInput, i, t)` for every step. */
  function run(
    sampler: string,
    config: SchedulerConfig,
    steps: number,
    predict: (input: Float32Array, i: number, t: number, sigma: number | undefined) => Float32Array,
    noise: NoiseSource = noNoise,
  ): Float32Array {
    const s = createScheduler(sampler, config, steps);
    const x = Float32Array.from(x0);
    s.addNoise(x, eps, 0);
    const input = new Float32Array(x.length);
    for (let i = 0; i < s.timesteps.length; i++) {
      s.scaleModelInput(x, i, input);
      s.step(predict(input, i, s.timesteps[i]!, s.sigmas?.[i]), i, x, noise);
    }
    return x;
  }

  for (const sampler of ['euler', 'dpmpp_2m_karras']) {
    it(`${sampler}: predicting the true noise recovers x0`, () => {
      const out = run(sampler, SD15, 12, () => eps);
      out.forEach((v, k) => close(v, x0[k]!, 1e-4, `${sampler}[${k}]`));
    });
  }

  it('euler_a: an oracle that knows x0 (ε = (x − x0)/σ) recovers x0 whatever the fresh noise', () => {
    // The model sees x/√(σ²+1); ancestral steps change the noise, so the oracle reads it off the sample.
    const out = run(
      'euler_a',
      SD15,
      12,
      (input, _i, _t, sigma) =>
        Float32Array.from(input, (v, k) => (v * Math.sqrt(sigma! ** 2 + 1) - x0[k]!) / sigma!),
      new SeededRandom(7),
    );
    out.forEach((v, k) => close(v, x0[k]!, 1e-4, `[${k}]`));
  });

  it('ddim: predicting the true noise lands on √ᾱ₀·x0 + √(1−ᾱ₀)·ε', () => {
    const out = run('ddim', SD15, 10, () => eps);
    out.forEach((v, k) =>
      close(v, Math.sqrt(ACP[0]!) * x0[k]! + Math.sqrt(1 - ACP[0]!) * eps[k]!, 1e-5, `[${k}]`),
    );
  });

  it('lcm: predicting the true noise recovers x0 (up to the tiny c_skip of the last step)', () => {
    // x_t = √ᾱ·x0 + √(1−ᾱ)·ε_t; the oracle reads ε_t off the sample (LCM re-noises between steps).
    const out = run('lcm', SD15, 4, (input, _i, t) =>
      Float32Array.from(input, (v, k) => (v - Math.sqrt(ACP[t]!) * x0[k]!) / Math.sqrt(1 - ACP[t]!)),
    );
    out.forEach((v, k) => close(v, x0[k]!, 1e-4, `[${k}]`));
  });

  it('v_prediction: v = √ᾱ·ε − √(1−ᾱ)·x0 recovers x0 (ddim, euler with integer timesteps)', () => {
    const vConfig = { ...SD15, predictionType: 'v_prediction' as const, timestepSpacing: 'leading' as const };
    const velocity = (t: number) => {
      const a = ACP[t]!;
      return Float32Array.from(eps, (e, k) => Math.sqrt(a) * e - Math.sqrt(1 - a) * x0[k]!);
    };
    const ddim = run('ddim', vConfig, 10, (_in, _i, t) => velocity(t));
    ddim.forEach((v, k) =>
      close(v, Math.sqrt(ACP[0]!) * x0[k]! + Math.sqrt(1 - ACP[0]!) * eps[k]!, 1e-5, `[${k}]`),
    );
    const euler = run('euler', vConfig, 10, (_in, _i, t) => velocity(t));
    euler.forEach((v, k) => close(v, x0[k]!, 1e-4, `euler[${k}]`));
  });

  it('v_prediction with dpmpp_2m_karras (α, σ from each step’s sigma)', () => {
    const vConfig = { ...SD15, predictionType: 'v_prediction' as const };
    const out = run('dpmpp_2m_karras', vConfig, 15, (_in, _i, _t, sigma) => {
      const alpha = 1 / Math.sqrt(sigma! ** 2 + 1);
      return Float32Array.from(eps, (e, k) => alpha * e - sigma! * alpha * x0[k]!);
    });
    out.forEach((v, k) => close(v, x0[k]!, 1e-4, `[${k}]`));
  });

  it('dpmpp_2m_karras matches k-diffusion sample_dpmpp_2m on a non-oracle model (second-order term)', () => {
    // A model whose prediction changes from step to step, so the multistep correction is non-zero.
    const predict = (input: Float32Array, sigma: number) =>
      Float64Array.from(input, (v, k) => 0.3 * v + 0.1 * (k - 1.5) + 0.05 * Math.log(sigma));
    const steps = 8;
    const s = createScheduler('dpmpp_2m_karras', SD15, steps);
    const sigmas = [...s.sigmas!];
    // Ours: variance-preserving sample, unscaled model input.
    const ours = Float32Array.from(x0);
    s.addNoise(ours, eps, 0);
    for (let i = 0; i < steps; i++) {
      const input = new Float32Array(ours.length);
      s.scaleModelInput(ours, i, input);
      s.step(Float32Array.from(predict(input, sigmas[i]!)), i, ours, noNoise);
    }
    // k-diffusion (Karras) form: x = x0 + σ·ε, model sees x/√(σ²+1), denoised = x − σ·ε̂, t = −log σ.
    let x = Array.from(x0, (v, k) => v + sigmas[0]! * eps[k]!);
    let old: number[] | undefined;
    for (let i = 0; i < steps; i++) {
      const sigma = sigmas[i]!;
      const next = sigmas[i + 1]!;
      const e = predict(
        Float32Array.from(x, (v) => v / Math.sqrt(sigma ** 2 + 1)),
        sigma,
      );
      const denoised = x.map((v, k) => v - sigma * e[k]!);
      if (next === 0) {
        x = denoised;
      } else {
        const h = -Math.log(next) + Math.log(sigma);
        let d = denoised;
        if (old) {
          const r = (-Math.log(sigma) + Math.log(sigmas[i - 1]!)) / h;
          const prev = old;
          d = denoised.map((v, k) => (1 + 1 / (2 * r)) * v - (1 / (2 * r)) * prev[k]!);
        }
        x = x.map((v, k) => (next / sigma) * v - Math.expm1(-h) * d[k]!);
      }
      old = denoised;
    }
    ours.forEach((v, k) => close(v, x[k]!, 1e-4, `[${k}]`));
  });
});
