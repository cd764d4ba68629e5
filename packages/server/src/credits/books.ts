// The trial balance: checks the whole ledger against its rules and against the queue. An admin can ask
// for it (GET /v1/admin/credits/books); the property test asserts it after every run. It scans every
// entry, so it is an occasional check, not something a request path calls.
import type { Kysely } from 'kysely';
import type { CreditBooks } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import { PLATFORM_ACCOUNT } from './queries.js';
import * as b from './books-queries.js';

const MAX_PROBLEMS = 100;

export async function trialBalance(db: Kysely<Database>): Promise<CreditBooks> {
  const problems: string[] = [];
  for (const id of await b.unbalancedTransfers(db))
    problems.push(`transfer ${id}: its entries do not sum to zero (or it has fewer than two)`);

  const balances = await b.accountBalances(db);
  let total = 0;
  let platform = 0;
  let escrow = 0;
  let users = 0;
  let other = 0;
  const escrowBalances = new Map<string, number>();
  for (const a of balances) {
    total += a.balance;
    if (a.account_id === PLATFORM_ACCOUNT) platform = a.balance;
    else {
      if (a.balance < 0) problems.push(`account ${a.account_id}: negative balance ${a.balance}`);
      if (a.account_id.startsWith('escrow:')) {
        escrow += a.balance;
        escrowBalances.set(a.account_id, a.balance);
      } else if (a.account_id.startsWith('user:')) users += a.balance;
      else other += a.balance;
    }
  }
  if (total !== 0) problems.push(`all accounts together sum to ${total}, not 0`);

  // Escrow holds exactly the shares of images that have not finished; each finished image's share
  // left escrow once, the way its outcome says (done: settled to the platform; failed or cancelled:
  // refunded to the user).
  // A re-run job (trust/reruns.ts: its first result was withdrawn) settled with that first result, whatever
  // its state now; if the re-run fails, a separate rerun-refund pays the share back from the platform.
  const outstanding = new Map<string, number>();
  for (const j of await b.reservedJobs(db)) {
    const share = j.amount / j.n;
    const open = j.reruns === 0 && (j.state === 'queued' || j.state === 'leased');
    if (open) outstanding.set(j.escrow, (outstanding.get(j.escrow) ?? 0) + share);
    const expected = open ? null : j.reruns > 0 || j.state === 'done' ? 'settle' : 'refund';
    if (j.ended_as !== expected)
      problems.push(
        `job ${j.job_id} (${j.state}): share ${j.ended_as ?? 'still in escrow'}, expected ${expected ?? 'in escrow'}`,
      );
    else if (expected) {
      const to = expected === 'settle' ? PLATFORM_ACCOUNT : j.escrow.replace(/^escrow:/, 'user:');
      if (j.ended_amount !== share || j.ended_to !== to)
        problems.push(`job ${j.job_id}: ${j.ended_amount} went to ${j.ended_to}, expected ${share} to ${to}`);
    }
  }
  for (const account of new Set([...outstanding.keys(), ...escrowBalances.keys()])) {
    const held = escrowBalances.get(account) ?? 0;
    const owed = outstanding.get(account) ?? 0;
    if (held !== owed) problems.push(`account ${account}: holds ${held}, unfinished images reserved ${owed}`);
  }
  for (const key of await b.strayJobEnds(db))
    problems.push(`transfer ${key}: no reservation to settle or refund`);

  return {
    transfers: await b.countTransfers(db),
    total,
    platform,
    users,
    escrow,
    other,
    balanced: problems.length === 0,
    problems: problems.slice(0, MAX_PROBLEMS),
  };
}
