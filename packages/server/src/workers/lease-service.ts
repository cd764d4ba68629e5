import { setMaxListeners } from 'node:events';
// The worker's side of the queue: pop (long-poll) → heartbeat → result or failure. Every call after
// pop carries the lease id and every state change is fenced on it, so a worker whose lease expired or
// was cancelled can no longer touch the job.
import type { Kysely } from 'kysely';
import type { FailBody, HeartbeatResponse, JobAssignment, JobResult, PopBody } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobTooLargeError, imageKey } from '../storage/blob-store.js';
import { AppError, notFound } from '../errors.js';
import { newId, toIso } from '../ids.js';
import { claimJob } from '../jobs/sql/claim-job.js';
import { heartbeatJob } from '../jobs/sql/heartbeat-job.js';
import { completeJob } from '../jobs/sql/complete-job.js';
import { failJob } from '../jobs/sql/fail-job.js';
import { releaseJob } from '../jobs/sql/release-job.js';
import { expireLeases } from '../jobs/sql/expire-leases.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import { generationParams, imageUrl } from '../jobs/views.js';
import type { GenerationPublisher } from '../jobs/publisher.js';
import type { GenerationCache } from '../jobs/generation-cache.js';
import { imageParameters, validateUpload } from '../images/validate-upload.js';
import type { Metrics } from '../metrics/metrics.js';
import { PopWaiters } from './pop-waiters.js';
import { updateCapabilities } from './queries.js';
import type { CreditsService } from '../credits/service.js';
import type { LeaseHooks } from '../fairness/lease-hooks.js';
import type { Refusal, TrustService } from '../trust/service.js';
import { isReplicaId } from '../trust/sql/replicas.js';

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
type WorkerCaller = { workerId: string; userId: string };

export class LeaseService {
  readonly waiters = new PopWaiters();
  private readonly shutdown = new AbortController();
  /** Aborted when the coordinator shuts down, ending every long-poll at once. */
  readonly shutdownSignal: AbortSignal = this.shutdown.signal;
  private readonly capabilitiesSeen = new Map<string, { json: string; at: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly blobs: BlobStore,
    private readonly publisher: GenerationPublisher,
    private readonly generations: GenerationCache,
    private readonly metrics: Metrics,
    private readonly settings: LeaseSettings,
    private readonly credits: CreditsService,
    /** Output safety and fairness steps inside these transactions (fairness/lease-hooks.ts). */
    private readonly hooks: LeaseHooks,
    /** Verification and reputation (trust/): admission, checks on results, replicas (ids `rep_…`). */
    private readonly trust: TrustService,
  ) {
    bus.onJobs((n) => this.waiters.notify(n.model, n.count, n.pixels));
    // Every waiting long-poll and SSE stream listens for shutdown; hundreds are normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  async pop(caller: WorkerCaller, body: PopBody, signal: AbortSignal): Promise<JobAssignment | null> {
    const started = performance.now();
    await this.recordCapabilities(caller.workerId, body);
    const models = await this.trust.admit(caller, body);
    const waitMs = Math.min(this.settings.maxPopWaitMs, (body.waitSeconds ?? 30) * 1000);
    const deadline = performance.now() + waitMs;
    for (;;) {
      const remaining = deadline - performance.now();
      const wait = this.waiters.register(models, body.maxPixels, remaining, signal);
      const leaseId = newId();
      const replica = await this.trust.claimReplica(caller, body, models, leaseId);
      if (replica) {
        wait.cancel();
        const upload = await this.uploadTarget(replica.id, leaseId);
        return this.trust.replicas.assignment(replica, this.settings.heartbeatIntervalMs, upload);
      }
      const job = await claimJob(this.db, this.dialect, {
        workerId: caller.workerId,
        leaseId,
        models,
        maxPixels: body.maxPixels,
        now: this.clock.now(),
        leaseMs: this.settings.leaseMs,
      });
      if (job) {
        wait.cancel();
        this.metrics.popWait.observe((performance.now() - started) / 1000);
        return this.assignment(job, caller.workerId);
      }
      if (remaining <= 0 || signal.aborted) {
        wait.cancel();
        return null;
      }
      await wait.done;
    }
  }

