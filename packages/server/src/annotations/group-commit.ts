// Group commit for SQLite: answers that arrive while others are being written wait, and are then written
// together in one transaction, each inside its own savepoint. A burst of answers then shares one commit
// (one WAL append of the pages they touched, and fewer checkpoints) instead of paying for one each,
// which was most of an answer's time on SQLite (bench/ratings.ts). Every answer is still all or nothing:
// a failing one rolls back to its savepoint and leaves the others alone; and no caller hears back before
// the commit that holds its answer, so an acknowledged answer is never lost. An idle system commits
// each answer at once (a batch of one), so nothing waits for company.
//
// PostgreSQL needs none of this: concurrent transactions commit in parallel on their own connections.
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

interface Pending {
  work: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private readonly waiting: Pending[] = [];
  private busy = false;

  constructor(
    private readonly db: Kysely<Database>,
    /** Bounds how long one batch holds SQLite's single write transaction. */
    private readonly maxBatch = 32,
  ) {}

  /** Runs `work` in a transaction shared with whatever else is waiting; resolves after the commit. */
  readonly run = <R>(work: (trx: Transaction<Database>) => Promise<R>): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (this.busy) return;
      this.busy = true;
      // better-sqlite3 answers synchronously, so a transaction runs to its end in microtasks, before
      // the event loop reads the next request. Starting on the next turn lets every request that
      // arrived in this one join the batch (an idle server loses microseconds).
      setImmediate(() => void this.drain());
    });

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatch);
        let outcomes: Outcome[];
        try {
          outcomes = await this.db.transaction().execute((trx) => runAll(trx, batch));
        } catch (error) {
          // The commit failed (or a single answer did, which rolled the transaction back): none stored.
          for (const item of batch) item.reject(error);
          continue;
        }
        batch.forEach((item, i) => {
          const outcome = outcomes[i] as Outcome;
          if (outcome.ok) item.resolve(outcome.value);
          else item.reject(outcome.error);
        });
      }
    } finally {
      this.busy = false;
    }
  }
}

async function runAll(trx: Transaction<Database>, batch: readonly Pending[]): Promise<Outcome[]> {
  const only = batch.length === 1 ? batch[0] : undefined;
  // Alone, the transaction itself is the answer's boundary: no savepoint needed.
  if (only) return [{ ok: true, value: await only.work(trx) }];
  const outcomes: Outcome[] = [];
  for (const item of batch) {
    try {
      outcomes.push({ ok: true, value: await inSavepoint(trx, item.work) });
    } catch (error) {
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}

// One fixed name: savepoints here never nest, and a constant text keeps SQLite's statement cache warm.
// Compiled once: these run twice per answer in a busy batch.
const SAVEPOINT = CompiledQuery.raw('savepoint answer');
const RELEASE = CompiledQuery.raw('release answer');
const ROLLBACK = CompiledQuery.raw('rollback to answer');

/** Runs work inside a savepoint of `trx`: its writes are kept when it succeeds and undone when it throws. */
async function inSavepoint<R>(
  trx: Transaction<Database>,
  work: (trx: Transaction<Database>) => Promise<R>,
): Promise<R> {
  await trx.executeQuery(SAVEPOINT);
  try {
    const value = await work(trx);
    await trx.executeQuery(RELEASE);
    return value;
  } catch (error) {
    await trx.executeQuery(ROLLBACK);
    await trx.executeQuery(RELEASE);
    throw error;
  }
}
