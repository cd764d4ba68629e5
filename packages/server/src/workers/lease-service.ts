// The worker's side of the queue: pop (long-poll) → heartbeat → result or failure. Every call after
// pop carries the lease id and every state change is fenced on it, so a worker whose lease expired or
// was cancelled can no longer touch the job. This class is the entry point the routes call; the work is
// in lease-assignment.ts (what pop hands out), lease-results.ts (a result), lease-returns.ts (failures,
// hand-backs, expiry) and lease-context.ts (the shared dependencies and the lease fence).
import { setMaxListeners } from 'node:events';
import type { Kysely } from 'kysely';
import type { FailBody, HeartbeatResponse, JobAssignment, JobResult, PopBody } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobTooLargeError } from '../storage/blob-store.js';
import { AppError, type ErrorCode } from '../errors.js';
import { newId, toIso } from '../ids.js';
import { claimJob } from '../jobs/sql/claim-job.js';
import { heartbeatJob } from '../jobs/sql/heartbeat-job.js';
import type { GenerationPublisher } from '../jobs/publisher.js';
import type { GenerationCache } from '../jobs/generation-cache.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CreditsService } from '../credits/service.js';
import type { LeaseHooks } from '../fairness/lease-hooks.js';
import type { Refusal, TrustService } from '../trust/service.js';
import { isReplicaId } from '../trust/sql/replicas.js';
import { PopWaiters } from './pop-waiters.js';
import type { UploadValidator } from '../images/upload-validator.js';
import { writeTransactions } from '../db/group-commit.js';
import {
  explainLostLease,
  leasedJob,
  type LeaseDeps,
  type LeaseSettings,
  type WorkerCaller,
} from './lease-context.js';
import { Assignments, stagingKey } from './lease-assignment.js';
import { LeaseReturns } from './lease-returns.js';
import { ResultIntake } from './lease-results.js';
import { HandedOutLeases } from './handed-out-leases.js';

export type { LeaseSettings } from './lease-context.js';
export { stagingKey } from './lease-assignment.js';

/** Errors after which the lease is over for good, whatever the worker does next. */
const LEASE_OVER = new Set<ErrorCode>(['lease_lost', 'job_cancelled', 'worker_suspended', 'result_rejected']);

export class LeaseService {
  readonly waiters = new PopWaiters();
  private readonly shutdown = new AbortController();
  /** Aborted when the coordinator shuts down, ending every long-poll at once. */
  readonly shutdownSignal: AbortSignal = this.shutdown.signal;
  private readonly deps: LeaseDeps;
  private readonly assignments: Assignments;
  private readonly returns: LeaseReturns;
  private readonly results: ResultIntake;
  /** Jobs handed out here, so their results need no read of the job first (handed-out-leases.ts). */
  private readonly handedOut = new HandedOutLeases();

