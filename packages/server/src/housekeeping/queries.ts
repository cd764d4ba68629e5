// One bounded delete per table: the oldest rows past their end, at most `limit` of them, through the
// indexes of migration 0012, so a pass never holds a lock (or SQLite's one writer) for long.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Idempotency keys stored before `before`: a retry with one of them now does its work again. */
export async function deleteIdempotencyKeys(
  db: Kysely<Database>,
  before: number,
  limit: number,
): Promise<number> {
  const r = await db
    .deleteFrom('idempotency_keys')
    .where((eb) =>
      eb(
        eb.refTuple('user_id', 'key'),
        'in',
        eb
          .selectFrom('idempotency_keys')
          .select(['user_id', 'key'])
          .where('created_at', '<', before)
          .orderBy('created_at')
          .limit(limit)
          .$asTuple('user_id', 'key'),
      ),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Web sessions that ended before `before` (they are refused already; this only frees the rows). */
export async function deleteSessions(db: Kysely<Database>, before: number, limit: number): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('sessions')
        .select('id')
        .where('expires_at', '<', before)
        .orderBy('expires_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Email links (verification, reset, email change) that expired before `before`, used or not. */
export async function deleteEmailTokens(
  db: Kysely<Database>,
  before: number,
  limit: number,
): Promise<number> {
  const r = await db
    .deleteFrom('email_tokens')
    .where('token_hash', 'in', (eb) =>
      eb
        .selectFrom('email_tokens')
        .select('token_hash')
        .where('expires_at', '<', before)
        .orderBy('expires_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
