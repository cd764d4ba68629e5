// Annotation tasks: aesthetic ratings (1–10, as in Simulacra Aesthetic Captions and the LAION rating
// tool), pairwise preferences between two images of the same prompt (as in Pick-a-Pic, with "tie") and
// flags. A task is handed out to one user with an expiry; only handed-out tasks can be answered, once.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';

export const ANNOTATION_KINDS = ['rating', 'pairwise', 'flag'] as const;
export const AnnotationKind = StringEnum(ANNOTATION_KINDS, {
  description:
    'rating: how much you like the image, 1–10; pairwise: which of two images of the same prompt is ' +
    'better (or a tie); flag: what is wrong with the image, if anything.',
});
export type AnnotationKind = Static<typeof AnnotationKind>;

export const IMAGE_FLAGS = ['nsfw', 'broken', 'offensive', 'does_not_match_prompt'] as const;
export const ImageFlag = StringEnum(IMAGE_FLAGS, {
  description:
    'nsfw: sexual or graphic content; broken: corrupted, blank or badly deformed; offensive: hateful or ' +
    'harassing; does_not_match_prompt: the image does not show what the prompt asks for.',
});
export type ImageFlag = Static<typeof ImageFlag>;

export const PAIRWISE_CHOICES = ['first', 'second', 'tie'] as const;
export const PairwiseChoice = StringEnum(PAIRWISE_CHOICES, {
  description: 'first or second: that image (in the order of the task’s images) is better; tie: neither.',
});
export type PairwiseChoice = Static<typeof PairwiseChoice>;

export const RATING_MIN = 1;
export const RATING_MAX = 10;
export const Rating = Type.Integer({ minimum: RATING_MIN, maximum: RATING_MAX });

export const NextAnnotationQuery = Type.Object({ kind: AnnotationKind });
export type NextAnnotationQuery = Static<typeof NextAnnotationQuery>;

export const AnnotationTaskImage = Type.Object({
  url: Type.String({ description: 'The PNG, readable by the task’s holder only.' }),
  width: Type.Integer(),
  height: Type.Integer(),
});
export type AnnotationTaskImage = Static<typeof AnnotationTaskImage>;

export const AnnotationTask = Type.Object({
  id: Id,
  kind: AnnotationKind,
  prompt: Type.String({ description: 'The prompt the image(s) were generated from.' }),
  images: Type.Array(AnnotationTaskImage, {
    minItems: 1,
    maxItems: 2,
    description: 'One image; two for pairwise tasks.',
  }),
  expiresAt: Timestamp,
  answer: Type.String({
    description:
      'What to send to POST /v1/annotations/{id}: {"rating": 1–10}, {"preference": "first"|"second"|"tie"} ' +
      'or {"flags": [...]} (an empty list: nothing wrong).',
  }),
});
export type AnnotationTask = Static<typeof AnnotationTask>;

export const NextAnnotation = Type.Object({
  task: Type.Union([AnnotationTask, Type.Null()], {
    description: 'null when there is nothing of this kind for you right now.',
  }),
});
export type NextAnnotation = Static<typeof NextAnnotation>;

export const AnswerAnnotationBody = Type.Object(
  {
    rating: Type.Optional(Rating),
    preference: Type.Optional(PairwiseChoice),
    flags: Type.Optional(Type.Array(ImageFlag, { maxItems: IMAGE_FLAGS.length, uniqueItems: true })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    description: 'Exactly one field, matching the task’s kind.',
  },
);
export type AnswerAnnotationBody = Static<typeof AnswerAnnotationBody>;

export const EARNING_PAUSE_REASONS = ['hourly_cap', 'low_agreement'] as const;
export const EarningPauseReason = StringEnum(EARNING_PAUSE_REASONS, {
  description:
    'hourly_cap: you earned the most credits an hour allows; answers are still welcome and earning ' +
    'resumes at resumesAt. low_agreement: your answers disagree too often with known answers; they no ' +
    'longer count and earn nothing.',
});
export type EarningPauseReason = Static<typeof EarningPauseReason>;

export const EarningState = Type.Object({
  paused: Type.Boolean(),
  reason: Type.Optional(EarningPauseReason),
  resumesAt: Type.Optional(Timestamp),
  detail: Type.Optional(Type.String()),
});
export type EarningState = Static<typeof EarningState>;

export const AnnotationAnswer = Type.Object({
  taskId: Id,
  kind: AnnotationKind,
  accepted: Type.Boolean({ description: 'Always true: a refused answer is an error instead.' }),
  creditsEarned: Type.Integer({ minimum: 0 }),
  earning: EarningState,
  answeredAt: Timestamp,
});
export type AnnotationAnswer = Static<typeof AnnotationAnswer>;

export const RATER_STATUSES = ['provisional', 'trusted', 'excluded'] as const;
export const RaterStatus = StringEnum(RATER_STATUSES, {
  description:
    'provisional: too few checks yet to judge; trusted: your answers count; excluded: your agreement ' +
    'score is below the threshold, so your answers are kept out of aggregates and dataset releases.',
});
export type RaterStatus = Static<typeof RaterStatus>;

export const MyAnnotations = Type.Object({
  answered: Type.Object({
    rating: Type.Integer(),
    pairwise: Type.Integer(),
    flag: Type.Integer(),
    total: Type.Integer(),
  }),
  openTasks: Type.Integer({ description: 'Handed out to you, not answered, not expired.' }),
  creditsEarned: Type.Integer({ description: 'Everything your annotations earned.' }),
  creditsLastHour: Type.Integer(),
  hourlyCap: Type.Integer({ description: 'The most credits annotations earn in any hour.' }),
  agreement: Type.Object({
    score: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Smoothed share of checks you agreed with; absent until you were checked enough.',
      }),
    ),
    threshold: Type.Number(),
    status: RaterStatus,
  }),
  earning: EarningState,
});
export type MyAnnotations = Static<typeof MyAnnotations>;