  private async assignment(job: JobRow, workerId: string): Promise<JobAssignment> {
    const g = await this.generations.get(job.generation_id);
    this.publisher.emit(job.generation_id, { type: 'started', index: job.idx, workerId });
    const leaseId = job.lease_id as string;
    return {
      id: job.id,
      leaseId,
      leaseExpiresAt: toIso(job.lease_expires_at as number),
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      attempt: job.attempts,
      params: { ...generationParams(g), seed: job.seed },
      upload: await this.uploadTarget(job.id, leaseId),
    };
  }

  private async uploadTarget(jobId: string, leaseId: string): Promise<JobAssignment['upload']> {
    const direct = `${this.settings.publicUrl()}/v1/jobs/${jobId}/result?leaseId=${leaseId}`;
    if (!this.blobs.presignUpload) return { kind: 'direct', url: direct };
    const key = stagingKey(jobId, leaseId);
    const p = await this.blobs.presignUpload(key, {
      contentType: 'image/png',
      expiresInSeconds: this.settings.uploadUrlTtlSeconds,
    });
    return { kind: 'presigned', url: p.url, key, expiresAt: toIso(p.expiresAt), headers: p.headers };
  }

  /** Capabilities change rarely; write them (and last_seen) only when they changed or every 15 s. */
  private async recordCapabilities(workerId: string, body: PopBody): Promise<void> {
    const json = JSON.stringify([
      body.backend,
      body.models,
      body.maxPixels,
      body.hardware ?? {},
      body.version,
    ]);
    const now = this.clock.now();
    const seen = this.capabilitiesSeen.get(workerId);
    if (seen && seen.json === json && now - seen.at < 15_000) return;
    this.capabilitiesSeen.set(workerId, { json, at: now });
    await updateCapabilities(this.db, {
      id: workerId,
      backend: body.backend,
      models: JSON.stringify(body.models),
      max_pixels: body.maxPixels,
      hardware: JSON.stringify(body.hardware ?? {}),
      version: body.version ?? null,
      last_seen_at: now,
    });
  }

  async heartbeat(
    caller: WorkerCaller,
    jobId: string,
    p: { leaseId: string; step: number; totalSteps: number },
  ): Promise<HeartbeatResponse> {
    if (isReplicaId(jobId)) return this.trust.replicas.heartbeat(caller, jobId, p.leaseId);
    const leaseExpiresAt = this.clock.now() + this.settings.leaseMs;
    const row = await heartbeatJob(this.db, { jobId, ...p, leaseExpiresAt });
    if (!row) {
      await this.explainLostLease(caller, jobId, p.leaseId);
      // A cancelled job answers 200 with cancelled: true so the worker stops cleanly.
      return { leaseExpiresAt: toIso(this.clock.now()), cancelled: true };
    }
    this.publisher.emit(row.generation_id, {
      type: 'progress',
      index: row.idx,
      step: p.step,
      totalSteps: p.totalSteps,
    });
    return { leaseExpiresAt: toIso(leaseExpiresAt), cancelled: false };
  }

  private async readJob(jobId: string): Promise<JobRow> {
    const job = await this.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
    if (!job) throw notFound('Job');
    return job;
  }

  /** Throws lease_lost unless the job was cancelled under this very lease (then returns). */
  private async explainLostLease(caller: WorkerCaller, jobId: string, leaseId: string): Promise<void> {
    const job = await this.readJob(jobId);
    if (job.state === 'cancelled' && job.lease_id === leaseId && job.worker_id === caller.workerId) return;
    throw leaseLost();
  }

  private async leasedJob(caller: WorkerCaller, jobId: string, leaseId: string): Promise<JobRow> {
    const job = await this.readJob(jobId);
    if (job.lease_id !== leaseId || job.worker_id !== caller.workerId) throw leaseLost();
    if (job.state === 'cancelled') throw new AppError('job_cancelled', 'The requester cancelled this job.');
    if (job.state !== 'leased') throw leaseLost(`The job is already ${job.state}.`);
    return job;
  }

  /** A result uploaded through the coordinator. */
  async submitResult(caller: WorkerCaller, jobId: string, leaseId: string, body: Buffer): Promise<JobResult> {
    if (isReplicaId(jobId)) return this.trust.submitReplica(caller, jobId, leaseId, body);
    const job = await this.leasedJob(caller, jobId, leaseId);
    return this.acceptImage(caller, job, leaseId, body);
  }

