// Answering a task, in one transaction (withIdempotency's): the fenced answer, the gold check, the
// rater's counters and exclusion, the image's aggregates and the credits, all or nothing.
import type { Kysely, Transaction } from 'kysely';
import type {
  AnnotationAnswer,
  AnnotationKind,
  AnswerAnnotationBody,
  EarningState,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { toIso } from '../ids.js';
import {
  idempotencyStatements,
  withIdempotency,
  type IdempotencyStatements,
  type IdempotentAnswer,
} from '../idempotency/idempotency.js';
import { writeTransactions, type WriteTransactions } from '../db/group-commit.js';
import type { CreditsService } from '../credits/service.js';
import { flagsToMask } from './flags.js';
import { agreesWithGold, HOUR_MS, pacedCredits, raterStatus, type GivenAnswer } from './quality.js';
import { ANSWER_HINT, qualityPolicy, type AnnotationSettings } from './service.js';
import {
  answerQueries,
  findTask,
  setAnswersExcluded,
  setRaterExcluded,
  type AnsweredTask,
  type AnswerQueries,
} from './sql/answers.js';
import {
  aggregateQueries,
  imagesOfRater,
  lockImages,
  recomputeImages,
  type AggregateQueries,
} from './sql/aggregates.js';
import { earningState } from './views.js';

const ROUTE = 'POST /v1/annotations/:id';

export class AnswerService {
  private readonly q: AnswerQueries;
  private readonly aggregates: AggregateQueries;
  /** SQLite: answers share commits with other writes (db/group-commit.ts); PostgreSQL: each its own. */
  private readonly writes: WriteTransactions;
  private readonly keys: IdempotencyStatements;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
    private readonly credits: CreditsService,
    private readonly settings: AnnotationSettings,
  ) {
    this.q = answerQueries(db, dialect);
    this.aggregates = aggregateQueries(db);
    this.writes = writeTransactions(db, dialect);
    this.keys = idempotencyStatements(db);
  }

  async answer(
    userId: string,
    taskId: string,
    body: AnswerAnnotationBody,
    idempotencyKey: string | undefined,
  ): Promise<IdempotentAnswer<AnnotationAnswer>> {
    const { kind, given } = parse(body);
    const scope = { userId, key: idempotencyKey, route: ROUTE, request: { taskId, body } };
    const work = async (trx: Transaction<Database>) => ({
      status: 200,
      body: await this.store(trx, userId, taskId, kind, given),
    });
    // No lookup of the key before the work: a retry's fenced update matches nothing (the task is
    // answered), or the key's insert at the end fails; either rolls the answer back, and the earlier
    // answer is read after that. One statement less per answer, and on SQLite nothing outside the
    // group's transaction, so answers gather into one commit.
    return withIdempotency(this.db, this.clock, scope, work, {
      transact: (work) => this.writes.transaction(work),
      statements: this.keys,
      lookupFirst: false,
    });
  }

  private async store(
    trx: Kysely<Database>,
    userId: string,
    taskId: string,
    kind: AnnotationKind,
    given: GivenAnswer,
  ): Promise<AnnotationAnswer> {
    const now = this.clock.now();
    const { reward, hourlyCreditCap: cap } = this.settings;
    // Read (and on PostgreSQL locked) first: the earnings cap and the exclusion below build on what
    // this user's previous answer left.
    const rater = await this.q.raterWithHour(trx, userId, now - HOUR_MS);
    if (!rater) throw notFound('Annotation task'); // never handed a task
    const wasExcluded = rater.excluded_at !== null;
    // An excluded rater's answer is kept but earns nothing; past the hourly cap it earns nothing either.
    const earns = !wasExcluded && reward > 0;
    const credits = earns ? pacedCredits(reward, cap, rater.hour_total) : 0;

    const task = await this.q.recordAnswer(trx, {
      taskId,
      userId,
      kind,
      now,
      values: { ...given, credits, excluded: wasExcluded ? 1 : 0 },
    });
    if (!task) throw await this.refusal(trx, userId, taskId, kind, now);

    let gold: { agreed: boolean } | undefined;
    if (task.gold_id !== null) {
      const item = await this.q.goldById(trx, task.gold_id);
      if (item) {
        gold = { agreed: agreesWithGold(item, { first: task.image_a, second: task.image_b }, given) };
        await this.q.markAgreement(trx, task.id, gold.agreed);
      }
    }
    const goldAnswers = rater.gold_answers + (gold ? 1 : 0);
    const goldAgreed = rater.gold_agreed + (gold?.agreed ? 1 : 0);
    // Evaluated on every answer, so a changed threshold takes effect at the rater's next answer.
    const isExcluded = raterStatus(qualityPolicy(this.settings), goldAnswers, goldAgreed) === 'excluded';
    const changed = isExcluded !== wasExcluded;

    await this.q.countAnswer(trx, userId, { kind, gold, credits });
    if (changed) {
      await setExclusion(trx, this.dialect, userId, isExcluded ? now : null);
    } else if (!isExcluded) {
      await addToAggregates(this.aggregates, trx, task, given);
    }
    if (credits > 0) {
      await this.credits.award(trx, {
        userId,
        amount: credits,
        kind: 'annotation',
        reference: { type: 'annotation', id: task.id },
      });
    }

    // After this answer: past the cap now, or excluded by this very answer, the next one earns nothing.
    const earning: EarningState = earningState({
      excluded: isExcluded,
      reward,
      cap,
      earnedLastHour: (earns ? rater.hour_total : 0) + credits,
      oldestAt: (earns ? rater.hour_oldest : undefined) ?? (credits > 0 ? now : undefined),
      now,
    });
    return {
      taskId: task.id,
      kind,
      accepted: true,
      creditsEarned: credits,
      earning,
      answeredAt: toIso(task.answered_at ?? now),
    };
  }

  /** Why the fenced update matched nothing, as the error the caller should see. */
  private async refusal(
    trx: Kysely<Database>,
    userId: string,
    taskId: string,
    kind: AnnotationKind,
    now: number,
  ): Promise<AppError> {
    const task = await findTask(trx, taskId, userId);
    if (!task) return notFound('Annotation task');
    if (task.answered_at !== null) {
      return new AppError(
        'annotation_answered',
        `This task was answered at ${toIso(task.answered_at)}; a task takes one answer. Ask for another with GET /v1/annotations/next.`,
      );
    }
    if (task.kind !== kind) {
      const field = task.kind === 'rating' ? 'rating' : task.kind === 'pairwise' ? 'preference' : 'flags';
      return new AppError(
        'validation_failed',
        `This is a ${task.kind} task: send ${ANSWER_HINT[task.kind]}.`,
        [{ path: `body/${field}`, message: `is required for a ${task.kind} task` }],
      );
    }
    if (task.expires_at <= now) {
      return new AppError(
        'annotation_expired',
        `This task expired at ${toIso(task.expires_at)}. Ask for a new one with GET /v1/annotations/next.`,
      );
    }
    return new AppError('conflict', 'The task changed while answering; try again.');
  }
}

