// Housekeeping: rows that are only kept for a while are deleted once their time is up, so these tables
// stay the size of their live contents instead of growing with every request the platform ever served.
//   - Idempotency keys: kept IDEMPOTENCY_KEY_HOURS (24 by default, as payment APIs do). A retry within
//     that window replays the first answer; after it, the key is forgotten and a request with it is new.
//   - Web sessions: deleted once expired (an expired session is already refused).
//   - Email links: deleted a week after they expire, so a late click still says "expired" for a while.
//   - Planner statistics: on PostgreSQL with autovacuum off, tables that changed enough are analysed
//     (planner-statistics.ts).
// The first pass runs as the coordinator starts, so a database loaded while it was down is planned well.
// Every replica runs the same pass; the deletes are idempotent, so two replicas at once only share work.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Dialect } from '../db/connect.js';
import { deleteEmailTokens, deleteIdempotencyKeys, deleteSessions } from './queries.js';
import { refreshPlannerStatistics } from './planner-statistics.js';

const HOUR_MS = 3_600_000;
const EMAIL_TOKEN_GRACE_MS = 7 * 24 * HOUR_MS;
/** Rows per delete: a few milliseconds of SQLite's single writer at a time. */
const BATCH = 500;
/** Batches per table per pass; what is left waits for the next pass. */
const MAX_BATCHES = 200;

export interface PurgeCounts {
  idempotencyKeys: number;
  sessions: number;
  emailTokens: number;
}

export interface HousekeepingOptions {
  idempotencyKeyHours: number;
  dialect: Dialect;
}

export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly options: HousekeepingOptions,
    private readonly log: Logger,
  ) {}

  /** One pass over every table; answers how many rows it deleted from each. */
  async purge(): Promise<PurgeCounts> {
    const now = this.clock.now();
    const counts: PurgeCounts = {
      idempotencyKeys: await this.drain((n) =>
        deleteIdempotencyKeys(this.db, now - this.options.idempotencyKeyHours * HOUR_MS, n),
      ),
      sessions: await this.drain((n) => deleteSessions(this.db, now, n)),
      emailTokens: await this.drain((n) => deleteEmailTokens(this.db, now - EMAIL_TOKEN_GRACE_MS, n)),
    };
    if (counts.idempotencyKeys + counts.sessions + counts.emailTokens > 0) {
      this.log.info(counts, 'housekeeping deleted expired rows');
    }
    return counts;
  }

  /** Analyses the tables that changed enough since their last ANALYZE, where autovacuum will not. */
  async refreshStatistics(): Promise<void> {
    const tables = await refreshPlannerStatistics(this.db, this.options.dialect);
    if (tables.length)
      this.log.info({ tables }, 'housekeeping analysed changed tables (PostgreSQL autovacuum is off)');
  }

  /** Runs a pass now and then every `intervalMs`; a pass still running when the next is due is not doubled. */
  start(intervalMs: number): void {
    const pass = () => {
      if (this.running) return;
      this.running = this.purge()
        .then(() => this.refreshStatistics())
        .catch((err: Error) => this.log.error({ err: err.message }, 'housekeeping failed'))
        .finally(() => (this.running = undefined));
    };
    pass();
    this.timer = setInterval(pass, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async drain(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await deleteBatch(BATCH);
      total += n;
      if (n < BATCH) break;
      // Let requests waiting on the event loop (and SQLite's writer) go between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }
}
