// Verification of results and worker reputation: what a worker's owner sees about its standing, and
// the model fingerprints an admin pins.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';
import { ModelName } from './generations.js';

export const Sha256Hex = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: 'SHA-256, 64 lowercase hex digits.',
});

/** What a worker reports on pop: the SHA-256 of each model's weight files (fingerprintModel). */
export const ModelFingerprintReport = Type.Object(
  { model: ModelName, sha256: Sha256Hex },
  { additionalProperties: false },
);
export type ModelFingerprintReport = Static<typeof ModelFingerprintReport>;

export const TRUST_STATES = ['new', 'trusted', 'probation', 'suspended'] as const;
export const TrustState = StringEnum(TRUST_STATES, {
  description:
    'new: building a verified record (most results get a second opinion, earnings held); trusted: a ' +
    'verified record (few second opinions, earnings paid at once); probation: recent bad results (every ' +
    'result checked, earnings held until it is trusted again); suspended: found bad, gets no jobs.',
});
export type TrustState = Static<typeof TrustState>;

export const RESULT_CHECKS = ['blank', 'noise', 'replay', 'too_fast', 'disagreement'] as const;
export const ResultCheck = StringEnum(RESULT_CHECKS, {
  description:
    'blank: one colour, or nearly; noise: random pixels; replay: an earlier image of another job; ' +
    'too_fast: arrived faster than this kind of hardware can compute it; disagreement: other workers ' +
    'given the same job and seed agreed on a different picture.',
});
export type ResultCheck = Static<typeof ResultCheck>;

export const TRUST_EVENT_KINDS = [
  'rejected',
  'forgiven',
  'verified',
  'overturned',
  'state_changed',
  'withdrawn',
] as const;
export const TrustEventKind = StringEnum(TRUST_EVENT_KINDS, {
  description:
    'rejected: a cheap check refused a result (the job went to another worker); forgiven: workers of ' +
    'three accounts got the same refusal for one job, so the request was the cause and the strike was ' +
    'taken back; verified: another worker confirmed a result; overturned: two other workers agreed ' +
    'against it; state_changed: see `state` (a moderator reinstating a suspended worker is one, to probation); withdrawn: results not yet verified were taken out of the ' +
    'gallery and future releases.',
});

export const TrustEvent = Type.Object({
  id: Id,
  kind: TrustEventKind,
  check: Type.Optional(ResultCheck),
  jobId: Type.Optional(Type.String()),
  state: Type.Optional(TrustState),
  detail: Type.String(),
  at: Timestamp,
});
export type TrustEvent = Static<typeof TrustEvent>;

export const TrustEventList = Type.Object({
  items: Type.Array(TrustEvent),
  nextCursor: Type.Optional(Type.String()),
});
export type TrustEventList = Static<typeof TrustEventList>;

export const TrustEventQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    kind: Type.Optional(
      StringEnum(TRUST_EVENT_KINDS, {
        description: 'Only events of this kind: `state_changed` is the history of its states, with reasons.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const FINGERPRINT_STATUSES = ['pinned', 'known', 'unknown', 'refused'] as const;

export const WorkerReputation = Type.Object({
  workerId: Id,
  state: TrustState,
  reason: Type.Optional(Type.String({ description: 'Why it is in this state, in words.' })),
  stateSince: Timestamp,
  replicationPercent: Type.Number({
    description: 'Chance that its next result is also given to another worker to compare.',
  }),
  results: Type.Object({
    accepted: Type.Integer({ description: 'Passed the checks on arrival.' }),
    verified: Type.Integer({ description: 'Confirmed by another worker.' }),
    overturned: Type.Integer({ description: 'Two other workers agreed on a different picture.' }),
    rejected: Type.Integer({ description: 'Refused on arrival (blank, noise, replay, too fast).' }),
    failed: Type.Integer({
      description:
        'Jobs that ended in a failure counted against it: its own failures and refused results (a request ' +
        'that cannot succeed, a model mismatch or a coordinator outage never count).',
    }),
  }),
  agreementRate: Type.Optional(
    Type.Number({ description: 'verified / (verified + overturned); absent until one was compared.' }),
  ),
  failureRate: Type.Optional(Type.Number({ description: 'failed / (accepted + failed).' })),
  msPerMegapixelStep: Type.Optional(Type.Number({ description: 'Measured speed (lower is faster).' })),
  strikes: Type.Integer({ description: 'Recent bad results; 2 put a worker on probation, 4 suspend it.' }),
  heldCredits: Type.Integer({
    description: 'Earnings held until the worker is trusted (returned to the platform if suspended).',
  }),
  fingerprints: Type.Array(
    Type.Object({
      model: Type.String(),
      sha256: Type.Optional(Sha256Hex),
      status: StringEnum(FINGERPRINT_STATUSES, {
        description:
          'pinned: matches the one an admin set; known: first seen from a trusted worker; unknown: not ' +
          'seen before (results are compared only with workers holding the same weights); refused: the ' +
          'model has pinned fingerprints and this is not one of them (no jobs of that model).',
      }),
    }),
  ),
  recentEvents: Type.Array(TrustEvent),
});
export type WorkerReputation = Static<typeof WorkerReputation>;

export const ModelParams = Type.Object({ model: ModelName });

export const PutModelFingerprintsBody = Type.Object(
  {
    fingerprints: Type.Array(Sha256Hex, {
      maxItems: 16,
      uniqueItems: true,
      description: 'The only weights accepted for this model; [] unpins it.',
    }),
  },
  { additionalProperties: false },
);
export type PutModelFingerprintsBody = Static<typeof PutModelFingerprintsBody>;

export const ModelFingerprints = Type.Object({
  model: Type.String(),
  pinned: Type.Boolean({ description: 'Workers with other weights get no jobs of this model.' }),
  fingerprints: Type.Array(
    Type.Object({
      sha256: Sha256Hex,
      source: StringEnum(['admin', 'trusted_worker'] as const),
      addedAt: Timestamp,
    }),
  ),
});
export type ModelFingerprints = Static<typeof ModelFingerprints>;
