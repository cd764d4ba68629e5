// Jobs coming back from a worker: a failure it reports, a job it hands back while shutting down, and
// leases that ran out (the reaper). Each state change is fenced on the lease and carries, in its own
// transaction, what it means for the worker (fairness incidents, trust strikes) and for the requester
// (a job failed for good is refunded).
import type { FailBody } from '@dreamfold/protocol';
import { failJob } from '../jobs/sql/fail-job.js';
import { releaseJob } from '../jobs/sql/release-job.js';
import { expireLeases } from '../jobs/sql/expire-leases.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import type { Refusal } from '../trust/service.js';
import { isReplicaId } from '../trust/sql/replicas.js';
import { leasedJob, leaseLost, type LeaseDeps, type WorkerCaller } from './lease-context.js';

export class LeaseReturns {
  constructor(private readonly deps: LeaseDeps) {}

  async fail(
    caller: WorkerCaller,
    jobId: string,
    body: FailBody,
    /** Set when a verification check refused the worker's result (trust/). */
    refused?: Refusal,
  ): Promise<{ state: string; attempts: number }> {
    const { db, trust, hooks, credits } = this.deps;
    if (isReplicaId(jobId)) return trust.failReplica(caller, jobId, body.leaseId, body.reason, false);
    await leasedJob(db, caller, jobId, body.leaseId);
    const failureClass = body.failureClass ?? 'worker';
    const now = this.deps.clock.now();
    const job = await db.transaction().execute(async (trx) => {
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
      if (row) await hooks.jobFailed(trx, row, { class: failureClass, reason: body.reason, now });
      if (row && refused) await trust.jobRejected(trx, caller, jobId, refused);
      // Failed for good (no retry left, or not retryable): its share is refunded with the failure.
      if (row?.state === 'failed') {
        await credits.jobsRefunded(trx, [{ id: row.id, generationId: row.generation_id }]);
      }
      return row;
    });
    if (!job) throw leaseLost('The lease was lost before the failure was recorded.');
    // A strike may have suspended the worker and queued its withdrawn jobs again: wake workers for them.
    if (refused) await trust.announce();
    await this.afterTakenBack(job, body.reason);
    return { state: job.state, attempts: job.attempts };
  }

  async release(
    caller: WorkerCaller,
    jobId: string,
    leaseId: string,
  ): Promise<{ state: string; attempts: number }> {
    const { db, trust } = this.deps;
    if (isReplicaId(jobId)) return trust.failReplica(caller, jobId, leaseId, 'The worker shut down.', true);
    await leasedJob(db, caller, jobId, leaseId);
    const job = await releaseJob(db, { jobId, leaseId });
    if (!job) throw leaseLost('The lease was lost before the job was released.');
    await this.afterTakenBack(job, 'The worker shut down and handed the job back.');
    return { state: job.state, attempts: job.attempts };
  }

  /** Takes back expired leases; runs on a timer. Returns how many jobs it took back. */
  async expire(): Promise<number> {
    const { db, hooks, credits } = this.deps;
    const now = this.deps.clock.now();
    const expired = await db.transaction().execute(async (trx) => {
      // Leases that ran out while the coordinator was down go back excused, their attempt returned.
      const excused = await hooks.takeBackOutageLeases(trx, now);
      const rows = await expireLeases(trx, now);
      await hooks.leasesExpired(trx, rows, now);
      // Jobs out of attempts fail here: their shares are refunded in the same transaction.
      const failed = rows.filter((j) => j.state === 'failed');
      await credits.jobsRefunded(
        trx,
        failed.map((j) => ({ id: j.id, generationId: j.generation_id })),
      );
      return [...excused, ...rows];
    });
    for (const job of expired) {
      this.deps.metrics.leaseExpiries.inc();
      await this.afterTakenBack(job, 'The worker stopped responding (lease expired).');
    }
    await this.deps.trust.expireReplicas();
    return expired.length;
  }

  /** Tells the requester (and waiting workers, when it is queued again) that the job came back. */
  async afterTakenBack(
    job: Pick<JobRow, 'generation_id' | 'idx' | 'state' | 'model'>,
    reason: string,
  ): Promise<void> {
    const { publisher, bus } = this.deps;
    const g = await this.deps.generations.get(job.generation_id);
    if (job.state === 'queued') {
      publisher.emit(job.generation_id, { type: 'requeued', index: job.idx, reason });
      await bus.publishJobs({ model: job.model, count: 1, pixels: g.width * g.height });
    } else {
      publisher.emit(job.generation_id, { type: 'failed', index: job.idx, reason });
      await publisher.finishIfDone(job.generation_id, { n: g.n, state: job.state });
    }
  }
}
