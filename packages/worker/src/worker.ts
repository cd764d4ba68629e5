// The daemon loop: pop → run the job → repeat, until told to stop, out of jobs (--max-jobs) or out of
// time (--until). While the coordinator is unreachable or overloaded it backs off with full jitter.
import type { Hardware, PopBody } from '@dreamfold/protocol';
import type { Logger } from 'pino';
import type { Backend } from './backend.js';
import { CoordinatorClient } from './client.js';
import { Backoff, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff.js';
import { FatalWorkerError, ProblemError, TransientError } from './errors.js';
import { hostHardware } from './hardware.js';
import { runJob, type JobOutcome } from './job-runner.js';
import { WORKER_VERSION } from './version.js';
import { IdleReporter, type IdleReportOptions } from './idle-report.js';
import type { GpuIdleGate } from './gpu-idle.js';

export interface WorkerOptions {
  serverUrl: string;
  key: string;
  backend: Backend;
  log: Logger;
  /** Stop taking jobs after this many (any outcome). */
  maxJobs?: number;
  /** Stop taking jobs at this moment (batch allocations). */
  until?: Date;
  /** Never accept jobs larger than this, whatever the models could do. */
  maxPixels?: number;
  /** Long-poll length (≤ 30 s). */
  waitSeconds?: number;
  backoff?: BackoffOptions;
  uploadRetryMs?: number;
  /** --only-when-gpu-idle: ask for jobs only while nothing else keeps the GPU busy (gpu-idle.ts). */
  gpuIdle?: GpuIdleGate;
  /** When to log why no jobs come (idle-report.ts). */
  idleReport?: IdleReportOptions;
}

/** Why run() returned: finished normally (exit 0) or forced (exit non-zero). */
export type StopReason = 'stopped' | 'max_jobs' | 'until' | 'forced';

const PROTOCOL_MIN_PIXELS = 4096;
const PROTOCOL_MAX_PIXELS = 16_777_216;

export class Worker {
  private readonly client: CoordinatorClient;
  private readonly graceful = new AbortController();
  private readonly force = new AbortController();
  private readonly counts: Record<JobOutcome, number> = {
    done: 0,
    cancelled: 0,
    lease_lost: 0,
    failed: 0,
    rejected: 0,
    released: 0,
  };
  private jobsTaken = 0;
  private busy = false;

  constructor(private readonly options: WorkerOptions) {
    this.client = new CoordinatorClient({
      serverUrl: options.serverUrl,
      key: options.key,
      userAgent: `dreamfold-worker/${WORKER_VERSION}`,
    });
  }

  /** First signal: finish (and deliver) the current job, take no new one. */
  stop(): void {
    this.graceful.abort();
  }

  /** Second signal: abort the current job and hand its lease back. */
  forceStop(): void {
    this.graceful.abort();
    this.force.abort();
  }

  get isBusy(): boolean {
    return this.busy;
  }

  get outcomes(): Readonly<Record<JobOutcome, number>> {
    return this.counts;
  }

  async run(): Promise<StopReason> {
    const { log } = this.options;
    const pop = await this.capabilities();
    log.info(
      { backend: pop.backend, models: pop.models, maxPixels: pop.maxPixels, server: this.options.serverUrl },
      'worker started',
    );
    const backoff = new Backoff(this.options.backoff ?? DEFAULT_BACKOFF);
    const idle = new IdleReporter(this.client, log, this.options.idleReport);
    for (;;) {
      const reason = this.shouldStop();
      if (reason) return this.finish(reason);
      const untilMs = this.options.until ? this.options.until.getTime() - Date.now() : Infinity;
      // An idle worker still stops on time: the poll is shortened and cut off at the deadline.
      const waitSeconds = Math.max(0, Math.min(pop.waitSeconds ?? 25, Math.floor(untilMs / 1000)));
      const signals = [this.graceful.signal];
      if (Number.isFinite(untilMs)) signals.push(AbortSignal.timeout(Math.max(0, untilMs)));
      const cutOff = AbortSignal.any(signals);
      if (this.options.gpuIdle) {
        await this.options.gpuIdle.waitUntilIdle(cutOff);
        if (cutOff.aborted) continue;
      }
      let job;
      let paused = false;
      try {
        ({ job, paused = false } = await this.client.poll({ ...pop, waitSeconds }, cutOff));
      } catch (err) {
        // Stopped or out of time while waiting: the loop head decides what that means.
        if (cutOff.aborted) continue;
        if (err instanceof TransientError) {
          const delay = backoff.next(err.retryAfterMs);
          log.warn(
            { err: err.message, failures: backoff.failures, retryInMs: delay },
            'coordinator unavailable, backing off',
          );
          await sleep(delay, cutOff);
          continue;
        }
        throw fatalFromPop(err);
      }
      if (backoff.failures > 0) log.info('coordinator reachable again');
      backoff.reset();
      if (!job) {
        // After a while without jobs, the log says why (paused, filters, nothing queued for its models…).
        await idle.emptyPoll(paused);
        continue;
      }
      idle.gotJob();
      this.jobsTaken++;
      this.busy = true;
      const outcome = await runJob(
        {
          client: this.client,
          backend: this.options.backend,
          log,
          backoff: this.options.backoff ?? DEFAULT_BACKOFF,
          force: this.force.signal,
          uploadRetryMs: this.options.uploadRetryMs ?? 10 * 60_000,
        },
        job,
      ).finally(() => {
        this.busy = false;
      });
      this.counts[outcome]++;
      if (outcome === 'released') return this.finish('forced');
    }
  }

  private shouldStop(): StopReason | undefined {
    if (this.force.signal.aborted) return 'forced';
    if (this.graceful.signal.aborted) return 'stopped';
    if (this.options.maxJobs !== undefined && this.jobsTaken >= this.options.maxJobs) return 'max_jobs';
    if (this.options.until && Date.now() >= this.options.until.getTime()) return 'until';
    return undefined;
  }

  private finish(reason: StopReason): StopReason {
    this.options.log.info({ reason, jobs: this.jobsTaken, outcomes: this.counts }, 'worker stopped');
    return reason;
  }

  /** What this worker can serve: the backend's models, bounded by --max-pixels and the protocol. */
  private async capabilities(): Promise<PopBody> {
    const { backend } = this.options;
    const models = await backend.listModels();
    if (models.length === 0) {
      throw new FatalWorkerError('no_models', `The ${backend.name} backend has no models to serve.`);
    }
    // One maxPixels covers every model on pop, so the smallest model limit is the safe one.
    let maxPixels = Math.min(...models.map((m) => m.maxPixels));
    if (this.options.maxPixels !== undefined) maxPixels = Math.min(maxPixels, this.options.maxPixels);
    if (maxPixels < PROTOCOL_MIN_PIXELS) {
      throw new FatalWorkerError(
        'max_pixels_too_small',
        `maxPixels must be at least ${PROTOCOL_MIN_PIXELS}.`,
      );
    }
    const hardware: Hardware = { ...hostHardware(), ...(await backend.hardware()) };
    // The SHA-256 of each model's weights: results are compared only between identical copies.
    const fingerprints = models.flatMap((m) =>
      m.fingerprint ? [{ model: m.id, sha256: m.fingerprint }] : [],
    );
    return {
      backend: backend.name,
      models: models.map((m) => m.id),
      ...(fingerprints.length > 0 ? { fingerprints } : {}),
      maxPixels: Math.min(maxPixels, PROTOCOL_MAX_PIXELS),
      hardware,
      version: WORKER_VERSION,
      waitSeconds: Math.min(30, Math.max(0, this.options.waitSeconds ?? 25)),
    };
  }
}

/** A pop refused with 4xx cannot get better by retrying: a wrong or revoked key, or a bad model list. */
function fatalFromPop(err: unknown): Error {
  if (err instanceof ProblemError) {
    if (err.type === 'worker_suspended') {
      return new FatalWorkerError(
        'worker_suspended',
        `The coordinator suspended this worker for bad results: ${err.message}. Its owner can read why on the worker's reputation page; a fixed setup needs a new registration.`,
      );
    }
    if (err.status === 401 || err.status === 403) {
      return new FatalWorkerError(
        'worker_key_rejected',
        `The coordinator rejected the worker key (${err.type}). Check DREAMFOLD_WORKER_KEY / --key; a revoked key needs a new registration.`,
      );
    }
    return new FatalWorkerError('pop_rejected', `The coordinator refused to hand out jobs: ${err.message}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
