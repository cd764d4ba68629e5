// Answering a task: the statements of the answer's transaction. The ones every answer runs are
// prepared once per database (prepared.ts); each function is one statement (two where noted).
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type {
  AnnotationKindColumn,
  AnnotationRatersTable,
  AnnotationTasksTable,
  Database,
} from '../../db/schema.js';
import { prepare } from '../../db/prepared.js';

export type RaterRow = Selectable<AnnotationRatersTable>;
export type TaskRow = Selectable<AnnotationTasksTable>;
export type AnsweredTask = Pick<TaskRow, 'id' | 'kind' | 'image_a' | 'image_b' | 'gold_id' | 'answered_at'>;

export interface AnswerValues {
  rating: number | null;
  choice: 'a' | 'b' | 'tie' | null;
  flags: number | null;
  credits: number;
  excluded: 0 | 1;
}

export interface RaterChange {
  kind: AnnotationKindColumn;
  gold: { agreed: boolean } | undefined;
  credits: number;
}

/** The rater's row, with what their answers earned since `since` and when the oldest of those was given. */
export type RaterWithHour = RaterRow & { hour_total: number; hour_oldest: number | undefined };

export function answerQueries(db: Kysely<Database>, dialect: Dialect) {
  const earnedSince = (userId: string, since: number) =>
    db
      .selectFrom('annotation_tasks as t')
      .where('t.user_id', '=', userId)
      // Literal, so the partial index annotation_tasks_credited serves it on SQLite too.
      .where('t.credits', '>', sql.lit(0))
      .where('t.answered_at', '>', since);

  const raterAndHour = prepare(2, (userId: string, since: number) =>
    db
      .selectFrom('annotation_raters as r')
      .selectAll('r')
      .select([
        earnedSince(userId, since)
          .select(sql<number>`sum(t.credits)`.as('s'))
          .as('hour_total'),
        earnedSince(userId, since)
          .select(sql<number>`min(t.answered_at)`.as('m'))
          .as('hour_oldest'),
      ])
      .where('r.user_id', '=', userId),
  );
  const lockRater = prepare(1, (userId: string) =>
    db.selectFrom('annotation_raters').selectAll().where('user_id', '=', userId).forUpdate(),
  );
  const hour = prepare(2, (userId: string, since: number) =>
    earnedSince(userId, since).select([
      sql<number>`sum(t.credits)`.as('hour_total'),
      sql<number>`min(t.answered_at)`.as('hour_oldest'),
    ]),
  );
  const record = prepare(
    9,
    (
      taskId: string,
      userId: string,
      kind: AnnotationKindColumn,
      rating: number | null,
      choice: AnswerValues['choice'],
      flags: number | null,
      credits: number,
      excluded: number,
      now: number,
    ) =>
      db
        .updateTable('annotation_tasks')
        .set({ answered_at: now, rating, choice, flags, credits, excluded })
        .where('id', '=', taskId)
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .where('answered_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['id', 'kind', 'image_a', 'image_b', 'gold_id', 'answered_at']),
  );
  const count = prepare(
    7,
    (
      userId: string,
      rating: number,
      pairwise: number,
      flag: number,
      gold: number,
      agreed: number,
      credits: number,
    ) =>
      db
        .updateTable('annotation_raters')
        .set((eb) => ({
          rating_answers: eb('rating_answers', '+', rating),
          pairwise_answers: eb('pairwise_answers', '+', pairwise),
          flag_answers: eb('flag_answers', '+', flag),
          gold_answers: eb('gold_answers', '+', gold),
          gold_agreed: eb('gold_agreed', '+', agreed),
          credits_earned: eb('credits_earned', '+', credits),
        }))
        .where('user_id', '=', userId),
  );
  const gold = prepare(1, (id: string) => db.selectFrom('annotation_gold').selectAll().where('id', '=', id));
  const agreement = prepare(2, (taskId: string, agreed: number) =>
    db.updateTable('annotation_tasks').set({ agreed }).where('id', '=', taskId),
  );

  const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

  return {
    /**
     * The rater's row and their earnings of the last hour. PostgreSQL locks the row first (a second
     * statement then reads the earnings, so that they include a concurrent answer of the same user that
     * committed while this one waited for the lock); SQLite runs one write transaction at a time, so
     * one statement reads both.
     */
    async raterWithHour(
      trx: Kysely<Database>,
      userId: string,
      since: number,
    ): Promise<RaterWithHour | undefined> {
      if (dialect === 'postgres') {
        const [rater] = await lockRater(trx, userId);
        if (!rater) return undefined;
        const [h] = await hour(trx, userId, since);
        return { ...rater, hour_total: num(h?.hour_total) ?? 0, hour_oldest: num(h?.hour_oldest) };
      }
      const [row] = await raterAndHour(trx, userId, since);
      if (!row) return undefined;
      return { ...row, hour_total: num(row.hour_total) ?? 0, hour_oldest: num(row.hour_oldest) };
    },

    /**
     * Stores the answer, fenced: only the task's holder, only a task of this kind, only once, only
     * before it expires. Undefined when any of that does not hold (findTask tells which).
     */
    async recordAnswer(
      trx: Kysely<Database>,
      p: { taskId: string; userId: string; kind: AnnotationKindColumn; now: number; values: AnswerValues },
    ): Promise<AnsweredTask | undefined> {
      const v = p.values;
      const [row] = await record(
        trx,
        p.taskId,
        p.userId,
        p.kind,
        v.rating,
        v.choice,
        v.flags,
        v.credits,
        v.excluded,
        p.now,
      );
      return row;
    },

    /** Counts one answer on the rater's row (locked or, on SQLite, inside the one write transaction). */
    async countAnswer(trx: Kysely<Database>, userId: string, c: RaterChange): Promise<void> {
      const one = (k: AnnotationKindColumn) => (c.kind === k ? 1 : 0);
      await count(
        trx,
        userId,
        one('rating'),
        one('pairwise'),
        one('flag'),
        c.gold ? 1 : 0,
        c.gold?.agreed ? 1 : 0,
        c.credits,
      );
    },

    async goldById(trx: Kysely<Database>, id: string) {
      const [row] = await gold(trx, id);
      return row;
    },

    /** Whether a gold task's answer agreed with the known one (the gold list reports it per item). */
    async markAgreement(trx: Kysely<Database>, taskId: string, agreed: boolean): Promise<void> {
      await agreement(trx, taskId, agreed ? 1 : 0);
    },
  };
}

export type AnswerQueries = ReturnType<typeof answerQueries>;

/** The user's task, to explain why an answer was refused (others' tasks are as good as absent). */
export async function findTask(
  db: Kysely<Database>,
  taskId: string,
  userId: string,
): Promise<TaskRow | undefined> {
  return db
    .selectFrom('annotation_tasks')
    .selectAll()
    .where('id', '=', taskId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export async function findRater(db: Kysely<Database>, userId: string): Promise<RaterRow | undefined> {
  return db.selectFrom('annotation_raters').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Credits the user's answers earned after `since`, and when the oldest of those was given. */
export async function creditsSince(
  db: Kysely<Database>,
  userId: string,
  since: number,
): Promise<{ total: number; oldest: number | undefined }> {
  const row = await db
    .selectFrom('annotation_tasks')
    .select((eb) => [eb.fn.sum<number>('credits').as('total'), eb.fn.min<number>('answered_at').as('oldest')])
    .where('user_id', '=', userId)
    .where('credits', '>', sql.lit(0))
    .where('answered_at', '>', since)
    .executeTakeFirstOrThrow();
  return {
    total: row.total === null ? 0 : Number(row.total),
    oldest: row.oldest === null ? undefined : Number(row.oldest),
  };
}

/** Records when the rater was excluded (or null: reinstated). */
export async function setRaterExcluded(
  db: Kysely<Database>,
  userId: string,
  excludedAt: number | null,
): Promise<void> {
  await db
    .updateTable('annotation_raters')
    .set({ excluded_at: excludedAt })
    .where('user_id', '=', userId)
    .execute();
}

/**
 * Marks every answer of the rater in or out of aggregates and releases (their exclusion changed). Only the
 * marks of an exclusion flip (0 counted, 1 its rater excluded): an answer about a picture that was
 * replaced since (2, sql/replaced.ts) stays out whatever happens to its rater.
 */
export async function setAnswersExcluded(
  db: Kysely<Database>,
  dialect: Dialect,
  userId: string,
  excluded: 0 | 1,
): Promise<void> {
  const from = excluded === 0 ? 1 : 0;
  // PostgreSQL: the rows are locked in id order first, as a replaced picture's are (sql/replaced.ts), so
  // the two never hold some of the same rows each while waiting for the other's.
  if (dialect === 'postgres') {
    await db
      .selectFrom('annotation_tasks')
      .select('id')
      .where('user_id', '=', userId)
      .where('answered_at', 'is not', null)
      .where('excluded', '=', from)
      .orderBy('id')
      .forUpdate()
      .execute();
  }
  await db
    .updateTable('annotation_tasks')
    .set({ excluded })
    .where('user_id', '=', userId)
    .where('answered_at', 'is not', null)
    .where('excluded', '=', from)
    .execute();
}
