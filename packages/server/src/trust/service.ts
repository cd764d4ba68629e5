// Verification of results and worker reputation: the one object the rest of the coordinator talks to.
// workers/lease-service.ts calls it at four points of the worker protocol:
//   pop       → admit (suspended workers and refused fingerprints), then claimReplica before the job queue;
//   a result  → inspect (cheap checks) before the completion transaction, then jobAccepted inside it
//               (records the hashes, moves the standing, may queue a replica, says whether to hold the
//               earning), or jobRejected inside the transaction that sends the job back to the queue;
//   replicas  → everything for ids starting `rep_` goes to `replicas`;
//   reaper    → replicas.expire.
import type { ImageFeatures } from './image-analysis.js';
import type { UploadValidator } from '../images/upload-validator.js';
import type { Kysely } from 'kysely';
import type { JobResult, PopBody, WorkerReputation } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';
import type { GenerationPublisher } from '../jobs/publisher.js';
import type { CreditsService } from '../credits/service.js';
import type { GenerationCache } from '../jobs/generation-cache.js';
import type { GenerationRow, JobRow } from '../jobs/sql/read-generations.js';
import { AppError, notFound } from '../errors.js';
import { recordAudit } from '../audit/record.js';
import { Fingerprints } from './fingerprints.js';
import { Standing, SuspendedMeanwhile } from './standing.js';
import { paramsOf, ResultChecks, type Verdict } from './checks.js';
import { Settlement, type Announce } from './settlement.js';
import { Replicas, bandColumns } from './replicas.js';
import { Reruns } from './reruns.js';
import { WorkerLimits } from './limits.js';
import { ReputationViews } from './views.js';
import { holdsEarnings, replicationChance, type TrustPolicy } from './policy.js';
import { copyJobEmbedding, insertResult } from './sql/results.js';
import { sameRefusalsByOthers, workerOfOwner, workerOwnerContact } from './sql/events.js';
import { mails } from '../mail/templates.js';
import type { Mail } from '../mail/mailer.js';
import { setHardwareClass } from './sql/standing.js';
import { holdImage } from './sql/holds.js';

type WorkerCaller = { workerId: string; userId: string };

/** A refused result, and the earlier refusals of the same job it makes the request's fault (if any). */
export interface Refusal {
  verdict: Extract<Verdict, { ok: false }>;
  earlier: readonly { workerId: string; ownerId: string }[];
}

/** Accounts whose workers must all get the same blank (or noise) for one job before the request is blamed. */
const REQUEST_FAULT_ACCOUNTS = 3;

export interface TrustDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  bus: EventBus;
  /** Tells a generation's watchers of its images queued again (never throws: the re-run stands). */
  publisher: GenerationPublisher;
  credits: CreditsService;
  generations: GenerationCache;
  config: Config;
  /** Sends a mail after the change it tells of committed; failures are logged, never undo it. */
  deliver: (mail: Mail) => Promise<void>;
  /** The web app's address, for links in mails. */
  publicUrl: () => string;
  /** Source of randomness for the replication draw (tests may pin it). */
  random?: () => number;
  /** Checks, re-encodes and analyses replica uploads (images/upload-validator.ts). */
  uploads: UploadValidator;
}

export class TrustService {
  readonly mode: Config['trust']['mode'];
  readonly fingerprints: Fingerprints;
  readonly standing: Standing;
  readonly checks: ResultChecks;
  readonly replicas: Replicas;
  readonly limits: WorkerLimits;
  /** The reputation page and events, for owners and staff. */
  readonly views: ReputationViews;
  private readonly settlement: Settlement;
  private readonly reruns: Reruns;
  private readonly hwClasses = new Map<string, string | null>();
  private readonly random: () => number;

