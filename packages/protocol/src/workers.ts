import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';
import { GenerationParams, ModelName } from './generations.js';
import { ModelFingerprintReport } from './trust.js';
import { WorkerFailureClass } from './fairness.js';

export const BACKENDS = ['onnx', 'test-pattern'] as const;

export const Hardware = Type.Object(
  {
    gpu: Type.Optional(Type.String({ maxLength: 200 })),
    vramMb: Type.Optional(Type.Integer({ minimum: 0 })),
    cpu: Type.Optional(Type.String({ maxLength: 200 })),
    ramMb: Type.Optional(Type.Integer({ minimum: 0 })),
    provider: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);
export type Hardware = Static<typeof Hardware>;

export const RegisterWorkerBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 80 }) },
  { additionalProperties: false },
);
export type RegisterWorkerBody = Static<typeof RegisterWorkerBody>;

export const WorkerInfo = Type.Object({
  id: Id,
  name: Type.String(),
  keyPrefix: Type.String({ description: 'First characters of the key, to recognise it.' }),
  backend: Type.Optional(Type.String()),
  models: Type.Array(Type.String()),
  maxPixels: Type.Integer(),
  hardware: Hardware,
  online: Type.Boolean({ description: 'Polled or heartbeated in the last minute.' }),
  jobsDone: Type.Integer(),
  jobsFailed: Type.Integer(),
  createdAt: Timestamp,
  lastSeenAt: Type.Optional(Timestamp),
  revokedAt: Type.Optional(Timestamp),
  pausedAt: Type.Optional(Timestamp),
  jobsExcused: Type.Optional(
    Type.Integer({ description: 'Failures that were not the worker’s fault; not in jobsFailed.' }),
  ),
  msPerMegapixelStep: Type.Optional(Type.Number({ description: 'Measured speed (lower is faster).' })),
});
export type WorkerInfo = Static<typeof WorkerInfo>;

export const RegisteredWorker = Type.Object({
  worker: WorkerInfo,
  key: Type.String({ description: 'The worker key. Shown once; store it on the worker machine.' }),
});
export type RegisteredWorker = Static<typeof RegisteredWorker>;

export const WorkerList = Type.Object({ items: Type.Array(WorkerInfo) });

export const PopBody = Type.Object(
  {
    backend: Type.String({ minLength: 1, maxLength: 32 }),
    models: Type.Array(ModelName, { minItems: 1, maxItems: 32 }),
    maxPixels: Type.Integer({ minimum: 4096, maximum: 16_777_216 }),
    hardware: Type.Optional(Hardware),
    version: Type.Optional(Type.String({ maxLength: 40 })),
    fingerprints: Type.Optional(
      Type.Array(ModelFingerprintReport, {
        maxItems: 32,
        description:
          'SHA-256 of each model’s weights. Results are compared only between workers with the same ' +
          'weights; models whose fingerprints an admin pinned are served only with a matching one.',
      }),
    ),
    waitSeconds: Type.Optional(
      Type.Number({ minimum: 0, maximum: 30, description: 'Long-poll for up to this long (default 30).' }),
    ),
  },
  { additionalProperties: false },
);
export type PopBody = Static<typeof PopBody>;

/** How the worker delivers the result: to the coordinator, or straight to object storage. */
export const UploadTarget = Type.Union([
  Type.Object({ kind: Type.Literal('direct'), url: Type.String() }),
  Type.Object({
    kind: Type.Literal('presigned'),
    url: Type.String(),
    key: Type.String(),
    expiresAt: Timestamp,
    headers: Type.Record(Type.String(), Type.String()),
  }),
]);
export type UploadTarget = Static<typeof UploadTarget>;

export const JobAssignment = Type.Object({
  id: Id,
  leaseId: Id,
  leaseExpiresAt: Timestamp,
  heartbeatIntervalMs: Type.Integer(),
  attempt: Type.Integer({ minimum: 1 }),
  params: GenerationParams,
  upload: UploadTarget,
});
export type JobAssignment = Static<typeof JobAssignment>;

export const PopResponse = Type.Object({
  job: Type.Union([JobAssignment, Type.Null()]),
  paused: Type.Optional(
    Type.Boolean({ description: 'The worker is paused: it gets no jobs until resumed (no penalty).' }),
  ),
});
export type PopResponse = Static<typeof PopResponse>;

export const HeartbeatBody = Type.Object(
  {
    leaseId: Id,
    step: Type.Integer({ minimum: 0 }),
    totalSteps: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

export const HeartbeatResponse = Type.Object({
  leaseExpiresAt: Timestamp,
  cancelled: Type.Boolean({
    description:
      'The job was cancelled (by its requester, a moderator, or with the requester’s suspension): stop and pop the next job.',
  }),
});
export type HeartbeatResponse = Static<typeof HeartbeatResponse>;

export const LeaseQuery = Type.Object({ leaseId: Id });

export const CompleteUploadBody = Type.Object(
  { leaseId: Id, key: Type.String({ minLength: 1, maxLength: 300 }) },
  { additionalProperties: false },
);
export type CompleteUploadBody = Static<typeof CompleteUploadBody>;

export const JobResult = Type.Object({
  jobId: Id,
  sha256: Type.String(),
  bytes: Type.Integer(),
  url: Type.String({
    description: 'Where the image is served; empty for a verification replica, which never becomes an image.',
  }),
  receipt: Type.Optional(
    Type.Object({
      credits: Type.Integer({ description: 'What this job earned the worker’s owner.' }),
      held: Type.Optional(
        Type.Boolean({
          description: 'Held until the worker’s results are verified, then paid to its owner.',
        }),
      ),
      transferId: Type.Optional(Id),
    }),
  ),
});
export type JobResult = Static<typeof JobResult>;

export const FailBody = Type.Object(
  {
    leaseId: Id,
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
    retryable: Type.Optional(
      Type.Boolean({ description: 'false when the request itself cannot succeed anywhere (default true).' }),
    ),
    failureClass: Type.Optional(WorkerFailureClass),
  },
  { additionalProperties: false },
);
export type FailBody = Static<typeof FailBody>;

export const ReleaseBody = Type.Object({ leaseId: Id }, { additionalProperties: false });

export const JobStateResponse = Type.Object({
  jobId: Id,
  state: Type.String(),
  attempts: Type.Integer(),
});
export type JobStateResponse = Static<typeof JobStateResponse>;