  constructor(
    db: Kysely<Database>,
    dialect: Dialect,
    clock: Clock,
    bus: EventBus,
    blobs: BlobStore,
    publisher: GenerationPublisher,
    generations: GenerationCache,
    metrics: Metrics,
    settings: LeaseSettings,
    credits: CreditsService,
    /** Output safety and fairness steps inside these transactions (fairness/lease-hooks.ts). */
    hooks: LeaseHooks,
    /** Verification and reputation (trust/): admission, checks on results, replicas (ids `rep_…`). */
    trust: TrustService,
    uploads: UploadValidator,
  ) {
    this.deps = {
      db,
      dialect,
      clock,
      bus,
      blobs,
      publisher,
      generations,
      metrics,
      settings,
      credits,
      hooks,
      trust,
      writes: writeTransactions(db, dialect),
      uploads,
    };
    this.assignments = new Assignments(this.deps);
    this.returns = new LeaseReturns(this.deps);
    this.results = new ResultIntake(this.deps, this.returns);
    bus.onJobs((n) => this.waiters.notify(n.model, n.count, n.pixels));
    // Every waiting long-poll and SSE stream listens for shutdown; hundreds are normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  /**
   * Leases the next job for this worker, long-polling up to its wait. `mayWait` is asked once, when no
   * job was found and before any waiting: false ends the pop empty-handed (a paused worker, fairness/).
   */
  async pop(
    caller: WorkerCaller,
    body: PopBody,
    signal: AbortSignal,
    mayWait?: () => Promise<boolean>,
  ): Promise<JobAssignment | null> {
    const { dialect, clock, settings, trust, writes } = this.deps;
    const started = performance.now();
    await this.assignments.recordCapabilities(caller.workerId, body);
    const models = await trust.admit(caller, body);
    const waitMs = Math.min(settings.maxPopWaitMs, (body.waitSeconds ?? 30) * 1000);
    const deadline = performance.now() + waitMs;
    for (;;) {
      const remaining = deadline - performance.now();
      const wait = this.waiters.register(models, body.maxPixels, remaining, signal);
      const leaseId = newId();
      const replica = await trust.claimReplica(caller, body, models, leaseId);
      if (replica) {
        wait.cancel();
        const upload = await this.assignments.uploadTarget(replica.id, leaseId);
        return trust.replicas.assignment(replica, settings.heartbeatIntervalMs, upload);
      }
      // On SQLite the claims of a burst of pops (and the results and submissions beside them) share one
      // commit; the job is handed out only after that commit.
      const job = await writes.atomic((db) =>
        claimJob(db, dialect, {
          workerId: caller.workerId,
          leaseId,
          models,
          maxPixels: body.maxPixels,
          now: clock.now(),
          leaseMs: settings.leaseMs,
          announceStarted: this.deps.bus.generationNoticeSql,
        }),
      );
      if (job) {
        wait.cancel();
        this.deps.metrics.popWait.observe((performance.now() - started) / 1000);
        this.handedOut.remember(job);
        return this.assignments.ofJob(job, caller.workerId);
      }
      if (mayWait && !(await mayWait())) {
        // A wake-up that reached this waiter while it asked was meant for a worker that can take the
        // job: pass it on (rare; the woken ones that find nothing wait again).
        if (!wait.cancel()) this.waiters.wakeAll();
        return null;
      }
      mayWait = undefined;
      if (remaining <= 0 || signal.aborted) {
        wait.cancel();
        return null;
      }
      await wait.done;
    }
  }

  async heartbeat(
    caller: WorkerCaller,
    jobId: string,
    p: { leaseId: string; step: number; totalSteps: number },
  ): Promise<HeartbeatResponse> {
    const { db, clock, settings } = this.deps;
    if (isReplicaId(jobId)) return this.deps.trust.replicas.heartbeat(caller, jobId, p.leaseId);
    const leaseExpiresAt = clock.now() + settings.leaseMs;
    const row = await heartbeatJob(db, { jobId, ...p, leaseExpiresAt });
    if (!row) {
      // Cancelled, expired or taken back: no result will come under this lease.
      this.handedOut.forget(p.leaseId, caller.workerId);
      await explainLostLease(db, caller, jobId, p.leaseId);
      // A cancelled job answers 200 with cancelled: true so the worker stops cleanly.
      return { leaseExpiresAt: toIso(clock.now()), cancelled: true };
    }
    this.deps.publisher.emit(row.generation_id, {
      type: 'progress',
      index: row.idx,
      step: p.step,
      totalSteps: p.totalSteps,
    });
    return { leaseExpiresAt: toIso(leaseExpiresAt), cancelled: false };
  }

  /** A result uploaded through the coordinator. */
  async submitResult(caller: WorkerCaller, jobId: string, leaseId: string, body: Buffer): Promise<JobResult> {
    if (isReplicaId(jobId)) return this.deps.trust.submitReplica(caller, jobId, leaseId, body);
    const job = await this.jobUnderLease(caller, jobId, leaseId);
    return this.leaseEnds(caller, leaseId, this.results.accept(caller, job, leaseId, body));
  }

  /** The job as handed out under this lease, remembered here or read (and checked) from the database. */
  private async jobUnderLease(caller: WorkerCaller, jobId: string, leaseId: string) {
    return (
      this.handedOut.find(jobId, leaseId, caller.workerId) ??
      (await leasedJob(this.deps.db, caller, jobId, leaseId))
    );
  }

  /**
   * Forgets the remembered lease once `outcome` ended it: stored, failed, handed back, or found lost or
   * cancelled. A refused upload (invalid image, …) leaves the lease to the worker, which may try again.
   */
  private async leaseEnds<T>(caller: WorkerCaller, leaseId: string, outcome: Promise<T>): Promise<T> {
    try {
      const result = await outcome;
      this.handedOut.forget(leaseId, caller.workerId);
      return result;
    } catch (err) {
      if (err instanceof AppError && LEASE_OVER.has(err.code))
        this.handedOut.forget(leaseId, caller.workerId);
      throw err;
    }
  }

  /** A result the worker put in object storage through its presigned URL. */
  async completeUpload(
    caller: WorkerCaller,
    jobId: string,
    leaseId: string,
    key: string,
  ): Promise<JobResult> {
    const { blobs, settings, trust } = this.deps;
    const job = isReplicaId(jobId) ? undefined : await this.jobUnderLease(caller, jobId, leaseId);
    if (!job) await trust.replicas.assertLeased(caller, jobId, leaseId);
    if (key !== stagingKey(jobId, leaseId)) {
      throw new AppError('validation_failed', 'The upload key is not the one issued for this lease.');
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await blobs.getLimited(key, settings.maxUploadBytes);
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        await blobs.delete(key);
        throw new AppError('payload_too_large', `The upload exceeds ${settings.maxUploadBytes} bytes.`);
      }
      throw err;
    }
    if (!bytes) throw new AppError('validation_failed', 'Nothing was uploaded to the presigned URL.');
    const result = job
      ? await this.leaseEnds(caller, leaseId, this.results.accept(caller, job, leaseId, bytes))
      : await trust.submitReplica(caller, jobId, leaseId, bytes);
    await blobs.delete(key);
    return result;
  }

  fail(
    caller: WorkerCaller,
    jobId: string,
    body: FailBody,
    /** Set when a verification check refused the worker's result (trust/). */
    refused?: Refusal,
  ): Promise<{ state: string; attempts: number }> {
    return this.leaseEnds(caller, body.leaseId, this.returns.fail(caller, jobId, body, refused));
  }

  release(
    caller: WorkerCaller,
    jobId: string,
    leaseId: string,
  ): Promise<{ state: string; attempts: number }> {
    return this.leaseEnds(caller, leaseId, this.returns.release(caller, jobId, leaseId));
  }

  /** Takes back expired leases; runs on a timer. Returns how many jobs it took back. */
  expire(): Promise<number> {
    return this.returns.expire();
  }

  stop(): void {
    this.shutdown.abort();
    this.waiters.wakeAll();
  }
}
