// The ledger's SQL: one function per statement. Nothing here updates or deletes an entry; balances are
// SUMs over `credit_entries` (read through the (account_id, created_at, transfer_id, amount) index).
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database, CreditTransferKind } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import { prepare } from '../db/prepared.js';

export const PLATFORM_ACCOUNT = 'platform';
/** What a user can spend. */
export const userAccount = (userId: string) => `user:${userId}`;
/** What a user has reserved for generations that have not finished. One per user: see service.ts. */
export const escrowAccount = (userId: string) => `escrow:${userId}`;

export interface TransferDraft {
  id: string;
  key: string;
  kind: CreditTransferKind;
  referenceType: string | null;
  referenceId: string | null;
  memo: string | null;
  actorId: string | null;
  /** Signed amounts, one per account; they must sum to zero (checked in service.ts before posting). */
  entries: { account: string; amount: number }[];
}

/**
 * Inserts the transfers whose key is new and returns those keys. A key that exists already (a retry, a
 * duplicate call, a concurrent twin that committed first) is skipped by the unique index: on PostgreSQL a
 * concurrent insert of the same key waits for the first transaction and then does nothing.
 */
export async function insertTransfers(
  db: Kysely<Database>,
  drafts: readonly TransferDraft[],
  now: number,
): Promise<Set<string>> {
  const rows = await db
    .insertInto('credit_transfers')
    .values(
      drafts.map((d) => ({
        id: d.id,
        key: d.key,
        kind: d.kind,
        reference_type: d.referenceType,
        reference_id: d.referenceId,
        memo: d.memo,
        actor_id: d.actorId,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .execute();
  return new Set(rows.map((r) => r.key));
}

/** The entries of transfers just inserted, all in one statement. */
export async function insertEntries(
  db: Kysely<Database>,
  drafts: readonly TransferDraft[],
  now: number,
): Promise<void> {
  const values = drafts.flatMap((d) =>
    d.entries.map((e) => ({ transfer_id: d.id, account_id: e.account, amount: e.amount, created_at: now })),
  );
  if (values.length > 0) await db.insertInto('credit_entries').values(values).execute();
}

/**
 * Posts one transfer of two entries (nearly every movement: an award, a reservation, a job's end) with
 * statements compiled once (db/prepared.ts). True when its key was new. PostgreSQL inserts the transfer
 * and its entries in one statement (one round trip: the entries come from the transfer's RETURNING, so
 * none are written when the key existed); SQLite, which has no INSERT in a WITH, runs two, in-process.
 */
export type PostPair = (db: Kysely<Database>, d: TransferDraft, now: number) => Promise<boolean>;

export function pairPoster(db: Kysely<Database>, dialect: Dialect): PostPair {
  if (dialect === 'postgres') {
    const text =
      'with t as (insert into credit_transfers (id, key, kind, reference_type, reference_id, memo, actor_id, created_at) ' +
      'values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (key) do nothing returning id) ' +
      'insert into credit_entries (transfer_id, account_id, amount, created_at) ' +
      'select t.id, e.account_id, e.amount, $8 from t, ' +
      '(values ($9::text, $10::bigint), ($11::text, $12::bigint)) as e (account_id, amount) returning transfer_id';
    return async (executor, d, now) => {
      const [a, b] = d.entries as [Entry, Entry];
      const result = await executor.executeQuery(
        CompiledQuery.raw(text, [...transferValues(d, now), a.account, a.amount, b.account, b.amount]),
      );
      return result.rows.length > 0;
    };
  }
  const transfer = prepare(
    8,
    (
      id: string,
      key: string,
      kind: CreditTransferKind,
      referenceType: string | null,
      referenceId: string | null,
      memo: string | null,
      actorId: string | null,
      now: number,
    ) =>
      db
        .insertInto('credit_transfers')
        .values({
          id,
          key,
          kind,
          reference_type: referenceType,
          reference_id: referenceId,
          memo,
          actor_id: actorId,
          created_at: now,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key'),
  );
  const entries = prepare(
    6,
    (
      transferId: string,
      first: string,
      firstAmount: number,
      second: string,
      secondAmount: number,
      now: number,
    ) =>
      db.insertInto('credit_entries').values([
        { transfer_id: transferId, account_id: first, amount: firstAmount, created_at: now },
        { transfer_id: transferId, account_id: second, amount: secondAmount, created_at: now },
      ]),
  );
  return async (executor, d, now) => {
    const [a, b] = d.entries as [Entry, Entry];
    const inserted = await transfer(executor, ...transferValues(d, now));
    if (inserted.length === 0) return false;
    await entries(executor, d.id, a.account, a.amount, b.account, b.amount, now);
    return true;
  };
}

type Entry = TransferDraft['entries'][number];

/** A transfer's columns in insert order: id, key, kind, reference type and id, memo, actor, created_at. */
function transferValues(
  d: TransferDraft,
  now: number,
): [string, string, CreditTransferKind, string | null, string | null, string | null, string | null, number] {
  return [d.id, d.key, d.kind, d.referenceType, d.referenceId, d.memo, d.actorId, now];
}

export async function findTransferId(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('credit_transfers').select('id').where('key', '=', key).executeTakeFirst();
  return row?.id;
}

export async function transferKind(
  db: Kysely<Database>,
  key: string,
): Promise<CreditTransferKind | undefined> {
  const row = await db
    .selectFrom('credit_transfers')
    .select('kind')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.kind;
}

/** Makes sure the account has its lock row (created on its first balance-checked debit). */
export async function ensureAccountRow(db: Kysely<Database>, accountId: string, now: number): Promise<void> {
  await db
    .insertInto('credit_accounts')
    .values({ id: accountId, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * PostgreSQL: holds the account's row lock until the transaction ends, so a second spend of the same
 * account waits here and then reads a balance that includes the first one's entries (READ COMMITTED
 * takes a fresh snapshot per statement).
 */
export async function lockAccountRow(db: Kysely<Database>, accountId: string): Promise<void> {
  await db.selectFrom('credit_accounts').select('id').where('id', '=', accountId).forUpdate().execute();
}

export async function accountBalance(db: Kysely<Database>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('credit_entries')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('balance'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.balance);
}

/**
 * What a generation's reservation holds per image (the reserved total divided by its image count), the
 * escrow account holding it and the user it came from. Undefined when nothing was reserved (research stage, free pricing).
 */
export async function reservationOfGeneration(
  db: Kysely<Database>,
  generationId: string,
): Promise<{ escrow: string; userId: string; perImage: number } | undefined> {
  const row = await db
    .selectFrom('credit_transfers as t')
    .innerJoin('credit_entries as e', 'e.transfer_id', 't.id')
    .innerJoin('generations as g', 'g.id', 't.reference_id')
    .select(['e.account_id', 'e.amount', 'g.n', 'g.user_id'])
    .where('t.key', '=', reservationKey(generationId))
    .where('e.amount', '>', 0)
    .executeTakeFirst();
  if (!row) return undefined;
  return { escrow: row.account_id, userId: row.user_id, perImage: Number(row.amount) / row.n };
}

export const reservationKey = (generationId: string) => `reserve:${generationId}`;

/** Totals of one user's two accounts by transfer kind. */
export async function totalsByKind(
  db: Kysely<Database>,
  userId: string,
): Promise<{ kind: CreditTransferKind; account_id: string; total: number }[]> {
  const rows = await db
    .selectFrom('credit_entries as e')
    .innerJoin('credit_transfers as t', 't.id', 'e.transfer_id')
    .select(['t.kind', 'e.account_id', (eb) => eb.fn.sum<number>('e.amount').as('total')])
    .where('e.account_id', 'in', [userAccount(userId), escrowAccount(userId)])
    .groupBy(['t.kind', 'e.account_id'])
    .execute();
  return rows.map((r) => ({ ...r, total: Number(r.total) }));
}

export interface MovementRow {
  id: string;
  kind: CreditTransferKind;
  reference_type: string | null;
  reference_id: string | null;
  memo: string | null;
  created_at: number;
  /** Change to the spendable balance. */
  available: number;
  /** Change to what is reserved in escrow. */
  reserved: number;
}

/** One user's transfers, newest first; the cursor is the (created_at, id) of the previous page's last. */
export async function listMovements(
  db: Kysely<Database>,
  p: { userId: string; limit: number; before?: { createdAt: number; id: string } },
): Promise<MovementRow[]> {
  const available = userAccount(p.userId);
  const escrow = escrowAccount(p.userId);
  let q = db
    .selectFrom('credit_entries as e')
    .innerJoin('credit_transfers as t', 't.id', 'e.transfer_id')
    .select([
      't.id',
      't.kind',
      't.reference_type',
      't.reference_id',
      't.memo',
      't.created_at',
      sql<number>`sum(case when e.account_id = ${available} then e.amount else 0 end)`.as('available'),
      sql<number>`sum(case when e.account_id = ${escrow} then e.amount else 0 end)`.as('reserved'),
    ])
    .where('e.account_id', 'in', [available, escrow]);
  if (p.before) {
    const { createdAt, id } = p.before;
    q = q.where((eb) =>
      eb.or([
        eb('e.created_at', '<', createdAt),
        eb.and([eb('e.created_at', '=', createdAt), eb('e.transfer_id', '<', id)]),
      ]),
    );
  }
  const rows = await q
    .groupBy(['t.id', 't.kind', 't.reference_type', 't.reference_id', 't.memo', 't.created_at'])
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(p.limit)
    .execute();
  return rows.map((r) => ({ ...r, available: Number(r.available), reserved: Number(r.reserved) }));
}

export async function userExists(db: Kysely<Database>, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}
