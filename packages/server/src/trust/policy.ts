// The reputation rules, as pure functions over a worker's counters (worker_trust).
//
// States. Every worker starts `new`. A bad result is a strike: 1 for a result refused by a cheap check
// (blank, noise, replay, too fast), 2 for a result two other workers outvoted. Strikes wear off: every
// `strikeDecayResults` accepted results in a row take one off. `probationStrikes` strikes put a worker on
// probation, `suspendStrikes` suspend it (it gets no jobs, its unverified results are withdrawn and its
// held earnings reversed). A new worker, or one on probation, becomes `trusted` once it has no strikes and
// `verifiedToTrust` of its results in a row were confirmed by other workers; its held earnings are then
// paid to its owner. "New" is not probation: nobody starts under suspicion, and honest donors should
// never see the word.
//
// Replication (BOINC-style adaptive replication). The chance that a result is also given to another
// worker with the same weights, same parameters and same seed:
//
//     p = 1                                         while new or on probation
//     p = max(p_min, min(1, verifiedToTrust / v))   when trusted, v = verified results in a row
//
// so a worker is checked on every result until it has a record, on every other result right after, and
// then less and less, down to p_min (TRUST_MIN_REPLICATION_PERCENT, default 5 %), which keeps a worker
// that turns bad later from going unnoticed for long. A result that agrees adds 1 to v for both workers,
// so in a population of honest workers v grows like sqrt(4·k·n) after n results (k = verifiedToTrust)
// and p like sqrt(k / 4n): at k = 5, ~11 % after 100 results per worker, the 5 % floor after ~500.
import type { TrustStateColumn } from '../db/schema.js';
import type { StandingRow } from './sql/standing.js';

export interface TrustPolicy {
  /** p_min, 0–1. */
  minReplication: number;
  verifiedToTrust: number;
  probationStrikes: number;
  suspendStrikes: number;
  strikeDecayResults: number;
}

export function replicationChance(row: Pick<StandingRow, 'state' | 'streak'>, policy: TrustPolicy): number {
  switch (row.state) {
    case 'new':
    case 'probation':
      return 1;
    case 'suspended':
      return 0;
    case 'trusted':
      return Math.max(policy.minReplication, Math.min(1, policy.verifiedToTrust / Math.max(1, row.streak)));
  }
}

export interface Transition {
  to: TrustStateColumn;
  reason: string;
}

/** Where the worker's counters say it belongs now; undefined when it stays. `cause` names the last event. */
export function nextState(
  row: Pick<StandingRow, 'state' | 'strikes' | 'streak'>,
  policy: TrustPolicy,
  cause: string,
): Transition | undefined {
  if (row.state === 'suspended') return undefined;
  if (row.strikes >= policy.suspendStrikes) {
    return { to: 'suspended', reason: `${row.strikes} strikes for bad results; the last: ${cause}` };
  }
  if (row.strikes >= policy.probationStrikes && row.state !== 'probation') {
    return {
      to: 'probation',
      reason: `${row.strikes} strikes for bad results; the last: ${cause} Every result is checked until ${policy.verifiedToTrust} in a row are confirmed and the strikes have worn off.`,
    };
  }
  if (
    (row.state === 'new' || row.state === 'probation') &&
    row.strikes === 0 &&
    row.streak >= policy.verifiedToTrust
  ) {
    return { to: 'trusted', reason: `${row.streak} results in a row were confirmed by other workers.` };
  }
  return undefined;
}

/** Whether earnings for a result of a worker in this state wait in its held account. */
export const holdsEarnings = (state: TrustStateColumn): boolean => state !== 'trusted';
