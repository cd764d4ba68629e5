// Annotation tasks for users: handing them out, their images, the user's own standing, and an image's
// aggregates. Answers are in answer.ts, gold items in gold.ts.
import { randomBytes, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AnnotationKind, AnnotationTask, MyAnnotations, NextAnnotation } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { AppError, notFound } from '../errors.js';
import { newId, toIso } from '../ids.js';
import type { ImagePool } from './pool.js';
import {
  countOpenTasks,
  drawGold,
  drawImage,
  drawPair,
  ensureRater,
  insertTask,
  liveGoldId,
  pairKey,
  shownImages,
  taskImageSha256,
  type Draw,
  type NewTask,
} from './sql/handout.js';
import { creditsSince, findRater } from './sql/answers.js';
import { imageStats } from './sql/aggregates.js';
import { agreementScore, HOUR_MS, shownStatus, type QualityPolicy } from './quality.js';
import { earningState, toImageStats } from './views.js';

export type AnnotationSettings = Config['annotations'] & { reward: number };

export const ANSWER_HINT: Record<AnnotationKind, string> = {
  rating: '{"rating": 1–10}',
  pairwise: '{"preference": "first" | "second" | "tie"}',
  flag: '{"flags": ["nsfw" | "broken" | "offensive" | "does_not_match_prompt", …]} (empty: nothing wrong)',
};

interface Drawn {
  imageA: string;
  imageB: string | null;
  goldId: string | null;
}

export function qualityPolicy(s: AnnotationSettings): QualityPolicy {
  return { minGoldAnswers: s.minGoldAnswers, minAgreement: s.minAgreementPercent / 100 };
}

