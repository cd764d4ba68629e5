// One job, start to finish: load the model, generate while heartbeating, deliver the PNG. Whatever happens
// the job ends in exactly one outcome, and the coordinator is told when that is ours to tell (fail,
// release); a job that is no longer ours (cancelled, lease lost) is simply dropped.
import type { JobAssignment, WorkerFailureClass } from '@dreamfold/protocol';
import type { Logger } from 'pino';
import type { Backend, ImageEmbedding } from './backend.js';
import type { CoordinatorClient } from './client.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { ProblemError, TransientError, isDropJob } from './errors.js';
import { Heartbeat, type LostReason } from './heartbeat.js';
import { failureClassOf } from './failure-class.js';

export type JobOutcome = 'done' | 'cancelled' | 'lease_lost' | 'failed' | 'rejected' | 'released';

export interface JobContext {
  client: CoordinatorClient;
  backend: Backend;
  log: Logger;
  backoff: BackoffOptions;
  /** Aborted on the second signal: drop everything, hand the job back. */
  force: AbortSignal;
  /** How long to keep retrying delivery of a finished image while the coordinator is unreachable. */
  uploadRetryMs: number;
}

type StopReason = LostReason | 'forced';

export async function runJob(ctx: JobContext, job: JobAssignment): Promise<JobOutcome> {
  const log = ctx.log.child({ jobId: job.id, attempt: job.attempt, model: job.params.model });
  const stop = new AbortController();
  const stopWith = (reason: StopReason) => {
    if (!stop.signal.aborted) stop.abort(reason);
  };
  const onForce = () => stopWith('forced');
  ctx.force.addEventListener('abort', onForce, { once: true });
  if (ctx.force.aborted) stopWith('forced');

  const heartbeat = new Heartbeat({
    client: ctx.client,
    jobId: job.id,
    leaseId: job.leaseId,
    intervalMs: job.heartbeatIntervalMs,
    totalSteps: job.params.steps,
    log,
    onLost: (reason) => {
      log.info({ reason }, reason === 'cancelled' ? 'job cancelled by the requester' : 'lease lost');
      stopWith(reason);
    },
  });
  heartbeat.start();
  const started = Date.now();
  log.info({ width: job.params.width, height: job.params.height, steps: job.params.steps }, 'job started');
  try {
    let png: Buffer;
    try {
      await ctx.backend.load(job.params.model);
      png = await ctx.backend.generate(job.params, {
        signal: stop.signal,
        onProgress: (step, total) => heartbeat.progress(step, total),
      });
      if (stop.signal.aborted) throw stop.signal.reason;
    } catch (err) {
      if (stop.signal.aborted)
        return await stopped(ctx, job, log, heartbeat, stop.signal.reason as StopReason);
      const reason = (err as Error).message || String(err);
      // Whose fault: a request or model mismatch never counts against this worker (failure-class.ts).
      const failureClass = failureClassOf(err);
      log.warn({ err: reason, failureClass }, 'generation failed');
      await heartbeat.stop();
      await tellFailure(ctx, job, log, reason.slice(0, 2000), failureClass);
      return 'failed';
    }
    const embedding = await embedResult(ctx, job, log, png);
    const outcome = await deliver(ctx, job, log, png, stop.signal, embedding);
    if (outcome === 'stopped')
      return await stopped(ctx, job, log, heartbeat, stop.signal.reason as StopReason);
    await heartbeat.stop();
    if (outcome === 'done') log.info({ ms: Date.now() - started, bytes: png.length }, 'job done');
    return outcome;
  } finally {
    heartbeat.cancel();
    ctx.force.removeEventListener('abort', onForce);
  }
}

async function stopped(
  ctx: JobContext,
  job: JobAssignment,
  log: Logger,
  heartbeat: Heartbeat,
  reason: StopReason,
): Promise<JobOutcome> {
  if (reason !== 'forced') {
    await heartbeat.stop();
    return reason;
  }
  heartbeat.cancel();
  try {
    const answer = await ctx.client.release(job.id, job.leaseId, 5000);
    log.info({ state: answer.state }, 'job handed back');
  } catch (err) {
    // Unreachable: the lease runs out on its own and the job is queued again then.
    log.warn({ err: (err as Error).message }, 'could not hand the job back; its lease will expire');
  }
  return 'released';
}

