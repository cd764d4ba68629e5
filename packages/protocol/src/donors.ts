// Donors: the public leaderboard, how a donor appears on it, each worker's current job and throughput
// history, and the generation limits an admin sets at run time.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';
import { LIMITS } from './generations.js';

export const LEADERBOARD_PERIODS = ['week', 'month', 'all'] as const;
export const LeaderboardPeriod = StringEnum(LEADERBOARD_PERIODS, {
  description: 'week: the last 7 days; month: the last 30 days; all: since the start.',
});
export type LeaderboardPeriod = Static<typeof LeaderboardPeriod>;

export const LeaderboardQuery = Type.Object(
  {
    period: Type.Optional(LeaderboardPeriod),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
export type LeaderboardQuery = Static<typeof LeaderboardQuery>;

export const LeaderboardEntry = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  name: Type.String({ description: 'The public name the donor chose, or their pseudonym.' }),
  pseudonymous: Type.Boolean({ description: 'true when `name` is a pseudonym, not a chosen name.' }),
  images: Type.Integer({ description: 'Images accepted (not overturned or withdrawn by verification).' }),
  megapixelSteps: Type.Number({ description: 'Sum of width × height × steps / 10⁶ over those images.' }),
  credits: Type.Integer({ description: 'Credits paid to the donor for their workers’ images.' }),
  workers: Type.Integer({ description: 'Workers that made those images.' }),
});
export type LeaderboardEntry = Static<typeof LeaderboardEntry>;

export const DonorLeaderboard = Type.Object({
  period: LeaderboardPeriod,
  since: Type.Optional(Timestamp),
  computedAt: Timestamp,
  items: Type.Array(LeaderboardEntry),
});
export type DonorLeaderboard = Static<typeof DonorLeaderboard>;

export const DONOR_LISTINGS = ['pseudonym', 'name', 'hidden'] as const;
export const DonorListing = StringEnum(DONOR_LISTINGS, {
  description: 'pseudonym (default): a stable pseudonym; name: the public name below; hidden: not listed.',
});
export type DonorListing = Static<typeof DonorListing>;

export const PublicName = Type.String({
  minLength: 2,
  maxLength: 40,
  pattern: '^[A-Za-z0-9\\u00C0-\\u024F][A-Za-z0-9\\u00C0-\\u024F ._-]*$',
  description:
    'Latin letters (with accents), digits, spaces, dots, underscores and hyphens; starts with a letter or digit.',
});

export const DonorProfile = Type.Object({
  listing: DonorListing,
  publicName: Type.Optional(PublicName),
  pseudonym: Type.String({ description: 'What the leaderboard shows for you unless you choose a name.' }),
});
export type DonorProfile = Static<typeof DonorProfile>;

export const DonorProfileBody = Type.Object(
  { listing: DonorListing, publicName: Type.Optional(PublicName) },
  { additionalProperties: false },
);
export type DonorProfileBody = Static<typeof DonorProfileBody>;

export const CurrentJob = Type.Object({
  jobId: Id,
  model: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  step: Type.Integer(),
  totalSteps: Type.Integer(),
  startedAt: Type.Optional(Timestamp),
});
export type CurrentJob = Static<typeof CurrentJob>;

export const ThroughputBucket = Type.Object({
  /** Start of the hour. */
  hour: Timestamp,
  jobs: Type.Integer(),
  megapixelSteps: Type.Number(),
});
export type ThroughputBucket = Static<typeof ThroughputBucket>;

export const WorkerActivity = Type.Object({
  workerId: Id,
  currentJob: Type.Optional(CurrentJob),
  /** Hours with at least one finished job, oldest first; hours without are absent (zero). */
  hours: Type.Array(ThroughputBucket),
});
export type WorkerActivity = Static<typeof WorkerActivity>;

export const WorkerActivityList = Type.Object({
  since: Timestamp,
  items: Type.Array(WorkerActivity),
});
export type WorkerActivityList = Static<typeof WorkerActivityList>;

export const ActivityQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 30, default: 7 })) },
  { additionalProperties: false },
);

/** Generation limits in force; an admin may tighten them at run time (never beyond what start-up sized). */
export const GenerationLimitValues = Type.Object(
  {
    maxPixels: Type.Integer({ minimum: LIMITS.minSide * LIMITS.minSide, maximum: LIMITS.maxSide ** 2 }),
    maxSide: Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 }),
    maxSteps: Type.Integer({ minimum: 1, maximum: LIMITS.maxSteps }),
    maxImagesPerRequest: Type.Integer({ minimum: 1, maximum: LIMITS.maxImagesPerRequest }),
  },
  { additionalProperties: false },
);
export type GenerationLimitValues = Static<typeof GenerationLimitValues>;

export const GenerationLimitsInfo = Type.Object({
  limits: GenerationLimitValues,
  defaults: GenerationLimitValues,
  /** The largest values this deployment can serve (MAX_PIXELS sizes upload and decoding limits). */
  ceiling: GenerationLimitValues,
  updatedAt: Type.Optional(Timestamp),
});
export type GenerationLimitsInfo = Static<typeof GenerationLimitsInfo>;
