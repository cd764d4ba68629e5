import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';
import { AccessStage } from './accounts.js';
import { LIMITS } from './generations.js';

export const CREDIT_MOVEMENT_KINDS = [
  'reserve',
  'settle',
  'refund',
  'worker_earning',
  'annotation',
  'grant',
  'earning_reversal',
] as const;
export const CreditMovementKind = StringEnum(CREDIT_MOVEMENT_KINDS, {
  description:
    'reserve: a generation’s cost moved into escrow; settle: an image finished, its share is spent; ' +
    'refund: an image failed or was cancelled, its share came back; worker_earning: your worker finished ' +
    'a job; annotation: an accepted annotation; grant: given (or taken back) by an admin; ' +
    'earning_reversal: worker earnings held back and returned to the platform.',
});
export type CreditMovementKind = Static<typeof CreditMovementKind>;

export const CreditSummary = Type.Object({
  userId: Id,
  balance: Type.Integer({ description: 'What you can spend now.' }),
  reserved: Type.Integer({ description: 'Held in escrow for images that have not finished yet.' }),
  earnedFromWorkers: Type.Integer(),
  earnedFromAnnotations: Type.Integer(),
  granted: Type.Integer({ description: 'Net of admin grants.' }),
  spent: Type.Integer({ description: 'Consumed by finished images (refunds never count).' }),
});
export type CreditSummary = Static<typeof CreditSummary>;

export const CreditMovement = Type.Object({
  id: Id,
  kind: CreditMovementKind,
  amount: Type.Integer({ description: 'Change to your spendable balance.' }),
  reserved: Type.Integer({ description: 'Change to what is held in escrow for you.' }),
  referenceType: Type.Optional(Type.String({ description: 'generation, worker, annotation, …' })),
  referenceId: Type.Optional(Type.String()),
  memo: Type.Optional(Type.String()),
  createdAt: Timestamp,
});
export type CreditMovement = Static<typeof CreditMovement>;

export const CreditMovementList = Type.Object({
  items: Type.Array(CreditMovement),
  nextCursor: Type.Optional(Type.String()),
});
export type CreditMovementList = Static<typeof CreditMovementList>;

export const CreditGrantBody = Type.Object(
  {
    userId: Id,
    amount: Type.Integer({
      minimum: -1_000_000_000,
      maximum: 1_000_000_000,
      description: 'Credits to give (not 0); negative takes them back (never below a zero balance).',
    }),
    memo: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Why; the user sees it in their history.',
    }),
  },
  { additionalProperties: false },
);
export type CreditGrantBody = Static<typeof CreditGrantBody>;

export const CreditGrant = Type.Object({
  transferId: Id,
  userId: Id,
  amount: Type.Integer(),
  memo: Type.String(),
  balance: Type.Integer({ description: 'The user’s spendable balance after the grant.' }),
  createdAt: Timestamp,
});
export type CreditGrant = Static<typeof CreditGrant>;

export const CreditQuoteQuery = Type.Object(
  {
    width: Type.Optional(Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 })),
    height: Type.Optional(Type.Integer({ minimum: LIMITS.minSide, maximum: LIMITS.maxSide, multipleOf: 8 })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxSteps })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxImagesPerRequest })),
  },
  { additionalProperties: false },
);
export type CreditQuoteQuery = Static<typeof CreditQuoteQuery>;

export const CreditQuote = Type.Object({
  perImage: Type.Integer({
    description: 'Cost of one image: pixels × steps against 512×512 × 25, rounded up.',
  }),
  total: Type.Integer(),
  charged: Type.Boolean({
    description: 'Whether a generation is charged now (open stage); in the research stage it is free.',
  }),
  stage: AccessStage,
  balance: Type.Integer(),
});
export type CreditQuote = Static<typeof CreditQuote>;

export const CreditBooks = Type.Object({
  transfers: Type.Integer(),
  total: Type.Integer({ description: 'Sum over every account; 0 when the books balance.' }),
  platform: Type.Integer({ description: 'The issuer: minus every credit in circulation.' }),
  users: Type.Integer({ description: 'Spendable credits of all users together.' }),
  escrow: Type.Integer({ description: 'Reserved for images that have not finished.' }),
  other: Type.Integer({
    description: 'Every other account (e.g. worker earnings held until the worker is trusted).',
  }),
  balanced: Type.Boolean(),
  problems: Type.Array(Type.String(), { description: 'What does not add up (at most 100).' }),
});
export type CreditBooks = Static<typeof CreditBooks>;
