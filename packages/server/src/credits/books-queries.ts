// The SQL behind the trial balance (books.ts): whole-ledger scans, for an admin's check and the tests,
// never on a request path that users drive.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Transfers whose entries do not sum to zero, have fewer than two entries, or none at all. */
export async function unbalancedTransfers(db: Kysely<Database>): Promise<string[]> {
  const skewed = await db
    .selectFrom('credit_entries')
    .select('transfer_id')
    .groupBy('transfer_id')
    .having((eb) => eb.or([eb(eb.fn.sum('amount'), '<>', 0), eb(eb.fn.countAll(), '<', 2)]))
    .execute();
  const empty = await db
    .selectFrom('credit_transfers as t')
    .select('t.id')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('credit_entries as e').select('e.transfer_id').whereRef('e.transfer_id', '=', 't.id'),
        ),
      ),
    )
    .execute();
  return [...skewed.map((r) => r.transfer_id), ...empty.map((r) => r.id)];
}

export async function accountBalances(
  db: Kysely<Database>,
): Promise<{ account_id: string; balance: number }[]> {
  const rows = await db
    .selectFrom('credit_entries')
    .select(['account_id', (eb) => eb.fn.sum<number>('amount').as('balance')])
    .groupBy('account_id')
    .execute();
  return rows.map((r) => ({ account_id: r.account_id, balance: Number(r.balance) }));
}

export async function countTransfers(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('credit_transfers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Every job of a generation that reserved credits, with its state, its share of the reservation, the
 * escrow account holding it, and how its share left escrow (settle, refund, or null while it has not).
 */
export async function reservedJobs(db: Kysely<Database>): Promise<
  {
    job_id: string;
    state: string;
    reruns: number;
    escrow: string;
    amount: number;
    n: number;
    ended_as: string | null;
    ended_amount: number | null;
    ended_to: string | null;
  }[]
> {
  const rows = await db
    .selectFrom('credit_transfers as r')
    .innerJoin('credit_entries as re', (j) => j.onRef('re.transfer_id', '=', 'r.id').on('re.amount', '>', 0))
    .innerJoin('generations as g', 'g.id', 'r.reference_id')
    .innerJoin('jobs as j', 'j.generation_id', 'g.id')
    .leftJoin('credit_transfers as t', (join) => join.on('t.key', '=', sql<string>`'job-end:' || j.id`))
    .leftJoin('credit_entries as te', (join) =>
      join.onRef('te.transfer_id', '=', 't.id').on('te.amount', '>', 0),
    )
    .select([
      'j.id as job_id',
      'j.state',
      'j.reruns',
      're.account_id as escrow',
      're.amount',
      'g.n',
      't.kind as ended_as',
      'te.amount as ended_amount',
      'te.account_id as ended_to',
    ])
    .where('r.kind', '=', 'reserve')
    .execute();
  return rows.map((r) => ({
    ...r,
    reruns: Number(r.reruns),
    amount: Number(r.amount),
    ended_amount: r.ended_amount === null ? null : Number(r.ended_amount),
  }));
}

/** Job-end transfers of jobs whose generation reserved nothing: there must be none. */
export async function strayJobEnds(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('credit_transfers as t')
    .select('t.key')
    .where('t.kind', 'in', ['settle', 'refund'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          // Through the unique key index: a reservation's key is `reserve:<generation>`.
          selectFrom('credit_transfers as r')
            .select('r.id')
            .where('r.key', '=', sql<string>`'reserve:' || t.reference_id`),
        ),
      ),
    )
    .execute();
  return rows.map((r) => r.key);
}
