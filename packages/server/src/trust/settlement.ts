// Replication: opening a second opinion on a result, and deciding when the replicas come back.
//
// Round 1 gives the job (same parameters, same seed) to a worker of another account with the same model
// fingerprint (a trusted one, when a trusted peer with those weights is around). If the two results agree
// (comparison.ts: within TRUST_AGREE_MAX_DISTANCE perceptual-hash bits, and, when both came with a CLIP
// embedding, a cosine of at least TRUST_AGREE_MIN_COSINE), both are verified. If not, round 2 asks a
// third, trusted worker (of a third account) and the majority decides:
//   - the third agrees with the original only → the round-1 replica is overturned (2 strikes);
//   - the third agrees with the round-1 replica only → the original is overturned: 2 strikes, its image is
//     withdrawn (hidden from the gallery and releases, reason "verification: …") and its earning, if still
//     held, reversed;
//   - the third agrees with both → the first disagreement was marginal: everyone is verified;
//   - the third agrees with neither → inconclusive: nobody is penalised, nothing is verified.
// Replica results never become images and never charge the requester; a replica earns its worker's owner
// credits (pixels × steps, like any job) only once it is verified, held or paid as its standing says.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { CreditsService } from '../credits/service.js';
import { newId } from '../ids.js';
import { releaseHolds, withdrawImage } from './sql/holds.js';
import { compareResults, describeComparison, type AgreementThresholds } from './comparison.js';
import { holdsEarnings } from './policy.js';
import type { Standing } from './standing.js';
import { getResult, setResultStatus, type ResultRow } from './sql/results.js';
import {
  doneReplicasOfJob,
  insertReplica,
  REPLICA_ID_PREFIX,
  trustedPeers,
  type ReplicaRow,
} from './sql/replicas.js';
import { decideVerification, noteVerification, openVerification } from './sql/verifications.js';
import type { VerificationStateColumn } from '../db/schema.js';
import { earnKey } from '../credits/claw-back.js';
import { doneJobs } from './sql/reruns.js';
import type { Reruns } from './reruns.js';

/** A trusted peer counts when it polled within this long (10 minutes). */
const PEER_SEEN_MS = 600_000;

export interface SettlementSettings extends AgreementThresholds {
  /** Attempts a replica gets before it is given up (like a job's). */
  maxAttempts: number;
}

/** A replica was queued: wake workers that may take it (after the transaction commits). */
export interface Announce {
  model: string;
  pixels: number;
}

export class Settlement {
  constructor(
    private readonly clock: Clock,
    private readonly standing: Standing,
    private readonly credits: CreditsService,
    private readonly settings: SettlementSettings,
    private readonly reruns: Reruns,
  ) {}

  /** Queues round 1 for a canonical result just accepted. */
  async open(
    trx: Kysely<Database>,
    c: {
      jobId: string;
      generationId: string;
      workerId: string;
      ownerId: string;
      model: string;
      pixels: number;
      seed: number;
      fingerprint: string | null;
    },
  ): Promise<Announce> {
    const now = this.clock.now();
    await openVerification(trx, { jobId: c.jobId, workerId: c.workerId, now });
    await this.queue(trx, { ...c, round: 1, excluded: [c.ownerId, null], now });
    return { model: c.model, pixels: c.pixels };
  }

  /**
   * The workers besides the replica's own whose standing its verdict may change: the original result's,
   * and in a tiebreak the first replica's. Read before the verdict's transaction locks them (lock-order.ts).
   */
  async workersJudged(db: Kysely<Database>, replica: ReplicaRow): Promise<string[]> {
    const original = await getResult(db, replica.job_id);
    const first =
      replica.round > 1
        ? (await doneReplicasOfJob(db, replica.job_id)).find((r) => r.round === 1)
        : undefined;
    return [original?.worker_id, first?.worker_id].filter((id): id is string => typeof id === 'string');
  }

  /** A replica's result was accepted (and stored as `mine`): decide what it means. */
  async settle(
    trx: Kysely<Database>,
    replica: ReplicaRow,
    mine: ResultRow,
    steps: number,
  ): Promise<Announce | undefined> {
    const now = this.clock.now();
    const original = await getResult(trx, replica.job_id);
    if (!original || original.status === 'withdrawn' || original.status === 'overturned') {
      await this.end(trx, replica.job_id, 'abandoned', 'The original result was withdrawn meanwhile.');
      return undefined;
    }
    const withOriginal = compareResults(original, mine, this.settings);
    const agreeWithOriginal = withOriginal.agree;
    if (replica.round === 1) {
      if (agreeWithOriginal) {
        await this.verify(trx, [original, mine], replica, steps, this.says(original, mine));
        await this.end(trx, replica.job_id, 'verified', this.says(original, mine));
        return undefined;
      }
      await noteVerification(trx, {
        jobId: replica.job_id,
        detail: `Round 1 disagreed (${describeComparison(withOriginal)}); a third worker decides.`,
      });
      await this.queue(trx, {
        jobId: replica.job_id,
        generationId: replica.generation_id,
        model: replica.model,
        pixels: replica.pixels,
        seed: Number(replica.seed),
        fingerprint: replica.fingerprint,
        round: 2,
        excluded: [original.owner_id, mine.owner_id],
        now,
      });
      return { model: replica.model, pixels: replica.pixels };
    }

    const first = (await doneReplicasOfJob(trx, replica.job_id)).find((r) => r.round === 1);
    const firstResult = first ? await getResult(trx, first.id) : undefined;
    const agreeWithFirst =
      firstResult !== undefined && compareResults(firstResult, mine, this.settings).agree;
    if (agreeWithOriginal && !agreeWithFirst) {
      await this.verify(trx, [original, mine], replica, steps, this.says(original, mine));
      if (firstResult)
        await this.overturn(
          trx,
          firstResult,
          `Two other workers agreed on a different picture for job ${replica.job_id}.`,
        );
      await this.end(trx, replica.job_id, 'verified', 'The third worker sided with the original.');
    } else if (agreeWithFirst && !agreeWithOriginal && firstResult) {
      await this.verify(trx, [firstResult, mine], replica, steps, this.says(firstResult, mine));
      await this.overturn(
        trx,
        original,
        `Two other workers agreed on a different picture for job ${replica.job_id}.`,
      );
      await this.end(trx, replica.job_id, 'overturned', 'The third worker sided with the replica.');
    } else if (agreeWithFirst && agreeWithOriginal && firstResult) {
      await this.verify(trx, [original, firstResult, mine], replica, steps, 'Confirmed by a third worker.');
      await this.end(trx, replica.job_id, 'verified', 'The third worker agreed with both.');
    } else {
      await this.end(trx, replica.job_id, 'inconclusive', 'Three different pictures; nobody is penalised.');
    }
    return undefined;
  }