export class AnnotationService {
  /** Users known to have a rater row: the row is never deleted, so its insert is needed once per process. */
  private readonly knownRaters = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly clock: Clock,
    readonly pool: ImagePool,
    private readonly settings: AnnotationSettings,
  ) {}

  /** Hands the user a new task of this kind, or null when none is left for them right now. */
  async next(userId: string, kind: AnnotationKind): Promise<NextAnnotation> {
    await this.pool.refresh();
    const now = this.clock.now();
    if (!this.knownRaters.has(userId)) {
      await ensureRater(this.db, userId, now);
      if (this.knownRaters.size >= 100_000) this.knownRaters.clear();
      this.knownRaters.add(userId);
    }
    const open = await countOpenTasks(this.db, userId, now);
    if (open >= this.settings.maxOpenTasks) {
      throw new AppError(
        'too_many_open_tasks',
        `You hold ${open} unanswered tasks (at most ${this.settings.maxOpenTasks}); answer them, or wait ` +
          `until they expire (${this.settings.taskTtlSeconds} s after they were handed out).`,
      );
    }
    // A concurrent hand-out to the same user can take the drawn image first (the insert then does
    // nothing); drawing again skips it.
    for (let attempt = 0; attempt < 3; attempt++) {
      let drawn = await this.draw(userId, kind);
      if (!drawn) {
        // Nothing left: maybe images finished since the last refresh.
        await this.pool.refresh(true);
        drawn = await this.draw(userId, kind);
      }
      if (!drawn) return { task: null };
      const key = drawn.imageB === null ? drawn.imageA : pairKey(drawn.imageA, drawn.imageB);
      const task: NewTask = {
        id: newId(),
        user_id: userId,
        kind,
        image_a: drawn.imageA,
        image_b: drawn.imageB,
        pair_key: key,
        // An ordinary draw that lands on a gold item is a check too: a gold image is always scored.
        gold_id: drawn.goldId ?? (await liveGoldId(this.db, { kind, pairKey: key, userId })) ?? null,
        created_at: now,
        expires_at: now + this.settings.taskTtlSeconds * 1000,
      };
      if (await insertTask(this.db, task)) return { task: await this.view(task) };
    }
    throw new AppError('conflict', 'Several requests for tasks raced each other; ask again.');
  }

  /** The stored file behind image `index` of the user's task (others' tasks do not exist for them). */
  async taskImage(userId: string, taskId: string, index: number): Promise<string> {
    if (index !== 0 && index !== 1) throw notFound('Image');
    const sha256 = await taskImageSha256(this.db, { taskId, userId, index });
    if (!sha256) throw notFound('Image');
    return sha256;
  }

  async mine(userId: string): Promise<MyAnnotations> {
    const now = this.clock.now();
    const rater = await findRater(this.db, userId);
    const open = rater ? await countOpenTasks(this.db, userId, now) : 0;
    const hour = rater ? await creditsSince(this.db, userId, now - HOUR_MS) : { total: 0, oldest: undefined };
    const policy = qualityPolicy(this.settings);
    const gold = rater?.gold_answers ?? 0;
    const agreed = rater?.gold_agreed ?? 0;
    const excluded = rater !== undefined && rater.excluded_at !== null;
    const counts = {
      rating: rater?.rating_answers ?? 0,
      pairwise: rater?.pairwise_answers ?? 0,
      flag: rater?.flag_answers ?? 0,
    };
    return {
      answered: { ...counts, total: counts.rating + counts.pairwise + counts.flag },
      openTasks: open,
      creditsEarned: Number(rater?.credits_earned ?? 0),
      creditsLastHour: hour.total,
      hourlyCap: this.settings.hourlyCreditCap,
      agreement: {
        score: gold >= policy.minGoldAnswers ? agreementScore(gold, agreed) : undefined,
        threshold: policy.minAgreement,
        status: shownStatus(policy, { excluded, goldAnswers: gold, goldAgreed: agreed }),
      },
      earning: earningState({
        excluded,
        reward: this.settings.reward,
        cap: this.settings.hourlyCreditCap,
        earnedLastHour: hour.total,
        oldestAt: hour.oldest,
        now,
      }),
    };
  }

  /** An image's aggregates, for its owner and staff (others get 404, as for a missing image). */
  async imageStats(viewer: { userId: string; staff: boolean }, imageId: string) {
    const row = await imageStats(this.db, imageId);
    if (!row || (row.owner_id !== viewer.userId && !viewer.staff)) throw notFound('Image');
    return toImageStats(row);
  }

  private async draw(userId: string, kind: AnnotationKind): Promise<Drawn | undefined> {
    const gold = randomInt(100) < this.settings.goldPercent;
    // When one source has nothing left for this user, the other one serves.
    return gold
      ? ((await this.drawGold(userId, kind)) ?? (await this.drawRegular(userId, kind)))
      : ((await this.drawRegular(userId, kind)) ?? (await this.drawGold(userId, kind)));
  }

  private async drawRegular(userId: string, kind: AnnotationKind): Promise<Drawn | undefined> {
    const from = randomBytes(16).toString('hex');
    const tryBoth = async <T>(fn: (d: Draw) => Promise<T | undefined>) =>
      (await fn({ userId, from, wrap: false })) ?? (await fn({ userId, from, wrap: true }));
    if (kind === 'pairwise') {
      const pair = await tryBoth((d) => drawPair(this.db, d));
      return pair && shuffled(pair.a, pair.b, null);
    }
    const image = await tryBoth((d) => drawImage(this.db, kind, d));
    return image === undefined ? undefined : { imageA: image, imageB: null, goldId: null };
  }

  private async drawGold(userId: string, kind: AnnotationKind): Promise<Drawn | undefined> {
    const from = randomBytes(16).toString('hex');
    const gold =
      (await drawGold(this.db, kind, { userId, from, wrap: false })) ??
      (await drawGold(this.db, kind, { userId, from, wrap: true }));
    if (!gold) return undefined;
    return gold.image_b === null
      ? { imageA: gold.image_a, imageB: null, goldId: gold.id }
      : shuffled(gold.image_a, gold.image_b, gold.id);
  }

  private async view(task: NewTask): Promise<AnnotationTask> {
    const ids = task.image_b === null ? [task.image_a] : [task.image_a, task.image_b];
    const shown = await shownImages(this.db, ids);
    const byId = new Map(shown.map((s) => [s.id, s]));
    const first = byId.get(task.image_a);
    return {
      id: task.id,
      kind: task.kind,
      prompt: first?.prompt ?? '',
      images: ids.map((id, index) => ({
        url: `/v1/annotations/${task.id}/images/${index}`,
        width: byId.get(id)?.width ?? 0,
        height: byId.get(id)?.height ?? 0,
      })),
      expiresAt: toIso(task.expires_at),
      answer: ANSWER_HINT[task.kind],
    };
  }
}

/** Pairs are shown in random order, so "first" carries no information about which image is which. */
function shuffled(a: string, b: string, goldId: string | null): Drawn {
  return randomInt(2) === 0 ? { imageA: a, imageB: b, goldId } : { imageA: b, imageB: a, goldId };
}
