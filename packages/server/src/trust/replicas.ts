// The worker's side of a replica: it arrives through the ordinary pop and is heartbeated, delivered,
// failed or released through the ordinary job routes (workers/lease-service.ts hands ids that start with
// `rep_` to this class). To the worker it is just a job. Its result gets the same cheap checks as any
// result; then settlement.ts compares it.
import type { Kysely } from 'kysely';
import type { HeartbeatResponse, JobAssignment, JobResult } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { toIso } from '../ids.js';
import type { GenerationCache } from '../jobs/generation-cache.js';
import { generationParams } from '../jobs/views.js';
import type { UploadValidator } from '../images/upload-validator.js';
import { hashBands } from './image-analysis.js';
import { paramsOf, type ResultChecks, type Verdict } from './checks.js';
import { SuspendedMeanwhile, type Standing } from './standing.js';
import type { Announce, Settlement } from './settlement.js';
import * as r from './sql/replicas.js';
import { insertResult } from './sql/results.js';
import { abandonVerifications } from './sql/verifications.js';
import { releaseHolds } from './sql/holds.js';
import { lockStandings } from './lock-order.js';

type WorkerCaller = { workerId: string; userId: string };

export interface ReplicaSettings {
  leaseMs: number;
  replicaTtlMs: number;
}

