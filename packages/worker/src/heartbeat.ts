// Keeps a job's lease alive: one heartbeat every heartbeatIntervalMs, plus one soon after progress
// (throttled), never two at once. The answer may say the job was cancelled or the lease is gone; then
// `onLost` fires once and the job is abandoned.
import type { Logger } from 'pino';
import type { CoordinatorClient } from './client.js';
import { isDropJob, isAbortError } from './errors.js';

export type LostReason = 'cancelled' | 'lease_lost';

export interface HeartbeatOptions {
  client: CoordinatorClient;
  jobId: string;
  leaseId: string;
  intervalMs: number;
  totalSteps: number;
  log: Logger;
  onLost(reason: LostReason): void;
}

/** Progress is worth telling the requester about, but not more often than this. */
const MIN_PROGRESS_GAP_MS = 1000;

export class Heartbeat {
  private step = 0;
  private totalSteps: number;
  private lastSentAt = 0;
  private inFlight: Promise<void> | undefined;
  private pendingProgress = false;
  private timer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: HeartbeatOptions) {
    this.totalSteps = options.totalSteps;
  }

  start(): void {
    this.timer = setInterval(() => this.send(), this.options.intervalMs);
  }

  progress(step: number, totalSteps: number): void {
    this.step = Math.max(0, Math.min(step, totalSteps));
    this.totalSteps = Math.max(1, totalSteps);
    if (this.stopped || this.pendingProgress) return;
    const wait = this.lastSentAt + Math.min(MIN_PROGRESS_GAP_MS, this.options.intervalMs) - Date.now();
    if (wait <= 0) return this.send();
    this.pendingProgress = true;
    this.progressTimer = setTimeout(() => {
      this.pendingProgress = false;
      this.send();
    }, wait);
  }

  /** Stops sending; waits for a heartbeat in flight so it cannot land after the result. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.progressTimer);
    await this.inFlight;
  }

  /** Stops without waiting, abandoning a heartbeat in flight (forced shutdown). */
  cancel(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.progressTimer);
    this.abort.abort();
  }

  private send(): void {
    if (this.stopped || this.inFlight) return;
    this.lastSentAt = Date.now();
    this.inFlight = this.beat().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async beat(): Promise<void> {
    const { client, jobId, leaseId, log } = this.options;
    try {
      const answer = await client.heartbeat(
        jobId,
        { leaseId, step: this.step, totalSteps: this.totalSteps },
        this.abort.signal,
      );
      if (answer.cancelled) this.lost('cancelled');
    } catch (err) {
      if (this.abort.signal.aborted && isAbortError(err)) return;
      if (isDropJob(err)) return this.lost(err.type === 'job_cancelled' ? 'cancelled' : 'lease_lost');
      // Unreachable or 5xx: keep generating; the next beat may get through before the lease runs out.
      log.warn({ jobId, err: (err as Error).message }, 'heartbeat failed');
    }
  }

  private lost(reason: LostReason): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.progressTimer);
    this.options.onLost(reason);
  }
}
