// The protocol's constants the pages need, copied here because importing any value from
// @dreamfold/protocol pulls TypeBox and every schema into the bundle (~18 kB gzipped). The copies cannot
// drift: `satisfies` checks each literal against the protocol's own type at compile time, and
// protocol-constants.test.ts compares them with the protocol's runtime values (schemas included).
import type {
  ACCESS_STAGES as ProtocolAccessStages,
  GENERATION_DEFAULTS as ProtocolDefaults,
  LIMITS as ProtocolLimits,
  OCCUPATIONS as ProtocolOccupations,
  SAMPLERS as ProtocolSamplers,
} from '@dreamfold/protocol';

export const LIMITS = {
  promptChars: 2000,
  minSide: 64,
  maxSide: 2048,
  maxSteps: 150,
  maxGuidance: 30,
  maxImagesPerRequest: 4,
  maxSeed: 4294967295,
} as const satisfies typeof ProtocolLimits;

export const GENERATION_DEFAULTS = {
  negativePrompt: '',
  width: 512,
  height: 512,
  steps: 25,
  guidanceScale: 7,
  sampler: 'euler_a',
  n: 1,
} as const satisfies typeof ProtocolDefaults;

export const SAMPLERS = [
  'euler',
  'euler_a',
  'dpmpp_2m_karras',
  'ddim',
  'lcm',
] as const satisfies typeof ProtocolSamplers;
export const OCCUPATIONS = [
  'researcher',
  'ml_engineer',
  'journalist',
  'educator',
  'decision_maker',
  'other',
] as const satisfies typeof ProtocolOccupations;
export const ACCESS_STAGES = ['research', 'open'] as const satisfies typeof ProtocolAccessStages;

/** Bounds of account fields, from the schemas in packages/protocol/src/auth.ts. */
export const ACCOUNT_LIMITS = {
  passwordMin: 10,
  passwordMax: 256,
  email: 254,
  displayName: 120,
  affiliation: 200,
  intendedUse: 2000,
} as const;