  /**
   * Ends a case. Unless the original was overturned its image is shown if it was held: confirmed, or
   * nothing was found against it.
   */
  async end(
    trx: Kysely<Database>,
    jobId: string,
    state: Exclude<VerificationStateColumn, 'pending'>,
    detail: string,
  ) {
    const now = this.clock.now();
    await decideVerification(trx, { jobId, state, detail, now });
    if (state !== 'overturned') await releaseHolds(trx, [jobId]);
    // The requester gets the picture the other workers agreed on: the job is queued again (reruns.ts).
    else
      await this.reruns.queue(trx, {
        jobIds: [jobId],
        reason: 'Queued again: two other workers agreed on a different picture than the first result.',
        now,
      });
  }

  private says(a: ResultRow, b: ResultRow): string {
    return `Another worker produced the same picture (${describeComparison(compareResults(a, b, this.settings))}).`;
  }

  /** Marks results verified, credits their workers, and pays the replicas among them. */
  private async verify(
    trx: Kysely<Database>,
    results: ResultRow[],
    replica: ReplicaRow,
    steps: number,
    detail: string,
  ) {
    for (const r of results) {
      if (!(await setResultStatus(trx, { id: r.id, from: 'unverified', to: 'verified' }))) continue;
      const row = await this.standing.verified(trx, {
        workerId: r.worker_id,
        ownerId: r.owner_id,
        jobId: r.job_id,
        detail,
      });
      if (r.kind === 'replica') {
        await this.credits.held.earn(trx, {
          key: `earn:${r.id}`,
          workerId: r.worker_id,
          ownerId: r.owner_id,
          pixels: replica.pixels,
          steps,
          hold: holdsEarnings(row.state),
        });
      }
    }
  }

  private async overturn(trx: Kysely<Database>, r: ResultRow, detail: string) {
    if (!(await setResultStatus(trx, { id: r.id, from: 'unverified', to: 'overturned' }))) return;
    if (r.kind === 'canonical') {
      await withdrawImage(trx, {
        imageId: r.job_id,
        reason: 'verification: two other workers given the same job and seed agreed on a different picture',
        now: this.clock.now(),
      });
      const [job] = await doneJobs(trx, [r.job_id]);
      const key = earnKey(r.job_id, job?.reruns ?? 0);
      const memo = `Earning reversed: the result for job ${r.job_id} was overturned.`;
      await this.credits.held.reverseOne(trx, { earnKey: key, workerId: r.worker_id, memo });
      // Already paid to the owner (a trusted worker, or released since): taken back from them.
      await this.credits.held.clawBack(trx, {
        key: `claw-back:${key}`,
        workerId: r.worker_id,
        ownerId: r.owner_id,
        earnKeys: [key],
        memo: `The result for job ${r.job_id} was overturned:`,
      });
    }
    await this.standing.strike(trx, {
      workerId: r.worker_id,
      ownerId: r.owner_id,
      jobId: r.job_id,
      check: 'disagreement',
      outcome: 'overturned',
      detail,
    });
  }

  private async queue(
    trx: Kysely<Database>,
    c: {
      jobId: string;
      generationId: string;
      model: string;
      pixels: number;
      seed: number;
      fingerprint: string | null;
      round: number;
      excluded: [string, string | null];
      now: number;
    },
  ) {
    // A tiebreak always waits for a trusted worker: two newcomers who share a shortcut would agree with
    // each other and outvote an honest worker, so nobody is overturned without a worker with a record on
    // the winning side. A second opinion waits for one too when a trusted peer with the same weights is
    // around (unfingerprinted models have no peer list: anyone may give their second opinion).
    const excluded = c.excluded.filter((o): o is string => o !== null);
    const trustedOnly =
      c.round > 1 ||
      (c.fingerprint !== null &&
        (await trustedPeers(trx, {
          model: c.model,
          fingerprint: c.fingerprint,
          excludedOwners: excluded,
          seenSince: c.now - PEER_SEEN_MS,
        })) > 0);
    await insertReplica(trx, {
      trusted_only: trustedOnly ? 1 : 0,
      id: `${REPLICA_ID_PREFIX}${newId()}`,
      job_id: c.jobId,
      generation_id: c.generationId,
      round: c.round,
      model: c.model,
      pixels: c.pixels,
      seed: c.seed,
      fingerprint: c.fingerprint,
      excluded_owner_a: c.excluded[0],
      excluded_owner_b: c.excluded[1],
      state: 'queued',
      lease_id: null,
      worker_id: null,
      leased_at: null,
      lease_expires_at: null,
      max_attempts: this.settings.maxAttempts,
      last_error: null,
      created_at: c.now,
      finished_at: null,
    });
  }
}
