// Tells the donor, in the worker's own log, why it gets no jobs: after a while without any, it asks the
// coordinator (GET /v1/workers/me/why-idle) and logs the reasons — its state, its filters, what is
// queued. Asked again only every so often, so an idle worker costs the coordinator almost nothing.
import type { Logger } from 'pino';
import type { CoordinatorClient } from './client.js';

export interface IdleReportOptions {
  /** Idle this long before the first report. */
  firstAfterMs: number;
  /** Then at most this often. */
  everyMs: number;
}

export const DEFAULT_IDLE_REPORT: IdleReportOptions = { firstAfterMs: 60_000, everyMs: 10 * 60_000 };

export class IdleReporter {
  private idleSince: number | undefined;
  private lastReport = 0;
  private paused = false;

  constructor(
    private readonly client: CoordinatorClient,
    private readonly log: Logger,
    private readonly options: IdleReportOptions = DEFAULT_IDLE_REPORT,
    private readonly now: () => number = Date.now,
  ) {}

  /** A job came: the worker is busy, the next idle spell starts afresh. */
  gotJob(): void {
    if (this.paused) {
      this.paused = false;
      this.log.info('resumed: taking jobs again');
    }
    this.idleSince = undefined;
    this.lastReport = 0;
  }

  /** A poll came back empty; `paused` when the owner paused this worker. */
  async emptyPoll(paused: boolean): Promise<void> {
    if (paused !== this.paused) {
      this.paused = paused;
      this.log.info(
        paused
          ? 'paused by its owner: taking no jobs (no penalty) until `dreamfold worker resume`'
          : 'resumed: taking jobs again',
      );
    }
    const now = this.now();
    this.idleSince ??= now;
    if (paused || now - this.idleSince < this.options.firstAfterMs) return;
    if (this.lastReport && now - this.lastReport < this.options.everyMs) return;
    this.lastReport = now;
    try {
      const why = await this.client.whyIdle();
      this.log.info(
        {
          state: why.state,
          models: why.filters.models,
          maxPixels: why.filters.maxPixels,
          queued: why.queuedTotal,
        },
        `no jobs for ${Math.round((now - this.idleSince) / 1000)} s: ${why.reasons.join(' ') || 'no reason given'}`,
      );
    } catch (err) {
      // An explanation is a courtesy; failing to get one changes nothing about the work.
      this.log.debug({ err: (err as Error).message }, 'could not ask why no jobs come');
    }
  }
}