/** The image's CLIP embedding when the backend has an encoder; a failure costs the embedding, not the image. */
async function embedResult(
  ctx: JobContext,
  job: JobAssignment,
  log: Logger,
  png: Buffer,
): Promise<ImageEmbedding | undefined> {
  try {
    return await ctx.backend.embed?.(png, job.params.model);
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'could not compute the image embedding; sending the image without',
    );
    return undefined;
  }
}

/**
 * Sends the embedding (when there is one) and uploads, retrying while the coordinator is unreachable;
 * 'stopped' when the job was taken away meanwhile.
 */
async function deliver(
  ctx: JobContext,
  job: JobAssignment,
  log: Logger,
  png: Buffer,
  signal: AbortSignal,
  embedding?: ImageEmbedding,
): Promise<JobOutcome | 'stopped'> {
  const backoff = new Backoff(ctx.backoff);
  const giveUpAt = Date.now() + ctx.uploadRetryMs;
  let pending = embedding;
  for (;;) {
    try {
      if (pending) {
        try {
          await ctx.client.sendEmbedding(job, pending, signal);
        } catch (err) {
          // Refused (e.g. another embedding width than the coordinator's): the image still goes.
          if (!(err instanceof ProblemError) || isDropJob(err)) throw err;
          const refused = err as ProblemError;
          log.warn({ status: refused.status, type: refused.type, err: refused.message }, 'embedding refused');
        }
        pending = undefined;
      }
      const result = await ctx.client.upload(job, png, signal);
      // The receipt: what this job earned the owner, as the ledger recorded it.
      if (result.receipt) {
        log.info(
          {
            credits: result.receipt.credits,
            held: result.receipt.held ?? false,
            transferId: result.receipt.transferId,
          },
          result.receipt.held
            ? `earned ${result.receipt.credits} credits (held until this worker's results are verified)`
            : `earned ${result.receipt.credits} credits`,
        );
      }
      return 'done';
    } catch (err) {
      if (signal.aborted) return 'stopped';
      if (isDropJob(err)) {
        log.info({ reason: err.type }, 'result not accepted: the job is no longer ours');
        return err.type === 'job_cancelled' ? 'cancelled' : 'lease_lost';
      }
      if (err instanceof ProblemError && err.type === 'result_rejected') {
        // A verification check refused it (blank, noise, replay, too fast); the coordinator already gave
        // the job to another worker, so there is nothing to report back. The owner sees it on the
        // worker's reputation page.
        log.error(
          { status: err.status, type: err.type, err: err.message },
          'result rejected by verification',
        );
        return 'rejected';
      }
      if (err instanceof ProblemError) {
        // 4xx such as invalid_image or wrong_image_size: our backend produced something unusable.
        log.error({ status: err.status, type: err.type, err: err.message }, 'result rejected');
        await tellFailure(ctx, job, log, `The worker's image was rejected: ${err.message}`.slice(0, 2000));
        return 'rejected';
      }
      if (!(err instanceof TransientError) || Date.now() >= giveUpAt) {
        log.error({ err: (err as Error).message }, 'could not deliver the result; the lease will expire');
        return 'lease_lost';
      }
      const delay = backoff.next(err.retryAfterMs);
      log.warn({ err: err.message, retryInMs: delay }, 'upload failed, retrying');
      await sleep(delay, signal);
    }
  }
}

/**
 * Reports a failure and whose fault it was (retryable unless the request itself cannot succeed). A few
 * tries; the lease expiry is the fallback.
 */
async function tellFailure(
  ctx: JobContext,
  job: JobAssignment,
  log: Logger,
  reason: string,
  failureClass: WorkerFailureClass = 'worker',
): Promise<void> {
  const backoff = new Backoff(ctx.backoff);
  for (let attempt = 0; attempt < 4 && !ctx.force.aborted; attempt++) {
    try {
      const answer = await ctx.client.fail(job.id, {
        leaseId: job.leaseId,
        reason,
        retryable: failureClass !== 'request',
        failureClass,
      });
      log.info({ state: answer.state, attempts: answer.attempts }, 'failure reported');
      return;
    } catch (err) {
      if (!(err instanceof TransientError)) {
        log.warn({ err: (err as Error).message }, 'failure not recorded');
        return;
      }
      await sleep(backoff.next(err.retryAfterMs), ctx.force);
    }
  }
}
