// Output safety: the NSFW classifier's verdict on each image, the thresholds an admin sets, and appeals
// against a safety decision (a classifier or moderator hide), with their outcomes counted.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';

export const SAFETY_STATES = ['pending', 'classified', 'unchecked', 'failed'] as const;
export const SafetyState = StringEnum(SAFETY_STATES, {
  description:
    'pending: not classified yet (not public until it is); classified: the classifier ran; ' +
    'unchecked: this deployment runs no classifier (NSFW_CLASSIFIER=off); failed: the classifier could not read it (not public).',
});
export type SafetyState = Static<typeof SafetyState>;

export const HIDE_SOURCES = ['classifier', 'prompt_filter', 'verification', 'moderator'] as const;
export const HideSource = StringEnum(HIDE_SOURCES, {
  description:
    'What hid the image: classifier (the NSFW classifier), prompt_filter (a prompt-filter rule, also one ' +
    'added after the image was made), verification (result verification: waiting for a second opinion, or ' +
    'withdrawn because its worker was found bad or outvoted), moderator (a person).',
});
export type HideSource = Static<typeof HideSource>;

export const NsfwClasses = Type.Object(
  {
    drawing: Type.Number(),
    hentai: Type.Number(),
    neutral: Type.Number(),
    porn: Type.Number(),
    sexy: Type.Number(),
  },
  { description: 'The classifier’s five class probabilities (they sum to 1).' },
);
export type NsfwClasses = Static<typeof NsfwClasses>;

export const APPEAL_STATES = ['open', 'upheld', 'overturned'] as const;
export const AppealState = StringEnum(APPEAL_STATES, {
  description:
    'open: waiting for a moderator; upheld: the decision stands; overturned: the image is public again.',
});
export type AppealState = Static<typeof AppealState>;

/** The safety side of one image, as its owner sees it: enough to blur it and to say why. */
export const ImageSafety = Type.Object({
  state: SafetyState,
  score: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Probability of sexual content (porn + hentai + sexy), like LAION’s punsafe.',
    }),
  ),
  blur: Type.Boolean({
    description: 'Show blurred until the viewer clicks (score at or above the blur threshold).',
  }),
  hidden: Type.Boolean({ description: 'Taken out of the public gallery, annotation tasks and releases.' }),
  hiddenBy: Type.Optional(HideSource),
  reason: Type.Optional(Type.String({ description: 'Which rule or classifier decided, in words.' })),
  appeal: Type.Optional(Type.Object({ id: Id, state: AppealState })),
});
export type ImageSafety = Static<typeof ImageSafety>;

export const SafetyThresholds = Type.Object(
  {
    hideAbove: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Images scoring at or above this are hidden from the public when classified.',
    }),
    blurAbove: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Images scoring at or above this are blurred in their owner’s view until clicked.',
    }),
  },
  { additionalProperties: false },
);
export type SafetyThresholds = Static<typeof SafetyThresholds>;

export const SafetySettings = Type.Object({
  ...SafetyThresholds.properties,
  classifier: Type.String({ description: 'The classifier that runs (e.g. nsfwjs/MobileNetV2), or "off".' }),
  pending: Type.Integer({ description: 'Images waiting to be classified.' }),
  updatedAt: Type.Optional(Timestamp),
  updatedBy: Type.Optional(Id),
});
export type SafetySettings = Static<typeof SafetySettings>;

export const REEVALUATION_KINDS = ['safety_thresholds', 'prompt_filter'] as const;
export const SafetyReevaluation = Type.Object({
  kind: StringEnum(REEVALUATION_KINDS, {
    description:
      'safety_thresholds: classified images hidden or shown again by their stored scores after the ' +
      'thresholds changed; prompt_filter: submitted prompts screened again after the rules changed.',
  }),
  processed: Type.Integer({ description: 'Images (thresholds) or generations (prompts) looked at so far.' }),
  hidden: Type.Integer(),
  shown: Type.Integer({ description: 'Hidden by an earlier verdict of this kind, shown again.' }),
  startedAt: Timestamp,
  finishedAt: Type.Optional(Timestamp),
});
export type SafetyReevaluation = Static<typeof SafetyReevaluation>;

export const SafetyReevaluationList = Type.Object({ items: Type.Array(SafetyReevaluation) });
export type SafetyReevaluationList = Static<typeof SafetyReevaluationList>;

export const CreateAppealBody = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 2000, description: 'Why the decision is wrong.' }) },
  { additionalProperties: false },
);
export type CreateAppealBody = Static<typeof CreateAppealBody>;

export const Appeal = Type.Object({
  id: Id,
  imageId: Id,
  note: Type.String(),
  source: HideSource,
  rule: Type.String({
    description:
      'What hid the image: "nsfw_classifier", the prompt-filter rule that matched (e.g. the blocked word "…"), or the hide’s reason (a moderator’s words, a verification outcome).',
  }),
  score: Type.Optional(Type.Number()),
  state: AppealState,
  createdAt: Timestamp,
  decidedAt: Type.Optional(Timestamp),
  decisionNote: Type.Optional(Type.String()),
});
export type Appeal = Static<typeof Appeal>;

export const AppealList = Type.Object({
  items: Type.Array(Appeal),
  nextCursor: Type.Optional(Type.String()),
});
export type AppealList = Static<typeof AppealList>;

/** An appeal in the moderators' queue: with the image and who appealed. */
export const ModeratorAppeal = Type.Object({
  ...Appeal.properties,
  userId: Id,
  url: Type.String({ description: 'The image file (staff may read hidden images).' }),
  prompt: Type.String(),
});
export type ModeratorAppeal = Static<typeof ModeratorAppeal>;

export const ModeratorAppealList = Type.Object({
  items: Type.Array(ModeratorAppeal),
  nextCursor: Type.Optional(Type.String()),
});
export type ModeratorAppealList = Static<typeof ModeratorAppealList>;

export const AppealQuery = Type.Object({
  state: Type.Optional(AppealState),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
export type AppealQuery = Static<typeof AppealQuery>;

export const DecideAppealBody = Type.Object(
  {
    outcome: StringEnum(['upheld', 'overturned'] as const, {
      description: 'upheld: the image stays hidden; overturned: it becomes public again.',
    }),
    note: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type DecideAppealBody = Static<typeof DecideAppealBody>;

export const AppealStats = Type.Object({
  items: Type.Array(
    Type.Object({
      source: HideSource,
      rule: Type.String(),
      open: Type.Integer(),
      upheld: Type.Integer(),
      overturned: Type.Integer(),
    }),
  ),
  classifier: Type.Object(
    {
      hidden: Type.Integer({ description: 'Images the classifier has hidden, ever.' }),
      appealed: Type.Integer(),
      overturned: Type.Integer({ description: 'Counted false positives.' }),
      byScore: Type.Array(
        Type.Object({
          from: Type.Number(),
          to: Type.Number(),
          hidden: Type.Integer(),
          overturned: Type.Integer(),
        }),
        { description: 'Per score band of 0.1: where false positives sit, to tune the threshold.' },
      ),
    },
    { description: 'How often the classifier was wrong, as far as appeals tell.' },
  ),
});
export type AppealStats = Static<typeof AppealStats>;
