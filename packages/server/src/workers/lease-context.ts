// What every part of the worker's side of the queue shares: the dependencies the coordinator wires in once
// (app.ts builds them through LeaseService's constructor), the settings, and the lease fence: reading a
// job for a call that names a lease, and the error a stale lease gets.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import type { BlobStore } from '../storage/blob-store.js';
import { AppError, notFound } from '../errors.js';
import { preparedPerDialect } from '../db/prepared-per-dialect.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import type { GenerationPublisher } from '../jobs/publisher.js';
import type { GenerationCache } from '../jobs/generation-cache.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CreditsService } from '../credits/service.js';
import type { LeaseHooks } from '../fairness/lease-hooks.js';
import type { TrustService } from '../trust/service.js';
import type { UploadValidator } from '../images/upload-validator.js';
import type { WriteTransactions } from '../db/group-commit.js';

export interface LeaseSettings {
  leaseMs: number;
  heartbeatIntervalMs: number;
  maxPopWaitMs: number;
  maxUploadBytes: number;
  /** How long a presigned upload URL stays valid. */
  uploadUrlTtlSeconds: number;
  /** Read on each pop: the address may only be known once the server listens. */
  publicUrl: () => string;
}

/** The worker principal: its id and its owner's (who earns its credits). */
export type WorkerCaller = { workerId: string; userId: string };

export interface LeaseDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  bus: EventBus;
  blobs: BlobStore;
  publisher: GenerationPublisher;
  generations: GenerationCache;
  metrics: Metrics;
  settings: LeaseSettings;
  credits: CreditsService;
  /** Output safety and fairness steps inside these transactions (fairness/lease-hooks.ts). */
  hooks: LeaseHooks;
  /** Verification and reputation (trust/): admission, checks on results, replicas (ids `rep_…`). */
  trust: TrustService;
  /** Claims and results: on SQLite they share commits with concurrent writes (db/group-commit.ts). */
  writes: WriteTransactions;
  /** Checks and re-encodes uploads, by default on a thread of its own (images/upload-validator.ts). */
  uploads: UploadValidator;
}

export function leaseLost(
  detail = 'This lease expired or was handed back; drop the job and pop the next one.',
): AppError {
  return new AppError('lease_lost', detail);
}

// Every upload, heartbeat-less failure and hand-back reads its job first: compiled once per dialect.
const jobById = preparedPerDialect(1, (db, jobId: string) =>
  db.selectFrom('jobs').selectAll().where('id', '=', jobId),
);

export async function readJob(db: Kysely<Database>, jobId: string): Promise<JobRow> {
  const [job] = await jobById(db, jobId);
  if (!job) throw notFound('Job');
  return job;
}

/** The job, if this worker still holds it under this lease; otherwise why not (lease_lost, job_cancelled). */
export async function leasedJob(
  db: Kysely<Database>,
  caller: WorkerCaller,
  jobId: string,
  leaseId: string,
): Promise<JobRow> {
  const job = await readJob(db, jobId);
  if (job.lease_id !== leaseId || job.worker_id !== caller.workerId) throw leaseLost();
  if (job.state === 'cancelled')
    throw new AppError('job_cancelled', 'This job was cancelled; drop it and pop the next one.');
  // Failed under this very lease: a prompt rule added since stops it (safety/reevaluation.ts).
  if (job.state === 'failed') {
    throw new AppError(
      'job_cancelled',
      'A content rule added after this job was queued refuses its prompt; drop it and pop the next one.',
    );
  }
  if (job.state !== 'leased') throw leaseLost(`The job is already ${job.state}.`);
  return job;
}

/**
 * Throws lease_lost unless the job was stopped under this very lease (then returns): cancelled by its
 * requester, or failed by a new prompt rule (the only failure that keeps the lease id).
 */
export async function explainLostLease(
  db: Kysely<Database>,
  caller: WorkerCaller,
  jobId: string,
  leaseId: string,
): Promise<void> {
  const job = await readJob(db, jobId);
  const stopped = job.state === 'cancelled' || job.state === 'failed';
  if (stopped && job.lease_id === leaseId && job.worker_id === caller.workerId) return;
  throw leaseLost();
}