  constructor(private readonly deps: TrustDeps) {
    const { db, clock, config } = deps;
    const t = config.trust;
    this.mode = t.mode;
    this.random = deps.random ?? Math.random;
    const policy: TrustPolicy = {
      minReplication: t.minReplicationPercent / 100,
      verifiedToTrust: t.verifiedToTrust,
      probationStrikes: t.probationStrikes,
      suspendStrikes: t.suspendStrikes,
      strikeDecayResults: t.strikeDecayResults,
    };
    this.fingerprints = new Fingerprints(db, clock);
    this.reruns = new Reruns(deps.dialect);
    this.standing = new Standing(
      db,
      deps.dialect,
      clock,
      deps.credits,
      this.fingerprints,
      policy,
      this.reruns,
    );
    this.checks = new ResultChecks(db, clock, this.standing, {
      speedSlack: t.speedSlack,
      minMsPerMpxStep: t.minMsPerMpxStep,
    });
    this.settlement = new Settlement(
      clock,
      this.standing,
      deps.credits,
      {
        agreeMaxDistance: t.agreeMaxDistance,
        agreeMinCosine: t.agreeMinCosine,
        maxAttempts: config.maxAttempts,
      },
      this.reruns,
    );
    this.replicas = new Replicas(
      db,
      deps.dialect,
      clock,
      deps.generations,
      this.checks,
      this.standing,
      this.settlement,
      deps.uploads,
      {
        leaseMs: config.leaseSeconds * 1000,
        replicaTtlMs: t.replicaTtlSeconds * 1000,
      },
    );
    this.limits = new WorkerLimits(db, clock, config.workerLimits);
    this.views = new ReputationViews(
      db,
      this.standing,
      this.fingerprints,
      deps.credits,
      this.mode === 'full',
    );
  }

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /**
   * At the start of every pop: a suspended worker is told why and gets nothing; models pinned to other
   * weights than it reported are left out (all of them: 422 with the reason). Answers the models to serve.
   */
  async admit(caller: WorkerCaller, body: PopBody): Promise<string[]> {
    if (!this.enabled) return body.models;
    const standing = await this.standing.current(caller.workerId);
    if (standing.state === 'suspended') {
      throw new AppError(
        'worker_suspended',
        `This worker is suspended: ${standing.reason ?? 'bad results'}. Its owner sees the details at GET /v1/workers/${caller.workerId}/reputation.`,
      );
    }
    await this.fingerprints.record(caller.workerId, body, standing.state === 'trusted');
    await this.recordHardware(caller.workerId, body);
    const refused = new Set(await this.fingerprints.refused(body));
    if (refused.size === 0) return body.models;
    const models = body.models.filter((m) => !refused.has(m));
    if (models.length === 0) {
      throw new AppError(
        'fingerprint_refused',
        `This platform accepts only pinned weights for ${[...refused].join(', ')}, and this worker reported other (or no) fingerprints. Check the model files against the published SHA-256.`,
      );
    }
    return models;
  }

  /** Why the worker is suspended (read fresh: results of a worker found bad are not accepted), or undefined. */
  suspension(workerId: string): Promise<string | undefined> {
    return this.enabled ? this.standing.suspension(workerId) : Promise.resolve(undefined);
  }

  /** A replica this worker may run (full mode), claimed before the job queue: replicas are few and short-lived. */
  async claimReplica(caller: WorkerCaller, body: PopBody, models: readonly string[], leaseId: string) {
    if (this.mode !== 'full') return undefined;
    const fps = new Map((body.fingerprints ?? []).map((f) => [f.model, f.sha256]));
    const { state } = await this.standing.current(caller.workerId);
    return this.replicas.claim(caller, {
      leaseId,
      trusted: state === 'trusted',
      models: models.map((model) => ({ model, fingerprint: fps.get(model) ?? null })),
      maxPixels: body.maxPixels,
    });
  }

  /** The cheap checks on a job's validated result (before its completion transaction). */
  async inspectJob(
    caller: WorkerCaller,
    job: JobRow,
    g: GenerationRow,
    image: { png: Buffer; sha256: string; features?: ImageFeatures },
  ): Promise<Verdict | undefined> {
    if (!this.enabled) return undefined;
    return this.checks.inspect({
      workerId: caller.workerId,
      ownerId: caller.userId,
      jobId: job.id,
      params: paramsOf(g, Number(job.seed)),
      leasedAt: job.leased_at === null ? null : Number(job.leased_at),
      png: image.png,
      features: image.features,
    });
  }

