// Per-image aggregates in annotation_images, updated in the answer's transaction. Only answers that count
// (excluded = 0: their rater is not excluded and their picture was not replaced since) are counted; when a
// rater's exclusion changes, or a picture is replaced (replaced.ts), the images concerned are recomputed
// from the stored answers.
import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SqlBool,
} from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { AnnotationImagesTable, Database } from '../../db/schema.js';
import { FLAG_BITS } from '../flags.js';
import { prepare } from '../../db/prepared.js';

export type ImageStatsRow = Selectable<AnnotationImagesTable>;

/** The per-answer aggregate updates, prepared once per database (prepared.ts). */
export function aggregateQueries(db: Kysely<Database>) {
  const rating = prepare(3, (imageId: string, value: number, square: number) =>
    db
      .updateTable('annotation_images')
      .set((eb) => ({
        rating_count: eb('rating_count', '+', 1),
        rating_sum: eb('rating_sum', '+', value),
        rating_sumsq: eb('rating_sumsq', '+', square),
      }))
      .where('image_id', '=', imageId),
  );
  // One statement for both images of a pair: a win for one and a loss for the other, or a tie for both.
  const preference = prepare(
    5,
    (first: string, second: string, winner: string, decided: number, tie: number) =>
      db
        .updateTable('annotation_images')
        .set((eb) => ({
          pair_wins: sql<number>`pair_wins + case when image_id = ${winner} then 1 else 0 end`,
          pair_losses: sql<number>`pair_losses + case when image_id <> ${winner} then ${decided} else 0 end`,
          pair_ties: eb('pair_ties', '+', tie),
        }))
        .where('image_id', 'in', [first, second]),
  );
  const flags = prepare(
    6,
    (imageId: string, nsfw: number, broken: number, offensive: number, mismatch: number, one: number) =>
      db
        .updateTable('annotation_images')
        .set((eb) => ({
          flag_answers: eb('flag_answers', '+', one),
          flag_nsfw: eb('flag_nsfw', '+', nsfw),
          flag_broken: eb('flag_broken', '+', broken),
          flag_offensive: eb('flag_offensive', '+', offensive),
          flag_mismatch: eb('flag_mismatch', '+', mismatch),
        }))
        .where('image_id', '=', imageId),
  );
  return {
    async addRating(trx: Kysely<Database>, imageId: string, value: number): Promise<void> {
      await rating(trx, imageId, value, value * value);
    },
    async addPreference(
      trx: Kysely<Database>,
      p: { first: string; second: string; choice: 'a' | 'b' | 'tie' },
    ): Promise<void> {
      const winner = p.choice === 'a' ? p.first : p.choice === 'b' ? p.second : '';
      const tie = p.choice === 'tie' ? 1 : 0;
      await preference(trx, p.first, p.second, winner, 1 - tie, tie);
    },
    async addFlags(trx: Kysely<Database>, imageId: string, mask: number): Promise<void> {
      const bit = (b: number) => ((mask & b) !== 0 ? 1 : 0);
      await flags(
        trx,
        imageId,
        bit(FLAG_BITS.nsfw),
        bit(FLAG_BITS.broken),
        bit(FLAG_BITS.offensive),
        bit(FLAG_BITS.does_not_match_prompt),
        1,
      );
    },
  };
}

export type AggregateQueries = ReturnType<typeof aggregateQueries>;

function imagesAnsweredBy(db: Kysely<Database>, userId: string) {
  return db
    .selectFrom('annotation_tasks')
    .select('image_a as image_id')
    .where('user_id', '=', userId)
    .where('answered_at', 'is not', null)
    .union(
      db
        .selectFrom('annotation_tasks')
        .select(sql<string>`image_b`.as('image_id'))
        .where('user_id', '=', userId)
        .where('answered_at', 'is not', null)
        .where('image_b', 'is not', null),
    );
}

