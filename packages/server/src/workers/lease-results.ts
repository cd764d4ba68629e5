// A leased job's result: validated (untrusted upload), checked by trust/ (blank, noise, replay, too fast),
// stored by content, and committed in one transaction with everything that follows from it: the job done
// under its lease fence, the trust record and standing, the requester settled and the worker paid, the
// safety row and the worker's speed.
import type { JobResult } from '@dreamfold/protocol';
import { imageKey } from '../storage/blob-store.js';
import { AppError } from '../errors.js';
import { completeJob } from '../jobs/sql/complete-job.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import { imageUrl } from '../jobs/views.js';
import { imageParameters } from '../images/validate-upload.js';
import type { TrustService } from '../trust/service.js';
import { SuspendedMeanwhile } from '../trust/standing.js';
import type { JobReceipt } from '../credits/service.js';
import { leasedJob, leaseLost, type LeaseDeps, type WorkerCaller } from './lease-context.js';
import type { LeaseReturns } from './lease-returns.js';

export class ResultIntake {
  constructor(
    private readonly deps: LeaseDeps,
    private readonly returns: LeaseReturns,
  ) {}

  async accept(caller: WorkerCaller, job: JobRow, leaseId: string, upload: Buffer): Promise<JobResult> {
    const { trust, blobs, writes, credits, hooks, publisher } = this.deps;
    const suspended = await trust.suspension(caller.workerId);
    if (suspended) {
      // Found bad while it ran this job: the job goes back to the queue with its attempt (trust/).
      await this.returns.release(caller, job.id, leaseId);
      throw new AppError('worker_suspended', `This worker is suspended: ${suspended}`);
    }
    const g = await this.deps.generations.get(job.generation_id);
    const image = await this.deps.uploads.validate(upload, g, {
      parameters: imageParameters(g, job.seed),
      // Off the event loop with the rest, when trust/ will look at them.
      analyse: trust.enabled,
    });
    // Blank, noise, replay, too fast: refused before anything is stored, the job goes to another worker.
    const verdict = await trust.inspectJob(caller, job, g, image);
    if (verdict && !verdict.ok) {
      // Like a failure of the worker's own (the usual retry rules), plus a strike with the reason; unless
      // workers of several accounts all got the same from this job, which makes it the request's fault.
      const earlier = await trust.requestFault(caller, job.id, verdict);
      const reason = `Result rejected (${verdict.check}): ${verdict.detail}`;
      const failureClass = earlier.length > 0 ? 'request' : 'worker';
      await this.returns.fail(caller, job.id, { leaseId, reason, failureClass }, { verdict, earlier });
      throw new AppError('result_rejected', verdict.detail);
    }
    // Content-addressed: storing the same bytes twice is harmless, so store before committing.
    await blobs.put(imageKey(image.sha256), image.png, 'image/png');
    const now = this.deps.clock.now();
    let replica: Awaited<ReturnType<TrustService['jobAccepted']>>['announce'];
    let receipt: JobReceipt | undefined;
    // On SQLite, shared with the commits of concurrent claims, results and submissions (db/group-commit.ts):
    // answered only after the commit that holds it, and rolled back alone if it fails.
    const done = await writes
      .transaction(async (trx) => {
        const row = await completeJob(trx, this.deps.dialect, {
          jobId: job.id,
          leaseId,
          sha256: image.sha256,
          bytes: image.png.length,
          now,
        });
        // Settled and paid with the state change, under the same lease fence: paid exactly when done.
        if (row) {
          const trusted = await trust.jobAccepted(trx, caller, row, verdict, { bytes: image.png.length });
          replica = trusted.announce;
          receipt = await credits.jobCompleted(trx, {
            id: row.id,
            generationId: row.generation_id,
            pixels: row.pixels,
            steps: g.steps,
            workerId: caller.workerId,
            workerOwnerId: caller.userId,
            holdEarning: trusted.holdEarning,
            reruns: row.reruns,
          });
          // Not public until classified (safety row); the worker's measured speed.
          await hooks.jobCompleted(trx, row, now);
        }
        return row;
      })
      .catch(async (err: unknown) => {
        if (!(err instanceof SuspendedMeanwhile)) throw err;
        // Found bad while this upload was checked: rolled back, and the job goes to another worker.
        await this.returns.release(caller, job.id, leaseId);
        throw new AppError('worker_suspended', `This worker is suspended: ${err.message}`);
      });
    if (!done) {
      // The job may have been remembered from its pop (handed-out-leases.ts) and cancelled or taken back
      // since: read it to say which (job_cancelled, lease_lost).
      await leasedJob(this.deps.db, caller, job.id, leaseId);
      throw leaseLost('The lease was lost while the upload was checked.');
    }
    await trust.announce(replica);
    hooks.jobStored(done);
    this.deps.metrics.jobsCompleted.inc();
    const url = imageUrl(job.generation_id, job.idx);
    publisher.emit(job.generation_id, {
      type: 'image',
      index: job.idx,
      url,
      sha256: image.sha256,
    });
    await publisher.finishIfDone(job.generation_id, { n: g.n, state: 'done' });
    return { jobId: job.id, sha256: image.sha256, bytes: image.png.length, url, receipt };
  }
}