  /**
   * Inside the transaction that marked the job done: records the result, counts it, and (full mode) draws
   * whether another worker re-runs it. Answers whether the worker's earning waits in its held account.
   * Throws SuspendedMeanwhile when the worker was suspended since the upload began.
   */
  async jobAccepted(
    trx: Kysely<Database>,
    caller: WorkerCaller,
    job: JobRow,
    verdict: Verdict | undefined,
    image: { bytes: number },
  ): Promise<{ holdEarning: boolean; announce?: Announce }> {
    if (!verdict?.ok) return { holdEarning: false };
    const fingerprint = await this.fingerprints.of(trx, caller.workerId, job.model);
    await insertResult(trx, {
      id: job.id,
      job_id: job.id,
      kind: 'canonical',
      worker_id: caller.workerId,
      owner_id: caller.userId,
      model: job.model,
      fingerprint,
      params_key: verdict.paramsKey,
      seed: Number(job.seed),
      sha256: verdict.features.pixelSha256,
      bytes: image.bytes,
      phash: verdict.features.phash,
      dhash: verdict.features.dhash,
      ...bandColumns(verdict.features.phash),
      status: 'unverified',
      created_at: this.deps.clock.now(),
    });
    const row = await this.standing.accepted(trx, {
      workerId: caller.workerId,
      ownerId: caller.userId,
      msPerMpxStep: verdict.msPerMpxStep,
    });
    // Suspended while this upload was being checked: nothing of it may stand. The caller's transaction
    // rolls back and the job goes back to the queue for another worker (workers/lease-results.ts), as it
    // would had the suspension come a moment earlier.
    if (row.state === 'suspended') throw new SuspendedMeanwhile(row.reason ?? 'bad results');
    let announce: Announce | undefined;
    if (this.mode === 'full' && this.random() < replicationChance(row, this.standing.policy)) {
      // The embedding it came with (sent before the PNG, under this lease) is kept with the result for the
      // comparison; one sent later never counts, so no verdict depends on which arrived first.
      await copyJobEmbedding(trx, { jobId: job.id, leaseId: job.lease_id });
      announce = await this.settlement.open(trx, {
        jobId: job.id,
        generationId: job.generation_id,
        workerId: caller.workerId,
        ownerId: caller.userId,
        model: job.model,
        pixels: job.pixels,
        seed: Number(job.seed),
        fingerprint,
      });
      // A worker without a verified record: its image waits out of the gallery and releases until
      // another worker confirms it (settlement.ts shows it, or withdraws it).
      if (holdsEarnings(row.state)) await holdImage(trx, { imageId: job.id, now: this.deps.clock.now() });
    }
    return { holdEarning: holdsEarnings(row.state), announce };
  }

  /**
   * Whether a refused result is the request's fault rather than the worker's: workers of
   * REQUEST_FAULT_ACCOUNTS different accounts all got a blank (or all noise) for the same job. Two are not
   * enough: two colluding lazy accounts could otherwise excuse each other. Answers the earlier refusals to
   * forgive, or an empty list.
   */
  async requestFault(caller: WorkerCaller, jobId: string, verdict: Extract<Verdict, { ok: false }>) {
    if (verdict.check !== 'blank' && verdict.check !== 'noise') return [];
    const earlier = (
      await sameRefusalsByOthers(this.deps.db, { jobId, check: verdict.check, ownerId: caller.userId })
    ).filter((e) => !e.forgiven);
    return new Set(earlier.map((e) => e.ownerId)).size + 1 >= REQUEST_FAULT_ACCOUNTS ? earlier : [];
  }

  /**
   * Inside the transaction that sent a refused result's job back: a strike with the reason, or, when the
   * request was at fault (`earlier` refusals to forgive), no strike and the earlier ones taken back.
   */
  async jobRejected(
    trx: Kysely<Database>,
    caller: WorkerCaller,
    jobId: string,
    refusal: Refusal,
  ): Promise<void> {
    const outcome = {
      workerId: caller.workerId,
      ownerId: caller.userId,
      jobId,
      detail: refusal.verdict.detail,
    };
    if (refusal.earlier.length > 0) {
      await this.standing.forgive(trx, {
        ...outcome,
        check: refusal.verdict.check,
        earlier: refusal.earlier,
      });
      return;
    }
    await this.standing.strike(trx, { ...outcome, check: refusal.verdict.check, outcome: 'rejected' });
  }

