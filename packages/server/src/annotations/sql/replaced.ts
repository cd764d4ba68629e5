// Answers about a picture that was replaced. A job whose result was withdrawn or overturned is queued again
// (trust/reruns.ts) and its new picture takes the same image id; what raters said about the old picture
// says nothing about the new one. So their answered tasks leave aggregates and releases for good
// (excluded = 2, which a rater's exclusion or reinstatement never flips back, sql/answers.ts), tasks still
// open about it expire, and the image and every image it was compared with are recomputed.
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Dialect } from '../../db/connect.js';
import { lockImages, recomputeImages, type ImageFilter } from './aggregates.js';

/** `excluded` of an answer about a picture that was replaced: out of aggregates and releases for good. */
export const PICTURE_REPLACED = 2;

/**
 * Runs in the transaction that queued the jobs again. Lock order: these tasks (PostgreSQL, in id order),
 * then the images (lockImages, in id order) — the order an answer takes (its task, then its images) and a
 * rater's exclusion takes (their tasks, then their images).
 */
export async function picturesReplaced(
  db: Kysely<Database>,
  dialect: Dialect,
  p: { imageIds: readonly string[]; now: number },
): Promise<void> {
  if (p.imageIds.length === 0) return;
  const ids = p.imageIds;
  const aboutThem = (eb: ExpressionBuilder<Database, 'annotation_tasks'>) =>
    eb.or([eb('image_a', 'in', ids), eb('image_b', 'in', ids)]);
  // Waits for answers in flight about these pictures; the statements below then see them answered.
  if (dialect === 'postgres') {
    await db.selectFrom('annotation_tasks').select('id').where(aboutThem).orderBy('id').forUpdate().execute();
  }
  await db
    .updateTable('annotation_tasks')
    .set({ excluded: PICTURE_REPLACED })
    .where(aboutThem)
    .where('answered_at', 'is not', null)
    .where('excluded', '<>', PICTURE_REPLACED)
    .execute();
  // A rater shown the old picture cannot answer about it any more (annotation_expired; they get a new task).
  await db
    .updateTable('annotation_tasks')
    .set({ expires_at: p.now })
    .where(aboutThem)
    .where('answered_at', 'is', null)
    .where('expires_at', '>', p.now)
    .execute();
  // The pictures themselves and those they were compared with: a pair's win or loss counts on both.
  const partners = db
    .selectFrom('annotation_tasks')
    .select(sql<string>`image_b`.as('image_id'))
    .where('image_a', 'in', ids)
    .where('image_b', 'is not', null)
    .union(db.selectFrom('annotation_tasks').select('image_a as image_id').where('image_b', 'in', ids));
  const images: ImageFilter = (eb) => eb.or([eb('image_id', 'in', ids), eb('image_id', 'in', partners)]);
  await lockImages(db, dialect, images);
  await recomputeImages(db, images);
}
