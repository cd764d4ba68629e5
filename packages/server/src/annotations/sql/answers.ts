// Answering a task: one function per statement, all run in the answer's transaction.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type {
  AnnotationKindColumn,
  AnnotationRatersTable,
  AnnotationTasksTable,
  Database,
} from '../../db/schema.js';

export type RaterRow = Selectable<AnnotationRatersTable>;
export type TaskRow = Selectable<AnnotationTasksTable>;

/**
 * The rater's row. PostgreSQL locks it until the transaction ends, so one user's concurrent answers run
 * one after the other and each sees the counters and hourly earnings the previous one left (SQLite runs
 * one write transaction at a time already).
 */
export async function lockRater(
  db: Kysely<Database>,
  dialect: Dialect,
  userId: string,
): Promise<RaterRow | undefined> {
  const q = db.selectFrom('annotation_raters').selectAll().where('user_id', '=', userId);
  return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
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
    // Literal, so the partial index annotation_tasks_credited serves it on SQLite too.
    .where('credits', '>', sql.lit(0))
    .where('answered_at', '>', since)
    .executeTakeFirstOrThrow();
  return {
    total: row.total === null ? 0 : Number(row.total),
    oldest: row.oldest === null ? undefined : Number(row.oldest),
  };
}

export interface AnswerValues {
  rating: number | null;
  choice: 'a' | 'b' | 'tie' | null;
  flags: number | null;
  credits: number;
  excluded: 0 | 1;
}

export type AnsweredTask = Pick<TaskRow, 'id' | 'kind' | 'image_a' | 'image_b' | 'gold_id' | 'answered_at'>;

/**
 * Stores the answer, fenced: only the task's holder, only a task of this kind, only once, only before
 * it expires. Undefined when any of that does not hold (findTask tells which).
 */
export async function recordAnswer(
  db: Kysely<Database>,
  p: { taskId: string; userId: string; kind: AnnotationKindColumn; now: number; values: AnswerValues },
): Promise<AnsweredTask | undefined> {
  return db
    .updateTable('annotation_tasks')
    .set({ answered_at: p.now, ...p.values })
    .where('id', '=', p.taskId)
    .where('user_id', '=', p.userId)
    .where('kind', '=', p.kind)
    .where('answered_at', 'is', null)
    .where('expires_at', '>', p.now)
    .returning(['id', 'kind', 'image_a', 'image_b', 'gold_id', 'answered_at'])
    .executeTakeFirst();
}

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

export async function goldById(db: Kysely<Database>, id: string) {
  return db.selectFrom('annotation_gold').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Whether a gold task's answer agreed with the known one (the gold list reports it per item). */
export async function markAgreement(db: Kysely<Database>, taskId: string, agreed: boolean): Promise<void> {
  await db
    .updateTable('annotation_tasks')
    .set({ agreed: agreed ? 1 : 0 })
    .where('id', '=', taskId)
    .execute();
}

export interface RaterChange {
  kind: AnnotationKindColumn;
  gold: { agreed: boolean } | undefined;
  credits: number;
  /** Set when the rater's exclusion changes with this answer: the new value of excluded_at. */
  excludedAt?: number | null;
}

/** Counts one answer on the rater's row (locked by lockRater). */
export async function countAnswer(db: Kysely<Database>, userId: string, c: RaterChange): Promise<void> {
  const column = `${c.kind}_answers` as const;
  await db
    .updateTable('annotation_raters')
    .set((eb) => ({
      [column]: eb(column, '+', 1),
      ...(c.gold
        ? {
            gold_answers: eb('gold_answers', '+', 1),
            gold_agreed: eb('gold_agreed', '+', c.gold.agreed ? 1 : 0),
          }
        : {}),
      ...(c.credits > 0 ? { credits_earned: eb('credits_earned', '+', c.credits) } : {}),
      ...(c.excludedAt !== undefined ? { excluded_at: c.excludedAt } : {}),
    }))
    .where('user_id', '=', userId)
    .execute();
}

/** Marks every answer of the rater in or out of aggregates and releases (their exclusion changed). */
export async function setAnswersExcluded(
  db: Kysely<Database>,
  userId: string,
  excluded: 0 | 1,
): Promise<void> {
  await db
    .updateTable('annotation_tasks')
    .set({ excluded })
    .where('user_id', '=', userId)
    .where('answered_at', 'is not', null)
    .where('excluded', '<>', excluded)
    .execute();
}

export async function findRater(db: Kysely<Database>, userId: string): Promise<RaterRow | undefined> {
  return db.selectFrom('annotation_raters').selectAll().where('user_id', '=', userId).executeTakeFirst();
}
