// Idempotency-Key: the first request with a key does its work and stores its answer in the same
// transaction; a retry with the same key gets that answer back and changes nothing. Reusing a key for a
// different request is the caller's mistake and gets 422.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
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

/** Runs work in one transaction. The default opens its own; annotations/ passes its SQLite group commit. */
export type TransactionRunner = <R>(work: (trx: Transaction<Database>) => Promise<R>) => Promise<R>;

export async function withIdempotency<T>(
  db: Kysely<Database>,
  clock: Clock,
  scope: IdempotencyScope,
  work: (trx: Transaction<Database>) => Promise<{ status: number; body: T }>,
  transact: TransactionRunner = (w) => db.transaction().execute(w),
): Promise<IdempotentAnswer<T>> {
  if (!scope.key) {
    const answer = await transact(work);
    return { ...answer, replayed: false };
  }
  const key = scope.key;
  const requestHash = sha256Hex(JSON.stringify(scope.request));
  const earlier = await findAnswer<T>(db, scope.userId, key, scope.route, requestHash);
  if (earlier) return earlier;
  try {
    const answer = await transact(async (trx) => {
      const result = await work(trx);
      await trx
        .insertInto('idempotency_keys')
        .values({
          user_id: scope.userId,
          key,
          route: scope.route,
          request_hash: requestHash,
          status_code: result.status,
          response: JSON.stringify(result.body),
          created_at: clock.now(),
        })
        .execute();
      return result;
    });
    return { ...answer, replayed: false };
  } catch (err) {
    // A concurrent request with the same key committed first: its answer is the answer.
    const raced = await findAnswer<T>(db, scope.userId, key, scope.route, requestHash);
    if (raced) return raced;
    throw err;
  }
}

async function findAnswer<T>(
  db: Kysely<Database>,
  userId: string,
  key: string,
  route: string,
  requestHash: string,
): Promise<IdempotentAnswer<T> | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.route !== route || row.request_hash !== requestHash) {
    throw new AppError(
      'idempotency_conflict',
      'This Idempotency-Key was already used for a different request.',
    );
  }
  return { status: row.status_code, body: JSON.parse(row.response) as T, replayed: true };
}
