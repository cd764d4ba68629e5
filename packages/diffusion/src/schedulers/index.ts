import { DiffusionError } from '../errors.js';
import type { SchedulerConfig } from './config.js';
import { DdimScheduler } from './ddim.js';
import { DpmSolverMultistepScheduler } from './dpmpp-2m.js';
import { EulerScheduler } from './euler.js';
import { LcmScheduler } from './lcm.js';
import { isSamplerName, SAMPLER_NAMES } from './types.js';
import type { Scheduler } from './types.js';

export interface CreateSchedulerOptions {
  /**
   * img2img: how much of the schedule to run (0 < strength ≤ 1). As in diffusers, the run skips the first
   * steps − floor(steps · strength) steps, so `timesteps.length` is floor(steps · strength).
   */
  strength?: number;
}

/** A sampler by its platform name, configured from the model's scheduler config, for `steps` inference steps. */
export function createScheduler(
  sampler: string,
  config: SchedulerConfig,
  steps: number,
  options: CreateSchedulerOptions = {},
): Scheduler {
  if (!isSamplerName(sampler)) {
    throw new DiffusionError(
      'unknown_sampler',
      `unknown sampler "${sampler}"; known: ${SAMPLER_NAMES.join(', ')}`,
    );
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > 1000) {
    throw new DiffusionError('invalid_params', `steps must be an integer from 1 to 1000, got ${steps}`);
  }
  const strength = options.strength ?? 1;
  if (!(strength > 0 && strength <= 1)) {
    throw new DiffusionError('invalid_params', `strength must be in (0, 1], got ${strength}`);
  }
  const run = Math.min(Math.floor(steps * strength), steps);
  if (run < 1) {
    throw new DiffusionError(
      'invalid_params',
      `strength ${strength} with ${steps} steps leaves no step to run; raise steps or strength`,
    );
  }
  const start = steps - run;
  switch (sampler) {
    case 'euler':
      return new EulerScheduler(config, steps, start, false);
    case 'euler_a':
      return new EulerScheduler(config, steps, start, true);
    case 'dpmpp_2m_karras':
      return new DpmSolverMultistepScheduler(config, steps, start);
    case 'ddim':
      return new DdimScheduler(config, steps, start);
    case 'lcm':
      return new LcmScheduler(config, steps, start);
  }
}
