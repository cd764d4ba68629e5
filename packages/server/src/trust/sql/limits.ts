// Counts behind the worker registration limits (see trust/limits.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

export async function accountCreatedAt(db: Kysely<Database>, userId: string): Promise<number | undefined> {
  const row = await db.selectFrom('users').select('created_at').where('id', '=', userId).executeTakeFirst();
  return row ? Number(row.created_at) : undefined;
}

/** Workers of this account that are not revoked. */
export async function activeWorkersOfAccount(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('workers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Workers not revoked, registered from this IP by accounts created since `accountsSince`. */
export async function activeWorkersFromIp(
  db: Kysely<Database>,
  p: { ip: string; accountsSince: number },
): Promise<number> {
  const row = await db
    .selectFrom('worker_trust as t')
    .innerJoin('workers as w', 'w.id', 't.worker_id')
    .innerJoin('users as u', 'u.id', 'w.user_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('t.registered_ip', '=', p.ip)
    .where('w.revoked_at', 'is', null)
    .where('u.created_at', '>=', p.accountsSince)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Registrations since `since` by this account, and from this IP (by anyone). */
export async function recentRegistrations(
  db: Kysely<Database>,
  p: { userId: string; ip: string; since: number },
): Promise<{ account: number; ip: number }> {
  const account = await db
    .selectFrom('workers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', p.userId)
    .where('created_at', '>=', p.since)
    .executeTakeFirstOrThrow();
  const ip = await db
    .selectFrom('worker_trust')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('registered_ip', '=', p.ip)
    .where('created_at', '>=', p.since)
    .executeTakeFirstOrThrow();
  return { account: Number(account.n), ip: Number(ip.n) };
}
