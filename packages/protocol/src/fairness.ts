// A fair deal for donors and requesters: why a worker gets no jobs, what its failures were and whether
// they count, its receipts, pausing, which models online workers serve, and ETAs from measured speeds.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';

/**
 * Why a job could not be done, as the worker reports it (or as the coordinator finds it).
 * worker: the worker's own fault (crash, out of memory, bad output) — counts against it.
 * request: the request cannot succeed anywhere (bad parameters) — never counts; the job fails at once.
 * model_mismatch: this worker's copy of the model cannot serve the request — never counts; retried elsewhere.
 */
export const WORKER_FAILURE_CLASSES = ['worker', 'request', 'model_mismatch'] as const;
export const WorkerFailureClass = StringEnum(WORKER_FAILURE_CLASSES);
export type WorkerFailureClass = Static<typeof WorkerFailureClass>;

/** Every class an incident on a worker's record can have; see countsAgainstWorker on the server. */
export const INCIDENT_CLASSES = [...WORKER_FAILURE_CLASSES, 'lease_expired', 'coordinator_outage'] as const;
export const IncidentClass = StringEnum(INCIDENT_CLASSES, {
  description:
    'lease_expired: the worker stopped heartbeating (counts); coordinator_outage: its lease ran out while the coordinator was down (never counts).',
});
export type IncidentClass = Static<typeof IncidentClass>;

export const WorkerIncident = Type.Object({
  jobId: Id,
  class: IncidentClass,
  countsAgainstWorker: Type.Boolean(),
  reason: Type.String(),
  at: Timestamp,
});
export type WorkerIncident = Static<typeof WorkerIncident>;

export const WORKER_STATES = ['active', 'paused', 'offline', 'revoked', 'suspended'] as const;
export const WorkerState = StringEnum(WORKER_STATES);
export type WorkerState = Static<typeof WorkerState>;

export const DemandGroup = Type.Object({
  model: Type.String(),
  pixels: Type.Integer(),
  queued: Type.Integer(),
  servable: Type.Boolean({ description: 'This worker could take these jobs now.' }),
  why: Type.Optional(Type.String({ description: 'When not servable: what stands in the way.' })),
});
export type DemandGroup = Static<typeof DemandGroup>;

export const WhyIdle = Type.Object({
  workerId: Id,
  state: WorkerState,
  idle: Type.Boolean({ description: 'No job is leased to this worker now.' }),
  reasons: Type.Array(Type.String(), { description: 'Why it gets no jobs, most important first, in words.' }),
  filters: Type.Object({
    models: Type.Array(Type.String()),
    maxPixels: Type.Integer(),
    msPerMegapixelStep: Type.Optional(
      Type.Number({ description: 'Measured speed; requesters may ask for faster workers than this.' }),
    ),
  }),
  demand: Type.Array(DemandGroup, { description: 'Queued jobs by model and size, largest groups first.' }),
  queuedTotal: Type.Integer(),
  recentIncidents: Type.Array(WorkerIncident),
  pausedAt: Type.Optional(Timestamp),
  lastSeenAt: Type.Optional(Timestamp),
});
export type WhyIdle = Static<typeof WhyIdle>;

export const PauseState = Type.Object({
  workerId: Id,
  paused: Type.Boolean(),
  pausedAt: Type.Optional(Timestamp),
});
export type PauseState = Static<typeof PauseState>;

export const Receipt = Type.Object({
  jobId: Id,
  model: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  steps: Type.Integer(),
  credits: Type.Integer({ description: 'What this job earned the worker’s owner.' }),
  status: StringEnum(['paid', 'held', 'none'] as const, {
    description:
      'paid: posted to the owner (transferId); held: posted to the worker’s held account until its results are verified; none: nothing posted (a reward of 0).',
  }),
  transferId: Type.Optional(Id),
  finishedAt: Timestamp,
});
export type Receipt = Static<typeof Receipt>;

export const ReceiptList = Type.Object({
  items: Type.Array(Receipt),
  totalCredits: Type.Integer({ description: 'Everything this worker has earned, all pages.' }),
  nextCursor: Type.Optional(Type.String()),
});
export type ReceiptList = Static<typeof ReceiptList>;

export const IncidentList = Type.Object({
  items: Type.Array(WorkerIncident),
  counted: Type.Integer({ description: 'Incidents that count against the worker, all pages.' }),
  excused: Type.Integer({ description: 'Incidents that were not its fault, all pages.' }),
  nextCursor: Type.Optional(Type.String()),
});
export type IncidentList = Static<typeof IncidentList>;

export const ServedModel = Type.Object({
  model: Type.String(),
  maxPixels: Type.Integer({ description: 'The largest image any recently seen worker takes for it.' }),
  workers: Type.Integer(),
  fastestMsPerMegapixelStep: Type.Optional(Type.Number()),
});
export type ServedModel = Static<typeof ServedModel>;

export const ServedModels = Type.Object({
  items: Type.Array(ServedModel),
  windowSeconds: Type.Integer({ description: 'Workers seen within this many seconds count.' }),
});
export type ServedModels = Static<typeof ServedModels>;

/** When a generation should be done, from the measured speeds of the workers that can serve it. */
export const GenerationEta = Type.Object({
  seconds: Type.Optional(Type.Number({ minimum: 0 })),
  finishesAt: Type.Optional(Timestamp),
  workers: Type.Integer({ description: 'Online workers that can serve it.' }),
  basis: StringEnum(['measured', 'assumed', 'no_worker'] as const, {
    description:
      'measured: from these workers’ timed jobs; assumed: some speeds unknown, the known ones stand in; no_worker: none online can serve it now.',
  }),
});
export type GenerationEta = Static<typeof GenerationEta>;