  /** A result the worker put in object storage through its presigned URL. */
  async completeUpload(
    caller: WorkerCaller,
    jobId: string,
    leaseId: string,
    key: string,
  ): Promise<JobResult> {
    const job = isReplicaId(jobId) ? undefined : await this.leasedJob(caller, jobId, leaseId);
    if (!job) await this.trust.replicas.assertLeased(caller, jobId, leaseId);
    if (key !== stagingKey(jobId, leaseId)) {
      throw new AppError('validation_failed', 'The upload key is not the one issued for this lease.');
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await this.blobs.getLimited(key, this.settings.maxUploadBytes);
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        await this.blobs.delete(key);
        throw new AppError('payload_too_large', `The upload exceeds ${this.settings.maxUploadBytes} bytes.`);
      }
      throw err;
    }
    if (!bytes) throw new AppError('validation_failed', 'Nothing was uploaded to the presigned URL.');
    const result = job
      ? await this.acceptImage(caller, job, leaseId, bytes)
      : await this.trust.submitReplica(caller, jobId, leaseId, bytes);
    await this.blobs.delete(key);
    return result;
  }

  private async acceptImage(
    caller: WorkerCaller,
    job: JobRow,
    leaseId: string,
    upload: Buffer,
  ): Promise<JobResult> {
    const suspended = await this.trust.suspension(caller.workerId);
    if (suspended) {
      // Found bad while it ran this job: the job goes back to the queue with its attempt (trust/).
      await this.release(caller, job.id, leaseId);
      throw new AppError('worker_suspended', `This worker is suspended: ${suspended}`);
    }
    const g = await this.generations.get(job.generation_id);
    const image = await validateUpload(upload, g, imageParameters(g, job.seed));
    // Blank, noise, replay, too fast: refused before anything is stored, the job goes to another worker.
    const verdict = await this.trust.inspectJob(caller, job, g, image);
    if (verdict && !verdict.ok) {
      // Like a failure of the worker's own (the usual retry rules), plus a strike with the reason; unless
      // workers of several accounts all got the same from this job, which makes it the request's fault.
      const earlier = await this.trust.requestFault(caller, job.id, verdict);
      const reason = `Result rejected (${verdict.check}): ${verdict.detail}`;
      const failureClass = earlier.length > 0 ? 'request' : 'worker';
      await this.fail(caller, job.id, { leaseId, reason, failureClass }, { verdict, earlier });
      throw new AppError('result_rejected', verdict.detail);
    }
    // Content-addressed: storing the same bytes twice is harmless, so store before committing.
    await this.blobs.put(imageKey(image.sha256), image.png, 'image/png');
    const now = this.clock.now();
    let replica: Awaited<ReturnType<TrustService['jobAccepted']>>['announce'];
    const done = await this.db.transaction().execute(async (trx) => {
      const row = await completeJob(trx, {
        jobId: job.id,
        leaseId,
        sha256: image.sha256,
        bytes: image.png.length,
        now,
      });
      // Settled and paid with the state change, under the same lease fence: paid exactly when done.
      if (row) {
        const trusted = await this.trust.jobAccepted(trx, caller, row, verdict, { bytes: image.png.length });
        replica = trusted.announce;
        await this.credits.jobCompleted(trx, {
          id: row.id,
          generationId: row.generation_id,
          pixels: row.pixels,
          steps: g.steps,
          workerId: caller.workerId,
          workerOwnerId: caller.userId,
          holdEarning: trusted.holdEarning,
        });
        // Not public until classified (safety row); the worker's measured speed.
        await this.hooks.jobCompleted(trx, row, now);
      }
      return row;
    });
    if (!done) throw leaseLost('The lease was lost while the upload was checked.');
    await this.trust.announce(replica);
    this.hooks.jobStored(done);
    this.metrics.jobsCompleted.inc();
    const url = imageUrl(job.generation_id, job.idx);
    this.publisher.emit(job.generation_id, {
      type: 'image',
      index: job.idx,
      url,
      sha256: image.sha256,
    });
    await this.publisher.finishIfDone(job.generation_id, { n: g.n, state: 'done' });
    return { jobId: job.id, sha256: image.sha256, bytes: image.png.length, url };
  }

  async fail(
    caller: WorkerCaller,
    jobId: string,
    body: FailBody,
    /** Set when a verification check refused the worker's result (trust/). */
    refused?: Refusal,
  ): Promise<{ state: string; attempts: number }> {
    if (isReplicaId(jobId)) return this.trust.failReplica(caller, jobId, body.leaseId, body.reason, false);
    await this.leasedJob(caller, jobId, body.leaseId);
    const failureClass = body.failureClass ?? 'worker';
    const now = this.clock.now();
    const job = await this.db.transaction().execute(async (trx) => {
      const row = await failJob(trx, {
        jobId,
        leaseId: body.leaseId,
        reason: body.reason,
        // A request that cannot succeed anywhere is not retried, whatever the worker said.
        retryable: failureClass !== 'request' && (body.retryable ?? true),
        failureClass,
        now,
      });
      // Counted against the worker only when it was its fault (fairness/failure-classes.ts).
      if (row) await this.hooks.jobFailed(trx, row, { class: failureClass, reason: body.reason, now });
      if (row && refused) await this.trust.jobRejected(trx, caller, jobId, refused);
      // Failed for good (no retry left, or not retryable): its share is refunded with the failure.
      if (row?.state === 'failed') {
        await this.credits.jobsRefunded(trx, [{ id: row.id, generationId: row.generation_id }]);
      }
      return row;
    });
    if (!job) throw leaseLost('The lease was lost before the failure was recorded.');
    await this.afterTakenBack(job, body.reason);
    return { state: job.state, attempts: job.attempts };
  }

  async release(
    caller: WorkerCaller,
    jobId: string,
    leaseId: string,
  ): Promise<{ state: string; attempts: number }> {
    if (isReplicaId(jobId))
      return this.trust.failReplica(caller, jobId, leaseId, 'The worker shut down.', true);
    await this.leasedJob(caller, jobId, leaseId);
    const job = await releaseJob(this.db, { jobId, leaseId });
    if (!job) throw leaseLost('The lease was lost before the job was released.');
    await this.afterTakenBack(job, 'The worker shut down and handed the job back.');
    return { state: job.state, attempts: job.attempts };
  }

  stop(): void {
    this.shutdown.abort();
    this.waiters.wakeAll();
  }

  /** Takes back expired leases; runs on a timer. Returns how many jobs it took back. */
  async expire(): Promise<number> {
    const now = this.clock.now();
    const expired = await this.db.transaction().execute(async (trx) => {
      // Leases that ran out while the coordinator was down go back excused, their attempt returned.
      const excused = await this.hooks.takeBackOutageLeases(trx, now);
      const rows = await expireLeases(trx, now);
      await this.hooks.leasesExpired(trx, rows, now);
      // Jobs out of attempts fail here: their shares are refunded in the same transaction.
      const failed = rows.filter((j) => j.state === 'failed');
      await this.credits.jobsRefunded(
        trx,
        failed.map((j) => ({ id: j.id, generationId: j.generation_id })),
      );
      return [...excused, ...rows];
    });
    for (const job of expired) {
      this.metrics.leaseExpiries.inc();
      await this.afterTakenBack(job, 'The worker stopped responding (lease expired).');
    }
    await this.trust.expireReplicas();
    return expired.length;
  }

  private async afterTakenBack(
    job: Pick<JobRow, 'generation_id' | 'idx' | 'state' | 'model'>,
    reason: string,
  ): Promise<void> {
    const g = await this.generations.get(job.generation_id);
    if (job.state === 'queued') {
      this.publisher.emit(job.generation_id, { type: 'requeued', index: job.idx, reason });
      await this.bus.publishJobs({ model: job.model, count: 1, pixels: g.width * g.height });
    } else {
      this.publisher.emit(job.generation_id, { type: 'failed', index: job.idx, reason });
      await this.publisher.finishIfDone(job.generation_id, { n: g.n, state: job.state });
    }
  }
}

function leaseLost(
  detail = 'This lease expired or was handed back; drop the job and pop the next one.',
): AppError {
  return new AppError('lease_lost', detail);
}

/** Where a presigned upload lands before it is checked; scoped to one lease so it cannot overwrite anything else. */
export function stagingKey(jobId: string, leaseId: string): string {
  return `uploads/${jobId}/${leaseId}.png`;
}
