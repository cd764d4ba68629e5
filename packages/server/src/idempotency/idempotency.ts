// Idempotency-Key: the first request with a key does its work and stores its answer in the same
// transaction; a retry with the same key gets that answer back and changes nothing. Reusing a key for a
// different request is the caller's mistake and gets 422.
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { prepare } from '../db/prepared.js';
import { AppError } from '../errors.js';
import { sha256Hex } from '../ids.js';

export interface IdempotentAnswer<T> {
  status: number;
  body: T;
  /** True when this answer was replayed from an earlier request. */
  replayed: boolean;
}

export interface IdempotencyScope {
  userId: string;
  key: string | undefined;
  route: string;
  request: unknown;
}

/** Runs work in one transaction. The default opens its own; the hot write paths pass db/group-commit.ts's. */
export type TransactionRunner = <R>(work: (trx: Transaction<Database>) => Promise<R>) => Promise<R>;

type KeyRow = Selectable<IdempotencyKeysTable>;

/** The two statements a key needs; `idempotencyStatements` prepares them once for a hot route. */
export interface IdempotencyStatements {
  find(db: Kysely<Database>, userId: string, key: string): Promise<KeyRow | undefined>;
  insert(db: Kysely<Database>, row: Insertable<IdempotencyKeysTable>): Promise<void>;
}

const findQuery = (db: Kysely<Database>, userId: string, key: string) =>
  db.selectFrom('idempotency_keys').selectAll().where('user_id', '=', userId).where('key', '=', key);

const insertQuery = (db: Kysely<Database>, row: Insertable<IdempotencyKeysTable>) =>
  db.insertInto('idempotency_keys').values(row);

/** Built per call: for routes where a request costs far more than building two small queries. */
const builtStatements: IdempotencyStatements = {
  find: (db, userId, key) => findQuery(db, userId, key).executeTakeFirst(),
  insert: async (db, row) => {
    await insertQuery(db, row).execute();
  },
};

/** The same statements compiled once against `db` (db/prepared.ts), for a route that runs them at a high rate. */
export function idempotencyStatements(db: Kysely<Database>): IdempotencyStatements {
  const find = prepare(2, (userId: string, key: string) => findQuery(db, userId, key));
  const insert = prepare(
    7,
    (
      user_id: string,
      key: string,
      route: string,
      request_hash: string,
      status: number,
      response: string,
      at: number,
    ) =>
      insertQuery(db, { user_id, key, route, request_hash, status_code: status, response, created_at: at }),
  );
  return {
    find: async (executor, userId, key) => (await find(executor, userId, key))[0],
    insert: async (executor, r) => {
      await insert(
        executor,
        r.user_id,
        r.key,
        r.route,
        r.request_hash,
        r.status_code,
        r.response,
        r.created_at,
      );
    },
  };
}

export interface IdempotencyOptions {
  transact?: TransactionRunner;
  statements?: IdempotencyStatements;
  /**
   * Skip the lookup before the work: the key's insert at the end of the work's transaction is the check.
   * A retry then runs its work again, which must fail or be undone: it is, because the insert of a key
   * that exists fails and rolls the transaction back, and the earlier answer is then read after it.
   * Only for work that is cheap, has no effects outside its transaction, and whose retries are rare
   * (answering an annotation task: a retry's fenced update matches nothing and fails at once).
   */
  lookupFirst?: boolean;
}

export async function withIdempotency<T>(
  db: Kysely<Database>,
  clock: Clock,
  scope: IdempotencyScope,
  work: (trx: Transaction<Database>) => Promise<{ status: number; body: T }>,
  options: IdempotencyOptions = {},
): Promise<IdempotentAnswer<T>> {
  const transact = options.transact ?? ((w) => db.transaction().execute(w));
  const statements = options.statements ?? builtStatements;
  if (!scope.key) {
    const answer = await transact(work);
    return { ...answer, replayed: false };
  }
  const key = scope.key;
  const requestHash = sha256Hex(JSON.stringify(scope.request));
  const earlierAnswer = () => findAnswer<T>(statements, db, scope.userId, key, scope.route, requestHash);
  if (options.lookupFirst !== false) {
    const earlier = await earlierAnswer();
    if (earlier) return earlier;
  }
  try {
    const answer = await transact(async (trx) => {
      const result = await work(trx);
      await statements.insert(trx, {
        user_id: scope.userId,
        key,
        route: scope.route,
        request_hash: requestHash,
        status_code: result.status,
        response: JSON.stringify(result.body),
        created_at: clock.now(),
      });
      return result;
    });
    return { ...answer, replayed: false };
  } catch (err) {
    // A request with the same key committed first (a concurrent twin, or, without the lookup first, any
    // earlier one): its answer is the answer. This transaction was rolled back, so it changed nothing.
    const raced = await earlierAnswer();
    if (raced) return raced;
    throw err;
  }
}

async function findAnswer<T>(
  statements: IdempotencyStatements,
  db: Kysely<Database>,
  userId: string,
  key: string,
  route: string,
  requestHash: string,
): Promise<IdempotentAnswer<T> | undefined> {
  const row = await statements.find(db, userId, key);
  if (!row) return undefined;
  if (row.route !== route || row.request_hash !== requestHash) {
    throw new AppError(
      'idempotency_conflict',
      'This Idempotency-Key was already used for a different request.',
    );
  }
  return { status: row.status_code, body: JSON.parse(row.response) as T, replayed: true };
}