  /** A replica's result (ids `rep_…` on the result and complete routes). */
  async submitReplica(caller: WorkerCaller, id: string, leaseId: string, png: Buffer): Promise<JobResult> {
    const { result, announce } = await this.replicas.submit(caller, id, leaseId, png);
    await this.announce(announce);
    return result;
  }

  /** A replica the worker could not run (fail) or hands back while shutting down (release: giveBack). */
  async failReplica(caller: WorkerCaller, id: string, leaseId: string, reason: string, giveBack: boolean) {
    const { announce, ...answer } = await this.replicas.fail(caller, id, { leaseId, reason, giveBack });
    await this.announce(announce);
    return answer;
  }

  /** The reaper's part: expired replica leases back to the queue, stale replicas given up. */
  async expireReplicas(): Promise<void> {
    if (this.mode !== 'full') return;
    for (const a of await this.replicas.expire()) await this.announce(a);
  }

  /**
   * Wakes workers waiting for a model after a replica was queued, and for jobs queued again since the last
   * call (reruns.ts), whose requesters' event streams hear `requeued` with the reason. Call after the
   * commit of any transaction that may have recorded an outcome.
   */
  async announce(a?: Announce): Promise<void> {
    // Two: the worker whose result is being checked may be the first one woken, and it cannot take it.
    if (a) await this.deps.bus.publishJobs({ model: a.model, count: 2, pixels: a.pixels });
    const { jobs, images } = this.reruns.drain();
    for (const r of jobs) await this.deps.bus.publishJobs(r);
    const visible = await this.reruns.visible(this.deps.db, images, this.deps.clock.now());
    for (const { generationId, index, reason } of visible) {
      this.deps.publisher.emit(generationId, { type: 'requeued', index, reason });
    }
  }

  /**
   * A moderator reinstates a suspended worker (on probation; see Standing.reinstate), audited in the same
   * transaction. 404 for an unknown worker, 409 when it is not suspended.
   */
  async reinstate(actorId: string, workerId: string, reason: string): Promise<WorkerReputation> {
    const { db, clock } = this.deps;
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      if (!(await workerOfOwner(trx, workerId))) throw notFound('Worker');
      const before = await this.standing.row(trx, workerId);
      const row = await this.standing.reinstate(trx, { workerId, reason, now });
      if (!row) throw new AppError('conflict', `The worker is not suspended (it is ${before.state}).`);
      await recordAudit(trx, {
        actorId,
        action: 'worker.reinstate',
        targetType: 'worker',
        targetId: workerId,
        detail: { reason, suspendedFor: before.reason },
        at: now,
      });
    });
    this.standing.forget(workerId);
    // A suspended worker's daemon stopped when it was told (pop answers worker_suspended): its owner is
    // mailed so they know to start it again. Suspensions are not mailed: the daemon says why it stops.
    const owner = await workerOwnerContact(db, workerId);
    if (owner) {
      const link = `${this.deps.publicUrl()}/donate`;
      await this.deps.deliver(mails.workerReinstated(owner.email, owner.name, reason, link));
    }
    return this.views.reputation({ userId: actorId, staff: true }, workerId);
  }

  /** The hardware class (backend and GPU name) speed references are kept per; only named GPUs get one. */
  private async recordHardware(workerId: string, body: PopBody): Promise<void> {
    const gpu = body.hardware?.gpu?.trim();
    const hwClass = gpu ? `${body.backend}|${gpu}` : null;
    if (this.hwClasses.get(workerId) === hwClass) return;
    await this.standing.row(this.deps.db, workerId);
    await setHardwareClass(this.deps.db, workerId, hwClass);
    this.hwClasses.set(workerId, hwClass);
  }
}
