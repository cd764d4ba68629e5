// A worker's standing, moved by the outcomes of its results (rules in policy.ts). Every method that takes
// a transaction runs inside the one that recorded the outcome, so a strike, the state change it causes and
// its consequences (withdrawn results, reversed or released earnings) commit together or not at all.
import type { Kysely } from 'kysely';
import type { Database, TrustEventsTable, TrustStateColumn } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { CreditsService } from '../credits/service.js';
import { withdrawImage } from './sql/holds.js';
import { nextState, type TrustPolicy } from './policy.js';
import type { Fingerprints } from './fingerprints.js';
import * as s from './sql/standing.js';
import { withdrawUnverified } from './sql/results.js';
import { abandonReplicas, lockReplicasOfUnverified } from './sql/replicas.js';
import { insertEvent } from './sql/events.js';
import { abandonVerifications } from './sql/verifications.js';
import { doneJobs } from './sql/reruns.js';
import type { Reruns } from './reruns.js';
import { earnKey } from '../credits/claw-back.js';
import type { Dialect } from '../db/connect.js';
import { lockStandings } from './lock-order.js';
import { newId } from '../ids.js';

const STATE_TTL_MS = 2_000;

export interface Outcome {
  workerId: string;
  ownerId: string;
  jobId: string;
  detail: string;
}

export class Standing {
  /** The state pop reads, briefly cached: suspension elsewhere reaches this replica within the TTL. */
  private readonly cache = new Map<string, { state: TrustStateColumn; reason: string | null; at: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly credits: CreditsService,
    private readonly fingerprints: Fingerprints,
    readonly policy: TrustPolicy,
    private readonly reruns: Reruns,
  ) {}

  /** The worker's row, made (state new) if it has none yet. */
  async row(db: Kysely<Database>, workerId: string): Promise<s.StandingRow> {
    const found = await s.getStanding(db, workerId);
    if (found) return found;
    await s.ensureStanding(db, { workerId, now: this.clock.now(), ip: null });
    return (await s.getStanding(db, workerId)) as s.StandingRow;
  }

  async current(workerId: string): Promise<{ state: TrustStateColumn; reason: string | null }> {
    const now = this.clock.now();
    const cached = this.cache.get(workerId);
    if (cached && now - cached.at < STATE_TTL_MS) return cached;
    const row = await this.row(this.db, workerId);
    const entry = { state: row.state, reason: row.reason, at: now };
    this.cache.set(workerId, entry);
    return entry;
  }

  /** The reason the worker is suspended, read from the database (not the cache); undefined when it is not. */
  async suspension(workerId: string): Promise<string | undefined> {
    const row = await s.getStanding(this.db, workerId);
    if (row?.state !== 'suspended') return undefined;
    return row.reason ?? 'bad results';
  }

  forget(workerId: string): void {
    this.cache.delete(workerId);
  }

  /** A result passed the checks on arrival. */
  async accepted(
    trx: Kysely<Database>,
    o: Omit<Outcome, 'jobId' | 'detail'> & { msPerMpxStep: number | null },
  ) {
    await this.row(trx, o.workerId);
    const row = await s.countAccepted(trx, {
      workerId: o.workerId,
      msPerMpxStep: o.msPerMpxStep,
      decayAfter: this.policy.strikeDecayResults,
    });
    return this.settle(trx, row, o.ownerId, 'a run of accepted results wore a strike off.');
  }

  /** Another worker confirmed one of its results. */
  async verified(trx: Kysely<Database>, o: Outcome): Promise<s.StandingRow> {
    await this.row(trx, o.workerId);
    const row = await s.countVerified(trx, o.workerId);
    await this.event(trx, { worker_id: o.workerId, kind: 'verified', job_id: o.jobId, detail: o.detail });
    return this.settle(trx, row, o.ownerId, o.detail);
  }

  /** A bad result: refused on arrival (1 strike) or outvoted by two other workers (2 strikes). */
  async strike(
    trx: Kysely<Database>,
    o: Outcome & { check: NonNullable<TrustEventsTable['check_name']>; outcome: 'rejected' | 'overturned' },
  ): Promise<s.StandingRow> {
    await this.row(trx, o.workerId);
    const row = await s.countStrike(trx, {
      workerId: o.workerId,
      outcome: o.outcome,
      weight: o.outcome === 'overturned' ? 2 : 1,
    });
    await this.event(trx, {
      worker_id: o.workerId,
      kind: o.outcome,
      check_name: o.check,
      job_id: o.jobId,
      detail: o.detail,
    });
    return this.settle(trx, row, o.ownerId, o.detail);
  }

  /**
   * A refusal that was the request's fault (workers of two accounts got the same one for the same job):
   * the earlier strikes for it are taken back, and this one is recorded without a strike.
   */
  async forgive(
    trx: Kysely<Database>,
    o: Outcome & {
      check: NonNullable<TrustEventsTable['check_name']>;
      earlier: readonly { workerId: string; ownerId: string }[];
    },
  ): Promise<void> {
    await this.row(trx, o.workerId);
    // lock-order.ts: every standing this changes, in id order, before the first update.
    await lockStandings(trx, this.dialect, [o.workerId, ...o.earlier.map((e) => e.workerId)]);
    await s.countRefusal(trx, o.workerId);
    const why =
      'Workers of two accounts got the same refusal for this job: the request produces it, so it does not count.';
    await this.event(trx, {
      worker_id: o.workerId,
      kind: 'rejected',
      check_name: o.check,
      job_id: o.jobId,
      detail: `${o.detail} ${why}`,
    });
    for (const e of o.earlier) {
      const row = await s.forgiveStrike(trx, e.workerId);
      await this.event(trx, {
        worker_id: e.workerId,
        kind: 'forgiven',
        check_name: o.check,
        job_id: o.jobId,
        detail: why,
      });
      await this.settle(trx, row, e.ownerId, why);
    }
  }

