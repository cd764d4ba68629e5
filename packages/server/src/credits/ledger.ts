// Posting to the ledger: balanced transfers under unique keys, and debits that may not overdraw.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { AppError } from '../errors.js';
import * as q from './queries.js';

export interface Posted {
  /** The transfer (the earlier one when this was a repeat); null when nothing was due (amount 0). */
  transferId: string | null;
  /** False when the same operation had been posted before, or there was nothing to post. */
  posted: boolean;
}

export class Ledger {
  private readonly postPair: q.PostPair;

  constructor(
    db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
  ) {
    this.postPair = q.pairPoster(db, dialect);
  }

  /**
   * Takes `amount` from an account that may not go negative: on PostgreSQL the account's row is locked
   * first, so concurrent spends of one account run one after the other; SQLite runs one write
   * transaction at a time already.
   */
  async debit(
    trx: Kysely<Database>,
    account: string,
    amount: number,
    refuse: (balance: number) => AppError,
  ): Promise<void> {
    const balance = await this.lockedBalance(trx, account);
    if (balance < amount) throw refuse(balance);
  }

  /** The account's balance, with the account locked against concurrent spends until the transaction ends. */
  async lockedBalance(trx: Kysely<Database>, account: string): Promise<number> {
    await q.ensureAccountRow(trx, account, this.clock.now());
    if (this.dialect === 'postgres') await q.lockAccountRow(trx, account);
    return q.accountBalance(trx, account);
  }

  async postOne(trx: Kysely<Database>, draft: q.TransferDraft): Promise<Posted> {
    let posted: boolean;
    if (draft.entries.length === 2) {
      assertBalanced(draft);
      posted = await this.postPair(trx, draft, this.clock.now());
    } else {
      posted = (await this.post(trx, [draft])).has(draft.key);
    }
    if (posted) return { transferId: draft.id, posted: true };
    return { transferId: (await q.findTransferId(trx, draft.key)) ?? null, posted: false };
  }

  /** Posts the transfers whose keys are new (two statements whatever their number); returns those keys. */
  async post(trx: Kysely<Database>, drafts: readonly q.TransferDraft[]): Promise<Set<string>> {
    if (drafts.length === 0) return new Set();
    for (const d of drafts) assertBalanced(d);
    const now = this.clock.now();
    const only = drafts.length === 1 ? drafts[0] : undefined;
    if (only?.entries.length === 2) {
      // The usual case (a finished job's earning when nothing was reserved, one refund): the pair's
      // statements compiled once, one round trip on PostgreSQL, instead of two queries built per call.
      return (await this.postPair(trx, only, now)) ? new Set([only.key]) : new Set();
    }
    const inserted = await q.insertTransfers(trx, drafts, now);
    await q.insertEntries(
      trx,
      drafts.filter((d) => inserted.has(d.key)),
      now,
    );
    return inserted;
  }
}

function assertBalanced(d: q.TransferDraft): void {
  let sum = 0;
  for (const e of d.entries) {
    assertWholeCredits(e.amount, 'entry amount');
    sum += e.amount;
  }
  if (sum !== 0 || d.entries.length < 2) throw new Error(`Transfer ${d.key} does not balance.`);
}

export function assertWholeCredits(amount: number, what: string): void {
  if (!Number.isSafeInteger(amount)) throw new Error(`The ${what} must be a whole number of credits.`);
}
