// Claw-back: a worker found bad after some of its earnings already reached its owner. Held earnings that
// are still held are reversed by HeldEarnings.reverse/reverseOne; this takes back the rest — earnings that
// went straight to the owner (the worker was trusted) or were released to the owner from the held account
// since — from the owner's spendable balance, as one earning_reversal transfer.
//
// Never below zero. What the owner already spent cannot be taken back without a negative balance, and a
// negative balance would block an honest owner's spending for a fault they may not have known about (a
// broken GPU, a modified worker on one of several machines). The platform absorbs that part: the transfer
// memo and the answer say how much was due and how much was taken, and the worker stays suspended, so the
// most an owner can gain this way is what one worker earned between its last verified check and its
// suspension (replication keeps checking trusted workers on at least TRUST_MIN_REPLICATION_PERCENT).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newTimeOrderedId } from '../ids.js';
import type { Ledger } from './ledger.js';
import * as q from './queries.js';

/** The natural key of a job's earning: `earn:<job>`, and `earn:<job>:r<n>` for its n-th re-run. */
export const earnKey = (jobId: string, reruns = 0) =>
  reruns > 0 ? `earn:${jobId}:r${reruns}` : `earn:${jobId}`;

export interface ClawBackInput {
  /** The transfer's natural key (one claw-back per event). */
  key: string;
  workerId: string;
  ownerId: string;
  /** Keys of the earnings found bad (earnKey of each withdrawn or overturned result). */
  earnKeys: readonly string[];
  /** Why, for the owner's history; the amounts are appended. */
  memo: string;
}

export interface ClawBack {
  /** What those earnings had paid the owner. */
  due: number;
  /** What was taken back (≤ due, ≤ the owner's balance); due − taken is absorbed by the platform. */
  taken: number;
}

const CHUNK = 500;

export async function clawBack(
  ledger: Ledger,
  trx: Kysely<Database>,
  p: ClawBackInput,
  heldAccount: string,
): Promise<ClawBack> {
  const owner = q.userAccount(p.ownerId);
  const lastRelease = await lastReleaseAt(trx, heldAccount);
  let due = 0;
  for (let i = 0; i < p.earnKeys.length; i += CHUNK) {
    for (const e of await earningsPaid(trx, p.workerId, p.earnKeys.slice(i, i + CHUNK))) {
      if (e.account_id === owner) due += e.amount;
      // Earned into the held account and moved to the owner by a release since (a reversed one never was).
      else if (
        e.account_id === heldAccount &&
        !e.reversed &&
        lastRelease !== null &&
        lastRelease > e.created_at
      )
        due += e.amount;
    }
  }
  if (due <= 0) return { due: 0, taken: 0 };
  const balance = await ledger.lockedBalance(trx, owner);
  const taken = Math.max(0, Math.min(due, balance));
  if (taken > 0) {
    const absorbed = due - taken;
    await ledger.postOne(trx, {
      id: newTimeOrderedId(),
      key: p.key,
      kind: 'earning_reversal',
      referenceType: 'worker',
      referenceId: p.workerId,
      memo: (
        `${p.memo} ${taken} of the ${due} credits it had earned were taken back` +
        (absorbed > 0 ? `; the other ${absorbed} were already spent and the platform absorbs them.` : '.')
      ).slice(0, 500),
      actorId: null,
      entries: [
        { account: owner, amount: -taken },
        { account: q.PLATFORM_ACCOUNT, amount: taken },
      ],
    });
  }
  return { due, taken };
}

/** The earnings among `keys` this worker was paid, where each went, when, and whether reverseOne undid it. */
async function earningsPaid(db: Kysely<Database>, workerId: string, keys: readonly string[]) {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('credit_transfers as t')
    .innerJoin('credit_entries as e', 'e.transfer_id', 't.id')
    // Through the unique key index: reverseOne's key is `reverse:<earning key>`.
    .leftJoin('credit_transfers as r', (j) => j.on('r.key', '=', sql<string>`'reverse:' || t.key`))
    .select(['t.key', 'e.account_id', 'e.amount', 'e.created_at', 'r.id as reversal'])
    .where('t.key', 'in', keys)
    .where('t.kind', '=', 'worker_earning')
    .where('t.reference_id', '=', workerId)
    .where('e.amount', '>', 0)
    .execute();
  return rows.map((r) => ({
    account_id: r.account_id,
    amount: Number(r.amount),
    created_at: Number(r.created_at),
    reversed: r.reversal !== null,
  }));
}

/** When the held account last paid out to the owner (a release), or null if it never did. */
async function lastReleaseAt(db: Kysely<Database>, heldAccount: string): Promise<number | null> {
  const row = await db
    .selectFrom('credit_entries as e')
    .innerJoin('credit_transfers as t', 't.id', 'e.transfer_id')
    .select((eb) => eb.fn.max<number>('e.created_at').as('at'))
    .where('e.account_id', '=', heldAccount)
    .where('e.amount', '<', 0)
    .where('t.kind', '=', 'worker_earning')
    .executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}