export const ImageAnnotationStats = Type.Object({
  imageId: Id,
  rating: Type.Object({
    count: Type.Integer(),
    mean: Type.Optional(Type.Number()),
    stddev: Type.Optional(Type.Number({ description: 'Sample standard deviation (n − 1); from 2 ratings.' })),
  }),
  pairwise: Type.Object({ wins: Type.Integer(), losses: Type.Integer(), ties: Type.Integer() }),
  flags: Type.Object({
    answers: Type.Integer({ description: 'Flag tasks answered about this image (with or without flags).' }),
    nsfw: Type.Integer(),
    broken: Type.Integer(),
    offensive: Type.Integer(),
    does_not_match_prompt: Type.Integer(),
  }),
});
export type ImageAnnotationStats = Static<typeof ImageAnnotationStats>;

export const ImageIdParams = Type.Object({ imageId: Id });
export type ImageIdParams = Static<typeof ImageIdParams>;

export const TaskImageParams = Type.Object({
  id: Id,
  index: Type.Integer({ minimum: 0, maximum: 1 }),
});
export type TaskImageParams = Static<typeof TaskImageParams>;

// --- gold items (moderators and admins) ---

const FlagExpectations = Type.Object(
  {
    nsfw: Type.Optional(Type.Boolean()),
    broken: Type.Optional(Type.Boolean()),
    offensive: Type.Optional(Type.Boolean()),
    does_not_match_prompt: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The flags whose answer is known: true must be set, false must not be; others are free.',
  },
);

export const CreateGoldBody = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('rating'),
        imageId: Id,
        ratingMin: Rating,
        ratingMax: Rating,
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('pairwise'),
        imageIds: Type.Array(Id, { minItems: 2, maxItems: 2 }),
        preferred: Type.String({
          minLength: 1,
          maxLength: 64,
          description: 'The better image’s id (one of imageIds), or "tie".',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { kind: Type.Literal('flag'), imageId: Id, flags: FlagExpectations },
      { additionalProperties: false },
    ),
  ],
  {
    description: 'An image (or pair of the same prompt) whose answer is known; mixed into tasks unannounced.',
  },
);
export type CreateGoldBody = Static<typeof CreateGoldBody>;

export const GoldItem = Type.Object({
  id: Id,
  kind: AnnotationKind,
  imageIds: Type.Array(Id, { minItems: 1, maxItems: 2 }),
  ratingMin: Type.Optional(Rating),
  ratingMax: Type.Optional(Rating),
  preferred: Type.Optional(Type.String({ description: 'An image id or "tie".' })),
  flags: Type.Optional(FlagExpectations),
  createdAt: Timestamp,
  createdBy: Type.Optional(Id),
  retiredAt: Type.Optional(Timestamp),
  answers: Type.Integer({ description: 'Answers given to it as a check.' }),
  agreed: Type.Integer({ description: 'Of those, how many agreed with the known answer.' }),
});
export type GoldItem = Static<typeof GoldItem>;

/** Keyset pages of the moderators' lists (gold items, raters). */
const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
};

export const GoldListQuery = Type.Object(
  { kind: Type.Optional(AnnotationKind), ...PageQuery },
  { additionalProperties: false },
);
export type GoldListQuery = Static<typeof GoldListQuery>;

export const GoldList = Type.Object({
  items: Type.Array(GoldItem),
  nextCursor: Type.Optional(Type.String()),
});
export type GoldList = Static<typeof GoldList>;

// --- raters (moderators and admins) ---

export const RATER_FILTERS = ['excluded', 'earning', 'all'] as const;
export const RaterFilter = StringEnum(RATER_FILTERS, {
  description:
    'excluded: raters whose answers are kept out of aggregates, most recently excluded first; earning: ' +
    'the others (their answers count and earn, within the hourly cap); all: both, newest rater first.',
});
export type RaterFilter = Static<typeof RaterFilter>;

export const RaterListQuery = Type.Object(
  { status: Type.Optional(RaterFilter), ...PageQuery },
  { additionalProperties: false },
);
export type RaterListQuery = Static<typeof RaterListQuery>;

export const RaterSummary = Type.Object({
  userId: Id,
  email: Type.Optional(Type.String({ description: 'Shown to admins only.' })),
  status: RaterStatus,
  answered: Type.Object({
    rating: Type.Integer(),
    pairwise: Type.Integer(),
    flag: Type.Integer(),
    total: Type.Integer(),
  }),
  gold: Type.Object({
    answers: Type.Integer({ description: 'Checks answered since the rater started (or was reinstated).' }),
    agreed: Type.Integer({ description: 'Of those, how many agreed with the known answer.' }),
    share: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'agreed / answers; absent before the first check.',
      }),
    ),
    score: Type.Number({
      minimum: 0,
      maximum: 1,
      description:
        'The smoothed agreement score the threshold is compared with: (agreed + 1) / (answers + 2).',
    }),
  }),
  excludedAt: Type.Optional(Timestamp),
  creditsEarned: Type.Integer({ description: 'Everything their annotations earned.' }),
  createdAt: Timestamp,
});
export type RaterSummary = Static<typeof RaterSummary>;

export const RaterList = Type.Object({
  items: Type.Array(RaterSummary),
  nextCursor: Type.Optional(Type.String()),
});
export type RaterList = Static<typeof RaterList>;

export const RaterParams = Type.Object({ userId: Id });
export type RaterParams = Static<typeof RaterParams>;
