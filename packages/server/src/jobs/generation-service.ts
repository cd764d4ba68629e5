import { randomInt } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import {
  GENERATION_DEFAULTS,
  LIMITS,
  type CreateGenerationBody,
  type Generation,
  type GenerationList,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { withIdempotency, type IdempotentAnswer } from '../idempotency/idempotency.js';
import { insertGeneration } from './sql/insert-generation.js';
import { cancelGeneration } from './sql/cancel-generation.js';
import { cancelJobsOfUser } from './sql/cancel-user-jobs.js';
import {
  jobsOfGenerations,
  listGenerations,
  queuePosition,
  type GenerationRow,
  type JobRow,
} from './sql/read-generations.js';
import { toGeneration } from './views.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import type { GenerationPublisher } from './publisher.js';
import type { GenerationCache } from './generation-cache.js';
import type { CreditsService } from '../credits/service.js';
import { maxMsPerMegapixelStep } from '../fairness/speed.js';
import { breach, type GenerationLimitsSetting } from '../settings/generation-limits.js';
import { mayQueueWork } from '../moderation/queries.js';
import { recordAudit } from '../audit/record.js';
import type { AccountStop, AccountStopEffect, AccountStopOutcome } from '../accounts/account-stop.js';
import { writeTransactions, type WriteTransactions } from '../db/group-commit.js';

export interface GenerationLimits {
  maxPixels: number;
  maxAttempts: number;
  settings?: Pick<GenerationLimitsSetting, 'current'>;
}

/** The requester's side of the queue: submit, read, list, cancel; and what stops with an account. */
export class GenerationService implements AccountStopEffect {
  /** Submissions: on SQLite they share commits with concurrent claims and results (db/group-commit.ts). */
  private readonly writes: WriteTransactions;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly publisher: GenerationPublisher,
    private readonly cache: GenerationCache,
    private readonly limits: GenerationLimits,
    private readonly credits: CreditsService,
    private readonly dialect: Dialect,
  ) {
    this.writes = writeTransactions(db, dialect);
  }

  async create(
    userId: string,
    body: CreateGenerationBody,
    idempotencyKey: string | undefined,
  ): Promise<IdempotentAnswer<Generation>> {
    const width = body.width ?? GENERATION_DEFAULTS.width;
    const height = body.height ?? GENERATION_DEFAULTS.height;
    const n = body.n ?? GENERATION_DEFAULTS.n;
    const steps = body.steps ?? GENERATION_DEFAULTS.steps;
    // The limits an admin set at run time (settings/generation-limits.ts), else MAX_PIXELS alone.
    const limits = (await this.limits.settings?.current()) ?? {
      maxPixels: this.limits.maxPixels,
      maxSide: LIMITS.maxSide,
      maxSteps: LIMITS.maxSteps,
      maxImagesPerRequest: LIMITS.maxImagesPerRequest,
    };
    const broken = breach(limits, { width, height, steps, n });
    if (broken) throw new AppError('limit_exceeded', broken);
    const seed = body.seed ?? randomInt(0, LIMITS.maxSeed - LIMITS.maxImagesPerRequest);
    // Priced before the transaction: the access stage is read outside it.
    const charge = await this.credits.quoteGeneration({ width, height, steps, n });
    const answer = await withIdempotency(
      this.db,
      this.clock,
      { userId, key: idempotencyKey, route: 'POST /v1/generations', request: body },
      async (trx) => {
        // A suspension that committed after the auth check cancels queued jobs, so none may follow it.
        if (!(await mayQueueWork(trx, this.dialect, userId)))
          throw new AppError(
            'account_suspended',
            'This account is suspended or deleted: nothing was queued.',
          );
        const now = this.clock.now();
        const generation: GenerationRow = {
          id: newId(),
          user_id: userId,
          prompt: body.prompt,
          negative_prompt: body.negativePrompt ?? GENERATION_DEFAULTS.negativePrompt,
          model: body.model,
          width,
          height,
          steps,
          guidance_scale: body.guidanceScale ?? GENERATION_DEFAULTS.guidanceScale,
          sampler: body.sampler ?? GENERATION_DEFAULTS.sampler,
          seed,
          n,
          created_at: now,
          max_seconds_per_image: body.maxSecondsPerImage ?? null,
        };
        // The requester's slowest accepted worker, in the unit the claim query compares speeds in.
        const maxMsPerMpxStep =
          body.maxSecondsPerImage === undefined
            ? null
            : maxMsPerMegapixelStep(body.maxSecondsPerImage, width * height, steps);
        const jobs: JobRow[] = Array.from({ length: n }, (_, idx) => ({
          id: `${generation.id}_${idx}`,
          generation_id: generation.id,
          idx,
          user_id: userId,
          model: generation.model,
          pixels: width * height,
          seed: (seed + idx) % (LIMITS.maxSeed + 1),
          priority: 0,
          state: 'queued',
          attempts: 0,
          max_attempts: this.limits.maxAttempts,
          lease_id: null,
          worker_id: null,
          lease_expires_at: null,
          step: 0,
          total_steps: generation.steps,
          last_error: null,
          result_sha256: null,
          result_bytes: null,
          created_at: now,
          finished_at: null,
          leased_at: null,
          max_ms_per_mpx_step: maxMsPerMpxStep,
          failure_class: null,
          reruns: 0,
        }));
        // The cost moves into escrow in the same transaction, or nothing is created (402).
        await this.credits.reserve(trx, { userId, generationId: generation.id, n, charge });
        const notice = { model: generation.model, count: n, pixels: width * height };
        // PostgreSQL: with the inserts, in one statement (jobs/sql/insert-generation.ts).
        const announce = this.bus.jobsNoticeSql?.(notice);
        await insertGeneration(trx, generation, jobs, announce);
        if (!announce) await this.bus.publishJobs(notice, trx);
        this.cache.remember(generation);
        return { status: 201, body: toGeneration(generation, jobs) };
      },
      { transact: (work) => this.writes.transaction(work) },
    );
    return answer;
  }

  /** Reads a generation its owner (or staff) may see; others get 404, not 403, so ids leak nothing. */
  async get(viewer: { userId: string; staff: boolean }, id: string): Promise<Generation> {
    const g = await this.owned(viewer, id);
    const jobs = await jobsOfGenerations(this.db, [id]);
    const firstQueued = jobs.find((j) => j.state === 'queued');
    return toGeneration(g, jobs, firstQueued ? await queuePosition(this.db, firstQueued) : undefined);
  }

  async list(userId: string, limit: number, cursor: string | undefined): Promise<GenerationList> {
    const rows = await listGenerations(this.db, { userId, limit, after: decodeCursor(cursor) });
    const jobs = await jobsOfGenerations(
      this.db,
      rows.map((r) => r.id),
    );
    // (Map.groupBy would do, but it needs Node 21.)
    const byGeneration = new Map<string, JobRow[]>();
    for (const j of jobs) {
      const list = byGeneration.get(j.generation_id);
      if (list) list.push(j);
      else byGeneration.set(j.generation_id, [j]);
    }
    const items = rows.map((r) => toGeneration(r, byGeneration.get(r.id) ?? []));
    const last = rows.at(-1);
    return {
      items,
      nextCursor:
        rows.length === limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : undefined,
    };
  }

  async cancel(viewer: { userId: string; staff: boolean }, id: string): Promise<Generation> {
    const g = await this.owned(viewer, id);
    const byStaff = g.user_id !== viewer.userId;
    const reason = byStaff ? 'Cancelled by a moderator.' : 'Cancelled by the requester.';
    const cancelled = await this.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      const jobs = await cancelGeneration(trx, { generationId: id, reason, now });
      // A moderator acting on somebody else's generation is a moderator action: logged with it.
      if (byStaff && jobs.length > 0)
        await recordAudit(trx, {
          actorId: viewer.userId,
          action: 'generation.cancel',
          targetType: 'generation',
          targetId: id,
          detail: { owner: g.user_id, jobsCancelled: jobs.length },
          at: now,
        });
      // Each cancelled image's share of the reservation goes back, with the cancellation.
      await this.credits.jobsRefunded(
        trx,
        jobs.map((j) => ({ id: j.id, generationId: id })),
      );
      return jobs;
    });
    if (cancelled.length > 0) await this.publisher.cancelled(id, reason);
    return this.get(viewer, id);
  }

  /**
   * In the transaction that suspends or deletes an account: every unfinished image of the user is
   * cancelled, with the reason, and its share of the reservation refunded, as the user's own cancel
   * would. Watchers hear `cancelled` once that transaction committed (announce).
   */
  async accountStopped(trx: Transaction<Database>, stop: AccountStop): Promise<AccountStopOutcome> {
    const reason =
      stop.why === 'suspended'
        ? `Cancelled: the account was suspended (${stop.reason ?? 'no reason given'}).`
        : 'Cancelled: the account was deleted.';
    const jobs = await cancelJobsOfUser(trx, { userId: stop.userId, reason, now: stop.now });
    const refunded = await this.credits.jobsRefunded(
      trx,
      jobs.map((j) => ({ id: j.id, generationId: j.generation_id })),
      `Refunded: the image was cancelled when the account was ${stop.why}.`,
    );
    const generationIds = [...new Set(jobs.map((j) => j.generation_id))];
    return {
      detail: { jobsCancelled: jobs.length, creditsRefunded: refunded },
      announce: () => Promise.all(generationIds.map((id) => this.publisher.cancelled(id, reason))),
    };
  }

  /** The stored image of one finished job of a generation the viewer may see. */
  async imageSha256(viewer: { userId: string; staff: boolean }, id: string, index: number): Promise<string> {
    await this.owned(viewer, id);
    const job = (await jobsOfGenerations(this.db, [id])).find((j) => j.idx === index);
    if (!job) throw notFound('Image');
    if (job.state !== 'done' || !job.result_sha256)
      throw new AppError('not_found', `The image is ${job.state}.`);
    return job.result_sha256;
  }

  async owned(viewer: { userId: string; staff: boolean }, id: string): Promise<GenerationRow> {
    const g = await this.cache.find(id);
    if (!g || (g.user_id !== viewer.userId && !viewer.staff)) throw notFound('Generation');
    return g;
  }
}
