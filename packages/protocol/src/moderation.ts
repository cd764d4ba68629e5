// Moderation: user reports on images, the moderator queue, hiding images, suspending users, the audit
// log, and the prompt filter that admins configure.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';
import { ModelName } from './generations.js';
import { Role } from './accounts.js';

export const REPORT_REASONS = ['nsfw', 'offensive', 'illegal', 'copyright', 'broken', 'other'] as const;
export const ReportReason = StringEnum(REPORT_REASONS);
export type ReportReason = Static<typeof ReportReason>;

export const REPORT_STATES = ['open', 'dismissed', 'actioned'] as const;
export const ReportState = StringEnum(REPORT_STATES, {
  description: 'open: waiting for a moderator; dismissed: the image stays; actioned: the image was hidden.',
});
export type ReportState = Static<typeof ReportState>;

export const CreateReportBody = Type.Object(
  {
    reason: ReportReason,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type CreateReportBody = Static<typeof CreateReportBody>;

/** A report as its author sees it. */
export const Report = Type.Object({
  id: Id,
  imageId: Id,
  reason: ReportReason,
  note: Type.Optional(Type.String()),
  state: ReportState,
  createdAt: Timestamp,
  resolvedAt: Type.Optional(Timestamp),
});
export type Report = Static<typeof Report>;

/** A report as moderators see it: with its author. */
export const ModeratorReport = Type.Object({
  ...Report.properties,
  reporterId: Id,
});
export type ModeratorReport = Static<typeof ModeratorReport>;

/** An image as moderators see it, whatever its visibility. */
export const ModeratedImage = Type.Object({
  id: Id,
  generationId: Id,
  ownerId: Id,
  ownerSuspended: Type.Boolean(),
  prompt: Type.String(),
  negativePrompt: Type.String(),
  model: ModelName,
  width: Type.Integer(),
  height: Type.Integer(),
  createdAt: Timestamp,
  hidden: Type.Boolean(),
  hiddenReason: Type.Optional(Type.String()),
  url: Type.String(),
  thumbUrl: Type.String(),
});
export type ModeratedImage = Static<typeof ModeratedImage>;

export const ReportQueueItem = Type.Object({
  image: ModeratedImage,
  openReports: Type.Integer(),
  reasons: Type.Array(Type.Object({ reason: ReportReason, count: Type.Integer() })),
  firstReportedAt: Timestamp,
  lastReportedAt: Timestamp,
  reports: Type.Array(ModeratorReport, { description: 'The newest open reports (at most 20).' }),
});
export type ReportQueueItem = Static<typeof ReportQueueItem>;

export const ReportQueue = Type.Object({
  items: Type.Array(ReportQueueItem, { description: 'Images with open reports, longest waiting first.' }),
  nextCursor: Type.Optional(Type.String()),
});
export type ReportQueue = Static<typeof ReportQueue>;

const Reason = Type.String({ minLength: 1, maxLength: 500, description: 'Why; kept in the audit log.' });

export const ResolveReportBody = Type.Object(
  {
    action: StringEnum(['dismiss', 'hide'] as const, {
      description: 'dismiss: the image stays; hide: the image is taken down.',
    }),
    reason: Reason,
  },
  {
    additionalProperties: false,
    description: 'The decision is about the image: it closes every open report on the same image.',
  },
);
export type ResolveReportBody = Static<typeof ResolveReportBody>;

export const ResolveReportResult = Type.Object({
  image: ModeratedImage,
  resolved: Type.Integer({ description: 'How many open reports this decision closed.' }),
});
export type ResolveReportResult = Static<typeof ResolveReportResult>;

export const ModerationReasonBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export type ModerationReasonBody = Static<typeof ModerationReasonBody>;

export const HiddenImage = Type.Object({
  image: ModeratedImage,
  reason: Type.String(),
  hiddenBy: Type.Optional(Id),
  hiddenAt: Timestamp,
});
export type HiddenImage = Static<typeof HiddenImage>;

export const HiddenImageList = Type.Object({
  items: Type.Array(HiddenImage),
  nextCursor: Type.Optional(Type.String()),
});
export type HiddenImageList = Static<typeof HiddenImageList>;

export const UserStanding = Type.Object({
  id: Id,
  role: Role,
  suspended: Type.Boolean(),
  suspendedAt: Type.Optional(Timestamp),
  suspensionReason: Type.Optional(Type.String()),
});
export type UserStanding = Static<typeof UserStanding>;

export const AuditQuery = Type.Object({
  actor: Type.Optional(Id),
  action: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_.]+$', description: 'e.g. image.hide' }),
  ),
  targetType: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z_]+$' })),
  targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditEntry = Type.Object({
  id: Id,
  actorId: Type.Optional(Id),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditList = Type.Object({
  items: Type.Array(AuditEntry, { description: 'Newest first.' }),
  nextCursor: Type.Optional(Type.String()),
});
export type AuditList = Static<typeof AuditList>;

/** Bounds of the prompt filter's rules; a pattern is `/source/flags`. */
export const PROMPT_FILTER_LIMITS = {
  maxWords: 10_000,
  maxWordChars: 100,
  maxPatterns: 500,
  maxPatternChars: 256,
} as const;

export const PromptFilterRules = Type.Object(
  {
    words: Type.Array(Type.String({ minLength: 1, maxLength: PROMPT_FILTER_LIMITS.maxWordChars }), {
      maxItems: PROMPT_FILTER_LIMITS.maxWords,
      description:
        'Blocked words or phrases: whole-word, case-insensitive, after Unicode (NFKC) normalisation.',
    }),
    patterns: Type.Array(Type.String({ minLength: 3, maxLength: PROMPT_FILTER_LIMITS.maxPatternChars + 8 }), {
      maxItems: PROMPT_FILTER_LIMITS.maxPatterns,
      description:
        'Blocked regular expressions written /source/flags (flags i, m, s, u, v); matched against the ' +
        'NFKC-normalised text. Nested quantifiers such as (a+)+ are refused. Use u or v only for \\p{…} ' +
        'classes: together with i they make matching far slower.',
    }),
  },
  { additionalProperties: false },
);
export type PromptFilterRules = Static<typeof PromptFilterRules>;

export const PromptFilterState = Type.Object({
  ...PromptFilterRules.properties,
  source: StringEnum(['none', 'file', 'settings'] as const, {
    description: 'none: no rules; file: PROMPT_BLOCKLIST_FILE; settings: set by an admin at run time.',
  }),
  updatedAt: Type.Optional(Timestamp),
  updatedBy: Type.Optional(Id),
});
export type PromptFilterState = Static<typeof PromptFilterState>;
