/**
 * scheduler/scheduler_config.json → the numbers every sampler needs. Field names and defaults follow diffusers,
 * so a folder exported by Optimum configures our samplers the way it configures the reference ones.
 */
import { DiffusionError } from '../errors.js';
import { optionalNumber, optionalString } from '../model-files.js';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  predictionType: PredictionType;
  stepsOffset: number;
  /** Absent in many SD 1.x configs; each sampler then uses its diffusers class default. */
  timestepSpacing: TimestepSpacing | undefined;
  /** DDIM/LCM: the alpha used after the last step (1.0, or alphas_cumprod[0] when false). */
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
  /** LCM: the distilled schedule length and the boundary-condition time scaling. */
  originalInferenceSteps: number;
  timestepScaling: number;
}

/** diffusers' defaults (SD 1.5's PNDM config overrides betas and steps_offset). */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  predictionType: 'epsilon',
  stepsOffset: 0,
  timestepSpacing: undefined,
  setAlphaToOne: false,
  clipSample: false,
  clipSampleRange: 1,
  originalInferenceSteps: 50,
  timestepScaling: 10,
};

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  key: string,
  file: string,
) {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new DiffusionError(
      'model_file_malformed',
      `${file}: "${key}" is "${value}"; supported: ${allowed.join(', ')}`,
      { file },
    );
  }
  return value as T;
}

export function parseSchedulerConfig(
  json: Record<string, unknown>,
  file = 'scheduler/scheduler_config.json',
): SchedulerConfig {
  const d = DEFAULT_SCHEDULER_CONFIG;
  const num = (key: string) => optionalNumber(json, key, file);
  const bool = (key: string, fallback: boolean) =>
    typeof json[key] === 'boolean' ? (json[key] as boolean) : fallback;
  if (json['trained_betas'] !== undefined && json['trained_betas'] !== null) {
    throw new DiffusionError('model_unsupported', `${file}: "trained_betas" is not supported`, { file });
  }
  const config: SchedulerConfig = {
    numTrainTimesteps: num('num_train_timesteps') ?? d.numTrainTimesteps,
    betaStart: num('beta_start') ?? d.betaStart,
    betaEnd: num('beta_end') ?? d.betaEnd,
    betaSchedule:
      oneOf(
        optionalString(json, 'beta_schedule', file),
        ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const,
        'beta_schedule',
        file,
      ) ?? d.betaSchedule,
    predictionType:
      oneOf(
        optionalString(json, 'prediction_type', file),
        ['epsilon', 'v_prediction'] as const,
        'prediction_type',
        file,
      ) ?? d.predictionType,
    stepsOffset: num('steps_offset') ?? d.stepsOffset,
    timestepSpacing: oneOf(
      optionalString(json, 'timestep_spacing', file),
      ['leading', 'trailing', 'linspace'] as const,
      'timestep_spacing',
      file,
    ),
    setAlphaToOne: bool('set_alpha_to_one', d.setAlphaToOne),
    clipSample: bool('clip_sample', d.clipSample),
    clipSampleRange: num('clip_sample_range') ?? d.clipSampleRange,
    originalInferenceSteps: num('original_inference_steps') ?? d.originalInferenceSteps,
    timestepScaling: num('timestep_scaling') ?? d.timestepScaling,
  };
  if (!Number.isInteger(config.numTrainTimesteps) || config.numTrainTimesteps < 2) {
    throw new DiffusionError(
      'model_file_malformed',
      `${file}: "num_train_timesteps" must be an integer ≥ 2`,
      { file },
    );
  }
  if (!(config.betaStart > 0 && config.betaEnd > 0 && config.betaStart < 1 && config.betaEnd < 1)) {
    throw new DiffusionError('model_file_malformed', `${file}: betas must lie in (0, 1)`, { file });
  }
  return config;
}