  /**
   * A moderator reinstates a suspended worker. It comes back on probation, not trusted: every result is
   * checked again (replication 1) and it keeps `probationStrikes` strikes, so it is trusted only once they
   * have worn off and `verifiedToTrust` results in a row were confirmed, and it is suspended again after
   * fewer bad results than a newcomer. What its suspension did stays done: its withdrawn results were
   * re-run by other workers and its reversed earnings are not paid back. Undefined when it was not suspended.
   */
  async reinstate(
    trx: Kysely<Database>,
    p: { workerId: string; reason: string; now: number },
  ): Promise<s.StandingRow | undefined> {
    const detail =
      `Reinstated by a moderator: ${p.reason} It is on probation: every result is checked until ` +
      `${this.policy.verifiedToTrust} in a row are confirmed and its strikes have worn off.`;
    const row = await s.reinstate(trx, {
      workerId: p.workerId,
      reason: detail.slice(0, 1000),
      strikes: this.policy.probationStrikes,
      now: p.now,
    });
    if (!row) return undefined;
    this.forget(p.workerId);
    await this.event(trx, { worker_id: p.workerId, kind: 'state_changed', state: 'probation', detail });
    return row;
  }

  /** Applies the state change the counters call for, with its consequences. */
  private async settle(trx: Kysely<Database>, row: s.StandingRow, ownerId: string, cause: string) {
    const move = nextState(row, this.policy, cause);
    if (!move) return row;
    const now = this.clock.now();
    const changed = await s.changeState(trx, {
      workerId: row.worker_id,
      from: row.state,
      to: move.to,
      reason: move.reason,
      now,
    });
    if (!changed) return row;
    this.forget(row.worker_id);
    let detail = move.reason;
    if (move.to === 'trusted') {
      const paid = await this.credits.held.release(trx, {
        workerId: row.worker_id,
        ownerId,
        memo: 'Held earnings released: the worker is trusted.',
      });
      if (paid > 0) detail += ` ${paid} held credits were paid to the owner.`;
      await this.fingerprints.learnFrom(trx, row.worker_id);
    }
    await this.event(trx, { worker_id: row.worker_id, kind: 'state_changed', state: move.to, detail });
    if (move.to === 'suspended') await this.withdraw(trx, row.worker_id, ownerId, move.reason, now);
    return changed;
  }

  /**
   * A worker found bad: its unverified results leave the gallery and releases and their jobs are queued
   * again for other workers (reruns.ts); its held earnings go back to the platform, and what those results
   * had already paid its owner is clawed back (credits/claw-back.ts).
   */
  private async withdraw(
    trx: Kysely<Database>,
    workerId: string,
    ownerId: string,
    reason: string,
    now: number,
  ) {
    await lockReplicasOfUnverified(trx, this.dialect, workerId); // lock-order.ts: replicas, then results
    const withdrawn = await withdrawUnverified(trx, workerId);
    const canonical = withdrawn.filter((r) => r.kind === 'canonical');
    for (const r of canonical) {
      await withdrawImage(trx, {
        imageId: r.job_id,
        reason: `verification: its worker was suspended (${reason})`,
        now,
      });
    }
    // Checking them no longer matters: they are withdrawn whatever a second opinion would say.
    const jobIds = canonical.map((r) => r.job_id);
    await abandonReplicas(trx, { now, jobIds });
    await abandonVerifications(trx, { jobIds, now, detail: 'Withdrawn: its worker was suspended.' });
    const reversed = await this.credits.held.reverse(trx, {
      workerId,
      memo: `Held earnings reversed: the worker was suspended (${reason})`.slice(0, 500),
    });
    const jobs = await doneJobs(trx, jobIds);
    const claw = await this.credits.held.clawBack(trx, {
      key: `claw-back:${workerId}:${newId()}`,
      workerId,
      ownerId,
      earnKeys: jobs.map((j) => earnKey(j.id, j.reruns)),
      memo: `Worker ${workerId} was suspended (${reason.slice(0, 200)}) and its unverified results withdrawn:`,
    });
    const rerun = await this.reruns.queue(trx, {
      jobIds: jobs.map((j) => j.id),
      reason: 'Queued again: the first result was withdrawn (its worker was suspended).',
      now,
    });
    let detail = `${canonical.length} unverified images were withdrawn from the gallery and future releases`;
    if (rerun > 0) detail += ` and ${rerun} of them queued again for other workers`;
    if (reversed > 0) detail += `; ${reversed} held credits went back to the platform`;
    if (claw.due > 0) {
      detail += `; ${claw.taken} of the ${claw.due} credits they had paid the owner were taken back`;
      if (claw.taken < claw.due) detail += ` (the rest was already spent; the platform absorbs it)`;
    }
    await this.event(trx, { worker_id: workerId, kind: 'withdrawn', detail: `${detail}.` });
  }

  private async event(
    trx: Kysely<Database>,
    e: Pick<TrustEventsTable, 'worker_id' | 'kind' | 'detail'> &
      Partial<Pick<TrustEventsTable, 'check_name' | 'job_id' | 'state'>>,
  ) {
    await insertEvent(trx, {
      worker_id: e.worker_id,
      kind: e.kind,
      check_name: e.check_name ?? null,
      job_id: e.job_id ?? null,
      state: e.state ?? null,
      detail: e.detail.slice(0, 2000),
      created_at: this.clock.now(),
    });
  }
}

/**
 * Thrown inside a transaction to roll it back: the worker was suspended while its upload was checked
 * (read under its standing's lock), so nothing it sent may count.
 */
export class SuspendedMeanwhile extends Error {}
