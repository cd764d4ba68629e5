// Group commit for SQLite: write transactions that arrive while others are being written wait, and are
// then written together in one transaction. A burst of them (job claims, results, submissions, rating
// answers) then shares one commit (one WAL append of the pages they touched, each page once, and fewer
// checkpoints) instead of paying for one each, which was most of their SQLite time (bench/queue.ts,
// bench/ratings.ts). Every unit of work is still all or nothing, and no caller hears back before the
// commit that holds its work, so nothing acknowledged is lost. An idle system commits each at once (a
// batch of one), so nothing waits for company.
//
// A batch first runs its units one after the other with nothing between them. Savepoints around each
// unit were the obvious way to isolate them, but in a savepoint SQLite copies every page a unit is first
// to change into its statement journal, so that the savepoint can be rolled back: measured, that made a
// rating's inserts several times dearer than in a transaction of its own. Units almost never fail, so
// the batch is optimistic instead. When one throws, the whole transaction rolls back; that unit fails (it
// failed on the state the units before it left, as it would have in a transaction of its own after
// theirs), and the others run again in a new transaction, each inside its own savepoint this time, so
// that a second failure costs no third attempt. A batch therefore runs at most twice, and `work` must
// have no effect outside its transaction that matters if it runs again.
//
// One batcher per database handle (writeTransactions below): SQLite has one writer, and two batchers on
// one connection would only queue behind each other. PostgreSQL needs none of this: concurrent
// transactions commit in parallel on their own connections.
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Dialect } from './connect.js';

interface Pending {
  /** Runs in the batch's transaction; may run twice (see above), so it must change nothing outside it. */
  work: (trx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Thrown out of an optimistic batch's transaction to roll it back: the unit at `index` failed. */
class UnitFailed {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {}
}

export class GroupCommit {
  private readonly waiting: Pending[] = [];
  private busy = false;

  constructor(
    private readonly db: Kysely<Database>,
    /** Bounds how long one batch holds SQLite's single write transaction (and the event loop). */
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
        // Settled only here, after the batch's last transaction ended: a caller that reads the database
        // on hearing back (withIdempotency after a failure) then sees what the batch committed.
        const outcomes = await this.commit(batch);
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

  /** The outcome of each unit of the batch, once the transaction that holds the successful ones ended. */
  private async commit(batch: readonly Pending[]): Promise<Outcome[]> {
    try {
      const values = await this.db.transaction().execute((trx) => runInOrder(trx, batch));
      return values.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (!(error instanceof UnitFailed)) return batch.map(() => ({ ok: false, error })); // commit failed
      const outcomes: Outcome[] = new Array<Outcome>(batch.length);
      outcomes[error.index] = { ok: false, error: error.error };
      const rest = batch.flatMap((item, i) => (i === error.index ? [] : [{ item, i }]));
      if (rest.length === 0) return outcomes;
      try {
        const again = await this.db.transaction().execute((trx) =>
          runIsolated(
            trx,
            rest.map((r) => r.item),
          ),
        );
        rest.forEach((r, k) => (outcomes[r.i] = again[k] as Outcome));
      } catch (commitError) {
        for (const r of rest) outcomes[r.i] = { ok: false, error: commitError };
      }
      return outcomes;
    }
  }
}

/** The optimistic pass: each unit straight in the transaction; the first failure rolls all back. */
async function runInOrder(trx: Transaction<Database>, batch: readonly Pending[]): Promise<unknown[]> {
  const values: unknown[] = [];
  for (const [i, item] of batch.entries()) {
    try {
      values.push(await item.work(trx));
    } catch (error) {
      throw new UnitFailed(i, error);
    }
  }
  return values;
}

/** The second pass: each unit in a savepoint, so that one failing leaves the others alone. */
async function runIsolated(trx: Transaction<Database>, batch: readonly Pending[]): Promise<Outcome[]> {
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
const SAVEPOINT = CompiledQuery.raw('savepoint grouped');
const RELEASE = CompiledQuery.raw('release grouped');
const ROLLBACK = CompiledQuery.raw('rollback to grouped');

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

/** How the hot write paths reach the database: batched on SQLite, plain on PostgreSQL. */
export interface WriteTransactions {
  /** Runs `work` in a transaction and resolves after its commit. On SQLite `work` may run twice (above). */
  transaction<R>(work: (trx: Transaction<Database>) => Promise<R>): Promise<R>;
  /**
   * Runs work that is one statement, atomic by itself: on SQLite it joins the group's commit like a
   * transaction; on PostgreSQL it runs as it is, without a transaction's two extra round trips.
   */
  atomic<R>(work: (db: Kysely<Database>) => Promise<R>): Promise<R>;
}

const perDatabase = new WeakMap<Kysely<Database>, WriteTransactions>();

/** The write path of one database handle; every service built on the same handle shares one batcher. */
export function writeTransactions(db: Kysely<Database>, dialect: Dialect): WriteTransactions {
  let writes = perDatabase.get(db);
  if (!writes) {
    if (dialect === 'sqlite') {
      const group = new GroupCommit(db);
      writes = { transaction: group.run, atomic: group.run };
    } else {
      writes = {
        transaction: (work) => db.transaction().execute(work),
        atomic: (work) => work(db),
      };
    }
    perDatabase.set(db, writes);
  }
  return writes;
}
