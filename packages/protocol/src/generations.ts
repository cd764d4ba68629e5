import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';
import { ImageSafety } from './safety.js';
import { GenerationEta } from './fairness.js';

/** Samplers the platform knows; every backend maps them onto its own scheduler implementation. */
export const SAMPLERS = ['euler', 'euler_a', 'dpmpp_2m_karras', 'ddim', 'lcm'] as const;
export const Sampler = StringEnum(SAMPLERS, { description: 'Sampling method.' });
export type Sampler = Static<typeof Sampler>;

export const ModelName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z0-9][a-z0-9._-]*$',
  description: 'Model identifier as served by workers, e.g. "sd-1.5".',
});

/** Hard bounds of the protocol. A deployment may configure tighter limits (e.g. max pixels). */
export const LIMITS = {
  promptChars: 2000,
  minSide: 64,
  maxSide: 2048,
  maxSteps: 150,
  maxGuidance: 30,
  maxImagesPerRequest: 4,
  maxSeed: 4294967295,
} as const;

export const GenerationParams = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: LIMITS.promptChars }),
  negativePrompt: Type.String({ maxLength: LIMITS.promptChars, default: '' }),
  model: ModelName,
  width: Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 }),
  height: Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 }),
  steps: Type.Integer({ minimum: 1, maximum: LIMITS.maxSteps }),
  guidanceScale: Type.Number({ minimum: 0, maximum: LIMITS.maxGuidance }),
  sampler: Sampler,
  seed: Type.Integer({ minimum: 0, maximum: LIMITS.maxSeed }),
});
export type GenerationParams = Static<typeof GenerationParams>;

export const CreateGenerationBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: LIMITS.promptChars }),
    negativePrompt: Type.Optional(Type.String({ maxLength: LIMITS.promptChars })),
    model: ModelName,
    width: Type.Optional(Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 })),
    height: Type.Optional(Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxSteps })),
    guidanceScale: Type.Optional(Type.Number({ minimum: 0, maximum: LIMITS.maxGuidance })),
    sampler: Type.Optional(Sampler),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: LIMITS.maxSeed,
        description: 'Image i of the request uses seed + i. Random when omitted.',
      }),
    ),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxImagesPerRequest })),
    maxSecondsPerImage: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3600,
        description:
          'The slowest worker accepted: only workers whose measured speed makes one image of this size and step count in at most this many seconds take it.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateGenerationBody = Static<typeof CreateGenerationBody>;

export const GENERATION_DEFAULTS = {
  negativePrompt: '',
  width: 512,
  height: 512,
  steps: 25,
  guidanceScale: 7,
  sampler: 'euler_a',
  n: 1,
} as const satisfies Partial<GenerationParams> & { n: number };

export const JOB_STATES = ['queued', 'leased', 'done', 'failed', 'cancelled'] as const;
export const JobState = StringEnum(JOB_STATES);
export type JobState = Static<typeof JobState>;

export const GENERATION_STATUSES = ['queued', 'running', 'done', 'partial', 'failed', 'cancelled'] as const;
export const GenerationStatus = StringEnum(GENERATION_STATUSES, {
  description:
    'queued: nothing picked up yet; running: some image is being generated or done while others wait; ' +
    'done: every image finished; partial: finished, some images failed or were cancelled; failed: no image; cancelled.',
});
export type GenerationStatus = Static<typeof GenerationStatus>;

export const GenerationImage = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  jobId: Id,
  state: JobState,
  seed: Type.Integer(),
  step: Type.Integer({ description: 'Last reported step while generating.' }),
  attempts: Type.Integer(),
  url: Type.Optional(Type.String({ description: 'Where the PNG can be downloaded once done.' })),
  sha256: Type.Optional(Type.String()),
  error: Type.Optional(Type.String({ description: 'Why a failed image could not be made.' })),
  cancelReason: Type.Optional(
    Type.String({
      description:
        'Why a cancelled image was cancelled: by the requester, by a moderator, or with the account’s suspension.',
    }),
  ),
  finishedAt: Type.Optional(Timestamp),
  nsfw: Type.Optional(ImageSafety),
});
export type GenerationImage = Static<typeof GenerationImage>;

export const Generation = Type.Object({
  id: Id,
  status: GenerationStatus,
  params: Type.Omit(GenerationParams, ['seed']),
  seed: Type.Integer(),
  n: Type.Integer(),
  createdAt: Timestamp,
  queuePosition: Type.Optional(
    Type.Integer({ description: 'Jobs ahead of this generation’s first queued image (0 = next).' }),
  ),
  images: Type.Array(GenerationImage),
  maxSecondsPerImage: Type.Optional(Type.Integer()),
  eta: Type.Optional(GenerationEta),
});
export type Generation = Static<typeof Generation>;

export const GenerationList = Type.Object({
  items: Type.Array(Generation),
  nextCursor: Type.Optional(Type.String()),
});
export type GenerationList = Static<typeof GenerationList>;

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
export type ListQuery = Static<typeof ListQuery>;

/** Server-sent events of one generation, in the order they happen. `event:` carries `type`. */
export const GenerationEvent = Type.Union([
  Type.Object({ type: Type.Literal('snapshot'), generation: Generation }),
  Type.Object({ type: Type.Literal('queued'), position: Type.Integer() }),
  Type.Object({ type: Type.Literal('started'), index: Type.Integer(), workerId: Id }),
  Type.Object({
    type: Type.Literal('progress'),
    index: Type.Integer(),
    step: Type.Integer(),
    totalSteps: Type.Integer(),
  }),
  Type.Object({
    type: Type.Literal('image'),
    index: Type.Integer(),
    url: Type.String(),
    sha256: Type.String(),
  }),
  Type.Object({ type: Type.Literal('requeued'), index: Type.Integer(), reason: Type.String() }),
  Type.Object({ type: Type.Literal('failed'), index: Type.Integer(), reason: Type.String() }),
  Type.Object({ type: Type.Literal('cancelled'), reason: Type.Optional(Type.String()) }),
  Type.Object({ type: Type.Literal('finished'), status: GenerationStatus }),
]);
export type GenerationEvent = Static<typeof GenerationEvent>;
