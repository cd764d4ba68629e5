// Worker earnings held until the worker has a verified record (see trust/). A worker that is new or on
// probation earns into `held:<workerId>`; when it becomes trusted the whole balance moves to its owner's
// account in one worker_earning transfer (what the owner sees in their history); when it is found bad the
// balance goes back to the platform (earning_reversal). One account per worker rather than per owner: a bad
// worker's holdings must be reversible without touching its owner's other workers.
//
// Call inside the transaction that changed the worker's standing, after updating its trust row: that row
// lock orders a release against a concurrent earning, so the release reads every committed entry.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newId, newTimeOrderedId } from '../ids.js';
import type { Ledger, Posted } from './ledger.js';
import { workerEarning, type Pricing } from './pricing.js';
import * as q from './queries.js';
import { clawBack, type ClawBack, type ClawBackInput } from './claw-back.js';

export const heldAccount = (workerId: string) => `held:${workerId}`;

export interface EarnInput {
  /** The natural key: `earn:<job id>` for a job, `earn:<replica id>` for a verified replica. */
  key: string;
  workerId: string;
  ownerId: string;
  pixels: number;
  steps: number;
  /** true: into the worker's held account; false: straight to its owner. */
  hold: boolean;
}

export class HeldEarnings {
  constructor(
    private readonly ledger: Ledger,
    private readonly pricing: Pricing,
  ) {}

  /** Pays for work by pixels × steps, held or not. Idempotent per key; 0 credits posts nothing. */
  async earn(trx: Kysely<Database>, p: EarnInput): Promise<Posted & { amount: number }> {
    const amount = workerEarning(this.pricing, p);
    if (amount <= 0) return { transferId: null, posted: false, amount: 0 };
    const posted = await this.ledger.postOne(
      trx,
      earningDraft(p.key, p.workerId, amount, p.hold ? heldAccount(p.workerId) : q.userAccount(p.ownerId)),
    );
    return { ...posted, amount };
  }

  balance(db: Kysely<Database>, workerId: string): Promise<number> {
    return q.accountBalance(db, heldAccount(workerId));
  }

  /** Moves everything held for the worker to its owner. */
  async release(
    trx: Kysely<Database>,
    p: { workerId: string; ownerId: string; memo: string },
  ): Promise<number> {
    const amount = await this.balance(trx, p.workerId);
    if (amount <= 0) return 0;
    await this.ledger.postOne(trx, {
      ...earningDraft(`earn-release:${newId()}`, p.workerId, amount, q.userAccount(p.ownerId)),
      memo: p.memo,
      entries: [
        { account: heldAccount(p.workerId), amount: -amount },
        { account: q.userAccount(p.ownerId), amount },
      ],
    });
    return amount;
  }

  /** Takes everything held for the worker back to the platform. */
  async reverse(trx: Kysely<Database>, p: { workerId: string; memo: string }): Promise<number> {
    const amount = await this.balance(trx, p.workerId);
    if (amount <= 0) return 0;
    await this.ledger.postOne(trx, reversalDraft(`earn-reverse:${newId()}`, p.workerId, amount, p.memo));
    return amount;
  }

  /** Takes back from the owner what earnings found bad had paid them, down to a zero balance (claw-back.ts). */
  clawBack(trx: Kysely<Database>, p: ClawBackInput): Promise<ClawBack> {
    return clawBack(this.ledger, trx, p, heldAccount(p.workerId));
  }

  /**
   * Takes back one earning (its transfer's key) if it went to the held account and is still there (bounded
   * by the held balance). Once per earning. Earnings already paid to an owner are clawBack's.
   */
  async reverseOne(
    trx: Kysely<Database>,
    p: { earnKey: string; workerId: string; memo: string },
  ): Promise<number> {
    const held = await heldEntryOf(trx, p.earnKey, heldAccount(p.workerId));
    if (held <= 0) return 0;
    const amount = Math.min(held, await this.balance(trx, p.workerId));
    if (amount <= 0) return 0;
    const posted = await this.ledger.postOne(
      trx,
      reversalDraft(`reverse:${p.earnKey}`, p.workerId, amount, p.memo),
    );
    return posted.posted ? amount : 0;
  }
}

function earningDraft(key: string, workerId: string, amount: number, to: string): q.TransferDraft {
  return {
    id: newTimeOrderedId(),
    key,
    kind: 'worker_earning',
    // The earner's own worker, not the job: the job belongs to somebody else's generation.
    referenceType: 'worker',
    referenceId: workerId,
    memo: null,
    actorId: null,
    entries: [
      { account: q.PLATFORM_ACCOUNT, amount: -amount },
      { account: to, amount },
    ],
  };
}

function reversalDraft(key: string, workerId: string, amount: number, memo: string): q.TransferDraft {
  return {
    id: newTimeOrderedId(),
    key,
    kind: 'earning_reversal',
    referenceType: 'worker',
    referenceId: workerId,
    memo,
    actorId: null,
    entries: [
      { account: heldAccount(workerId), amount: -amount },
      { account: q.PLATFORM_ACCOUNT, amount },
    ],
  };
}

/** What the transfer under `key` put into `account` (0 when it did not exist or went elsewhere). */
async function heldEntryOf(db: Kysely<Database>, key: string, account: string): Promise<number> {
  const row = await db
    .selectFrom('credit_transfers as t')
    .innerJoin('credit_entries as e', 'e.transfer_id', 't.id')
    .select('e.amount')
    .where('t.key', '=', key)
    .where('e.account_id', '=', account)
    .executeTakeFirst();
  return row ? Number(row.amount) : 0;
}
