// What else must stop when an account stops (a moderator suspends it, or its owner deletes it): work
// other domains hold for it. Each effect runs inside the transaction that suspends or deletes the
// account, so no suspended or deleted account is left with work in the queue, even after a crash.
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

export interface AccountStop {
  userId: string;
  /** suspended: a moderator's decision, with their reason; deleted: the owner deleted the account. */
  why: 'suspended' | 'deleted';
  reason?: string;
  now: number;
}

/** What an effect did, for the audit entry; and what to announce once the transaction committed. */
export interface AccountStopOutcome {
  detail: Record<string, unknown>;
  /** Runs after the commit (events to watchers); never throws. */
  announce(): Promise<unknown>;
}

export interface AccountStopEffect {
  accountStopped(trx: Transaction<Database>, stop: AccountStop): Promise<AccountStopOutcome>;
}