/** Which rows of annotation_images a lock or a recompute covers. */
export type ImageFilter = (eb: ExpressionBuilder<Database, 'annotation_images'>) => Expression<SqlBool>;

/** The images a rater answered about (their exclusion changed). */
export const imagesOfRater =
  (db: Kysely<Database>, userId: string): ImageFilter =>
  (eb) =>
    eb('image_id', 'in', imagesAnsweredBy(db, userId));

/**
 * PostgreSQL: locks the rows recomputeImages will rewrite, in id order, before it reads the answers.
 * Its UPDATE then starts after every concurrent answer that already counted on one of these images has
 * committed (READ COMMITTED takes a fresh snapshot per statement), so it cannot overwrite a count with
 * a total that misses that answer; later answers wait and add on top. In id order because two of these
 * (a rater's exclusion, a picture replaced by a re-run) may cover some of the same images.
 */
export async function lockImages(db: Kysely<Database>, dialect: Dialect, images: ImageFilter): Promise<void> {
  if (dialect !== 'postgres') return;
  await db
    .selectFrom('annotation_images')
    .select('image_id')
    .where(images)
    .orderBy('image_id')
    .forUpdate()
    .execute();
}

/** Recomputes these images' aggregates from the stored answers that count (excluded = 0). */
export async function recomputeImages(db: Kysely<Database>, images: ImageFilter): Promise<void> {
  const counted = (kind: 'rating' | 'pairwise' | 'flag') =>
    db
      .selectFrom('annotation_tasks as t')
      .where('t.kind', '=', kind)
      .where('t.answered_at', 'is not', null)
      .where('t.excluded', '=', 0);
  // The row being updated, referenced from the correlated subqueries below.
  const image = sql.ref<string>('annotation_images.image_id');
  const onImage = (kind: 'rating' | 'flag') => counted(kind).where('t.image_a', '=', image);
  const inPair = () =>
    counted('pairwise').where((eb) => eb.or([eb('t.image_a', '=', image), eb('t.image_b', '=', image)]));
  const flagCount = (bit: number) =>
    onImage('flag')
      .select(sql<number>`count(*)`.as('n'))
      .where(sql<boolean>`(t.flags & ${sql.lit(bit)}) <> 0`);
  await db
    .updateTable('annotation_images')
    .set({
      rating_count: onImage('rating').select(sql<number>`count(*)`.as('n')),
      rating_sum: onImage('rating').select(sql<number>`coalesce(sum(t.rating), 0)`.as('n')),
      rating_sumsq: onImage('rating').select(sql<number>`coalesce(sum(t.rating * t.rating), 0)`.as('n')),
      pair_wins: inPair()
        .select(sql<number>`count(*)`.as('n'))
        .where(
          sql<boolean>`((t.choice = 'a' and t.image_a = annotation_images.image_id) or (t.choice = 'b' and t.image_b = annotation_images.image_id))`,
        ),
      pair_losses: inPair()
        .select(sql<number>`count(*)`.as('n'))
        .where(
          sql<boolean>`((t.choice = 'b' and t.image_a = annotation_images.image_id) or (t.choice = 'a' and t.image_b = annotation_images.image_id))`,
        ),
      pair_ties: inPair()
        .select(sql<number>`count(*)`.as('n'))
        .where('t.choice', '=', 'tie'),
      flag_answers: onImage('flag').select(sql<number>`count(*)`.as('n')),
      flag_nsfw: flagCount(FLAG_BITS.nsfw),
      flag_broken: flagCount(FLAG_BITS.broken),
      flag_offensive: flagCount(FLAG_BITS.offensive),
      flag_mismatch: flagCount(FLAG_BITS.does_not_match_prompt),
    })
    .where(images)
    .execute();
}

export async function imageStats(db: Kysely<Database>, imageId: string): Promise<ImageStatsRow | undefined> {
  return db.selectFrom('annotation_images').selectAll().where('image_id', '=', imageId).executeTakeFirst();
}
