// Telling a coordinator outage from a worker that went away. Each coordinator process records its run
// (start, a "still alive" mark every few seconds, its stop). Gaps in the union of all runs are times
// when no coordinator answered: a worker could not heartbeat then, so a lease whose deadline fell in such
// a gap — or within one lease length after it, while workers reconnect through their back-off — ran out
// through no fault of the worker's. Several replicas share the table, so one replica restarting while
// another serves leaves no gap.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';

export interface OutageSettings {
  /** How often a live coordinator marks itself alive. */
  aliveMs: number;
  /** After an outage, how long workers get to come back (one lease: their heartbeats resume within it). */
  graceMs: number;
}

/** Closed ranges [from, to] of lease deadlines that are excused. */
export type ExcusedRange = readonly [number, number];

/** Runs considered; one per coordinator start, so this reaches back far enough. */
const RECENT_RUNS = 50;

interface Run {
  started_at: number;
  last_alive_at: number;
  stopped_at: number | null;
}

/** Gaps in the union of the runs' lives, each stretched by the grace period after it. */
export function excusedRanges(runs: readonly Run[], s: OutageSettings): ExcusedRange[] {
  const lives = runs
    // A crashed run's last mark is up to one interval old: it was alive until about then.
    .map((r) => [r.started_at, r.stopped_at ?? r.last_alive_at + s.aliveMs] as const)
    .sort((a, b) => a[0] - b[0]);
  const ranges: ExcusedRange[] = [];
  let coveredUntil: number | undefined;
  for (const [start, end] of lives) {
    if (coveredUntil !== undefined && start > coveredUntil) ranges.push([coveredUntil, start + s.graceMs]);
    coveredUntil = coveredUntil === undefined ? end : Math.max(coveredUntil, end);
  }
  return ranges;
}

export class CoordinatorRuns {
  readonly id = newId();
  private ranges: ExcusedRange[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly settings: OutageSettings,
  ) {}

  /** Records this run and learns the outages before it. Call before the lease reaper starts. */
  async start(): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insertInto('coordinator_runs')
      .values({ id: this.id, started_at: now, last_alive_at: now, stopped_at: null })
      .execute();
    await this.refresh();
    this.timer = setInterval(() => {
      this.markAlive().catch(() => {
        // The database is away; the next tick tries again, and the gap it leaves is real.
      });
    }, this.settings.aliveMs);
    this.timer.unref();
  }

  private async markAlive(): Promise<void> {
    await this.db
      .updateTable('coordinator_runs')
      .set({ last_alive_at: this.clock.now() })
      .where('id', '=', this.id)
      .execute();
    await this.refresh();
  }

  /** Reads the recent runs (other replicas' too) and recomputes the excused ranges. */
  async refresh(): Promise<void> {
    const runs = await this.db
      .selectFrom('coordinator_runs')
      .select(['started_at', 'last_alive_at', 'stopped_at'])
      .orderBy('started_at', 'desc')
      .limit(RECENT_RUNS)
      .execute();
    this.ranges = excusedRanges(runs, this.settings);
  }

  /** Ranges of lease deadlines that count as the coordinator's fault. */
  excused(): readonly ExcusedRange[] {
    return this.ranges;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const now = this.clock.now();
    await this.db
      .updateTable('coordinator_runs')
      .set({ last_alive_at: now, stopped_at: now })
      .where('id', '=', this.id)
      .execute();
  }
}