/**
 * Excludes the rater (at `excludedAt`) or lifts their exclusion (null): every answer of theirs leaves
 * (or rejoins) the aggregates, so the images they answered about are recomputed. Runs in the caller's
 * transaction, after the rater's row was locked (PostgreSQL) or inside SQLite's one write transaction.
 */
export async function setExclusion(
  trx: Kysely<Database>,
  dialect: Dialect,
  userId: string,
  excludedAt: number | null,
): Promise<void> {
  await setRaterExcluded(trx, userId, excludedAt);
  await setAnswersExcluded(trx, dialect, userId, excludedAt === null ? 0 : 1);
  // Lock order: the rater's row (the caller's), their answers, then the images (sql/aggregates.ts).
  const images = imagesOfRater(trx, userId);
  await lockImages(trx, dialect, images);
  await recomputeImages(trx, images);
}

function parse(body: AnswerAnnotationBody): { kind: AnnotationKind; given: GivenAnswer } {
  if (body.rating !== undefined)
    return { kind: 'rating', given: { rating: body.rating, choice: null, flags: null } };
  if (body.preference !== undefined) {
    const choice = body.preference === 'first' ? 'a' : body.preference === 'second' ? 'b' : 'tie';
    return { kind: 'pairwise', given: { rating: null, choice, flags: null } };
  }
  if (body.flags !== undefined) {
    return { kind: 'flag', given: { rating: null, choice: null, flags: flagsToMask(body.flags) } };
  }
  // The schema requires exactly one field; this is for callers that bypass it.
  throw new AppError('validation_failed', 'Send one of rating, preference or flags.');
}

async function addToAggregates(
  aggregates: AggregateQueries,
  trx: Kysely<Database>,
  task: AnsweredTask,
  given: GivenAnswer,
): Promise<void> {
  if (task.kind === 'rating' && given.rating !== null)
    await aggregates.addRating(trx, task.image_a, given.rating);
  else if (task.kind === 'pairwise' && given.choice !== null && task.image_b !== null)
    await aggregates.addPreference(trx, { first: task.image_a, second: task.image_b, choice: given.choice });
  else if (task.kind === 'flag' && given.flags !== null)
    await aggregates.addFlags(trx, task.image_a, given.flags);
}