export class Replicas {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly generations: GenerationCache,
    private readonly checks: ResultChecks,
    private readonly standing: Standing,
    private readonly settlement: Settlement,
    private readonly uploads: UploadValidator,
    private readonly settings: ReplicaSettings,
  ) {}

  claim(caller: WorkerCaller, c: Omit<r.ReplicaClaim, 'workerId' | 'ownerId' | 'now' | 'leaseMs'>) {
    return r.claimReplica(this.db, this.dialect, {
      ...c,
      workerId: caller.workerId,
      ownerId: caller.userId,
      now: this.clock.now(),
      leaseMs: this.settings.leaseMs,
    });
  }

  async assignment(
    row: r.ReplicaRow,
    heartbeatIntervalMs: number,
    upload: JobAssignment['upload'],
  ): Promise<JobAssignment> {
    const g = await this.generations.get(row.generation_id);
    return {
      id: row.id,
      leaseId: row.lease_id as string,
      leaseExpiresAt: toIso(Number(row.lease_expires_at)),
      heartbeatIntervalMs,
      attempt: row.attempts,
      params: { ...generationParams(g), seed: Number(row.seed) },
      upload,
    };
  }

  private async leased(caller: WorkerCaller, id: string, leaseId: string): Promise<r.ReplicaRow> {
    const row = await r.getReplica(this.db, id);
    if (!row) throw notFound('Job');
    if (row.lease_id !== leaseId || row.worker_id !== caller.workerId || row.state !== 'leased') {
      throw new AppError(
        'lease_lost',
        'This lease expired or was handed back; drop the job and pop the next one.',
      );
    }
    return row;
  }

  /** Fails with lease_lost unless the caller holds this replica; used before reading a staged upload. */
  async assertLeased(caller: WorkerCaller, id: string, leaseId: string): Promise<void> {
    await this.leased(caller, id, leaseId);
  }

  /**
   * The replica's CLIP embedding, kept on the replica for the comparison (never scored or released: a
   * replica never becomes an image). Only one sent before the PNG counts: the PNG ends the lease.
   */
  async storeEmbedding(
    caller: WorkerCaller,
    id: string,
    leaseId: string,
    e: { bytes: Buffer; model: string | null },
  ): Promise<void> {
    const kept = await r.setReplicaEmbedding(this.db, {
      id,
      leaseId,
      workerId: caller.workerId,
      embedding: e.bytes,
      model: e.model,
    });
    if (kept) return;
    await this.leased(caller, id, leaseId); // not found, or lease_lost with the reason
    throw new AppError('lease_lost', 'The lease was lost while the embedding was stored.');
  }

  async heartbeat(caller: WorkerCaller, id: string, leaseId: string): Promise<HeartbeatResponse> {
    const leaseExpiresAt = this.clock.now() + this.settings.leaseMs;
    if (!(await r.heartbeatReplica(this.db, { id, leaseId, leaseExpiresAt }))) {
      await this.leased(caller, id, leaseId);
    }
    return { leaseExpiresAt: toIso(leaseExpiresAt), cancelled: false };
  }

  /** A replica's PNG: validated, checked, compared. Answers the announcement of a tiebreak, if one was queued. */
  async submit(
    caller: WorkerCaller,
    id: string,
    leaseId: string,
    upload: Buffer,
  ): Promise<{ result: JobResult; announce?: Announce }> {
    const row = await this.leased(caller, id, leaseId);
    const suspended = await this.standing.suspension(caller.workerId);
    if (suspended) {
      // Found bad while it ran this: the replica goes to another worker, the attempt returned.
      await r.requeueReplica(this.db, {
        id,
        leaseId,
        reason: suspended,
        now: this.clock.now(),
        giveBack: true,
      });
      throw new AppError('worker_suspended', `This worker is suspended: ${suspended}`);
    }
    const g = await this.generations.get(row.generation_id);
    const image = await this.uploads.validate(upload, g, { analyse: true });
    const params = paramsOf(g, Number(row.seed));
    const verdict = await this.checks.inspect({
      workerId: caller.workerId,
      ownerId: caller.userId,
      jobId: row.job_id,
      params,
      leasedAt: row.leased_at === null ? null : Number(row.leased_at),
      png: image.png,
      features: image.features,
    });
    const now = this.clock.now();
    if (!verdict.ok) {
      await this.db.transaction().execute(async (trx) => {
        await lockStandings(trx, this.dialect, [caller.workerId]); // lock-order.ts: standing, then replica
        const back = await r.requeueReplica(trx, {
          id,
          leaseId,
          reason: verdict.detail,
          now,
          giveBack: false,
          excludeOwner: caller.userId,
        });
        if (!back) return;
        if (back.state === 'failed') await this.giveUp(trx, back.job_id);
        await this.standing.strike(trx, {
          workerId: caller.workerId,
          ownerId: caller.userId,
          jobId: row.job_id,
          check: verdict.check,
          outcome: 'rejected',
          detail: verdict.detail,
        });
      });
      throw new AppError('result_rejected', verdict.detail);
    }
    const announce = await this.commitResult(caller, row, id, leaseId, image, verdict, g.steps);
    if (announce === null) {
      throw new AppError('lease_lost', 'The lease was lost while the upload was checked.');
    }
    return { result: { jobId: id, sha256: image.sha256, bytes: image.png.length, url: '' }, announce };
  }

  private async commitResult(
    caller: WorkerCaller,
    row: r.ReplicaRow,
    id: string,
    leaseId: string,
    image: { png: Buffer },
    verdict: Extract<Verdict, { ok: true }>,
    steps: number,
  ): Promise<Announce | undefined | null> {
    const now = this.clock.now();
    try {
      return await this.db.transaction().execute(async (trx) => {
        // lock-order.ts: the standing of every worker this verdict may change, then the replica.
        const judged = await this.settlement.workersJudged(trx, row);
        await lockStandings(trx, this.dialect, [caller.workerId, ...judged]);
        const done = await r.completeReplica(trx, { id, leaseId, now });
        if (!done) return null;
        // The standing was locked above (PostgreSQL) and is read after any suspension committed
        // meanwhile: a suspended worker casts no vote; everything here rolls back and the replica goes to
        // another worker.
        const standing = await this.standing.accepted(trx, {
          workerId: caller.workerId,
          ownerId: caller.userId,
          msPerMpxStep: verdict.msPerMpxStep,
        });
        if (standing.state === 'suspended') throw new SuspendedMeanwhile(standing.reason ?? 'bad results');
        const mine = {
          id,
          job_id: row.job_id,
          kind: 'replica' as const,
          worker_id: caller.workerId,
          owner_id: caller.userId,
          model: row.model,
          fingerprint: row.fingerprint,
          params_key: verdict.paramsKey,
          seed: Number(row.seed),
          sha256: verdict.features.pixelSha256,
          bytes: image.png.length,
          phash: verdict.features.phash,
          dhash: verdict.features.dhash,
          ...bandColumns(verdict.features.phash),
          status: 'unverified' as const,
          created_at: now,
          // The embedding sent under this lease, if any (one from a worker that lost it is not this one's).
          embedding: done.embedding_lease_id === leaseId ? done.embedding : null,
          embedding_model: done.embedding_lease_id === leaseId ? done.embedding_model : null,
        };
        await insertResult(trx, mine);
        return (await this.settlement.settle(trx, done, mine, steps)) ?? undefined;
      });
    } catch (err) {
      if (!(err instanceof SuspendedMeanwhile)) throw err;
      await r.requeueReplica(this.db, { id, leaseId, reason: err.message, now, giveBack: true });
      throw new AppError('worker_suspended', `This worker is suspended: ${err.message}`);
    }
  }

  /** The worker could not run it: another worker may. `giveBack` (shutting down) returns the attempt. */
  async fail(
    caller: WorkerCaller,
    id: string,
    p: { leaseId: string; reason: string; giveBack: boolean },
  ): Promise<{ state: string; attempts: number; announce?: Announce }> {
    await this.leased(caller, id, p.leaseId);
    const now = this.clock.now();
    const row = await this.db.transaction().execute(async (trx) => {
      const back = await r.requeueReplica(trx, {
        id,
        leaseId: p.leaseId,
        reason: p.reason,
        now,
        giveBack: p.giveBack,
        ...(p.giveBack ? {} : { excludeOwner: caller.userId }),
      });
      if (back?.state === 'failed') await this.giveUp(trx, back.job_id);
      return back;
    });
    if (!row) throw new AppError('lease_lost', 'The lease was lost before the failure was recorded.');
    return {
      state: row.state,
      attempts: row.attempts,
      ...(row.state === 'queued' ? { announce: { model: row.model, pixels: row.pixels } } : {}),
    };
  }

  /** The reaper: expired replica leases go back to the queue; replicas nobody took in time are given up. */
  async expire(): Promise<Announce[]> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const expired = await r.expireReplicaLeases(trx, now);
      for (const e of expired.filter((x) => x.state === 'failed')) await this.giveUp(trx, e.job_id);
      const stale = await r.abandonReplicas(trx, { now, queuedBefore: now - this.settings.replicaTtlMs });
      const jobIds = stale.map((x) => x.job_id);
      await abandonVerifications(trx, {
        jobIds,
        detail: 'No eligible worker took the second opinion in time.',
        now,
      });
      // Nothing was found against them: held images are shown.
      await releaseHolds(trx, jobIds);
      return expired.filter((x) => x.state === 'queued').map((x) => ({ model: x.model, pixels: x.pixels }));
    });
  }

  private async giveUp(trx: Kysely<Database>, jobId: string) {
    await this.settlement.end(
      trx,
      jobId,
      'abandoned',
      'The second opinion failed on every worker that tried; the original stands unverified.',
    );
  }
}

export function bandColumns(phash: string) {
  const [band0, band1, band2, band3] = hashBands(phash);
  return { band0, band1, band2, band3 };
}
