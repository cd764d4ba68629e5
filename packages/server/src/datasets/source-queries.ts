// Every SQL statement that reads what a release may publish, in one file: the joins across domains
// (jobs and generations, moderation's visibility rule, annotations, aesthetic scores, the safety
// classifier, account consent) live here and nowhere else in the datasets domain. Each statement reads
// one page in id order after a keyset cursor, so a release of any size never loads all rows; the page
// statements are compiled here and run by the database handle's arrayRows (rows as arrays, by position).
import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { isPublicImage, publicImagesWithSafety } from '../moderation/visibility.js';
import { PICTURE_REPLACED } from '../annotations/sql/replaced.js';
import type { ColumnKind, PackedColumns } from './sqlite-reader-thread.js';

/**
 * `[alias, column, kind]` in select order: release-source.ts reads the rows as arrays, by position; the
 * kind says how the SQLite reader thread packs the column (sqlite-reader-thread.ts).
 */
type Columns = readonly (readonly [string, string, ColumnKind])[];

/** `{ alias: position }` of a column list. */
function positions<C extends Columns>(columns: C): { readonly [K in C[number][0]]: number } {
  return Object.fromEntries(columns.map(([alias], i) => [alias, i])) as { [K in C[number][0]]: number };
}

const select = (columns: Columns) => columns.map(([alias, column]) => sql.ref(column).as(alias));
const kinds = (columns: Columns): PackedColumns => columns.map(([alias, , kind]) => [alias, kind] as const);

const IMAGE_COLUMNS = [
  ['id', 'public_job.id', 'text'],
  ['sha256', 'public_job.result_sha256', 'text'],
  ['seed', 'public_job.seed', 'number'],
  ['creatorId', 'public_job.user_id', 'text'],
  ['workerId', 'public_job.worker_id', 'nullableText'],
  ['prompt', 'g.prompt', 'text'],
  ['negativePrompt', 'g.negative_prompt', 'text'],
  ['model', 'g.model', 'text'],
  ['sampler', 'g.sampler', 'text'],
  ['steps', 'g.steps', 'number'],
  ['guidanceScale', 'g.guidance_scale', 'number'],
  ['width', 'g.width', 'number'],
  ['height', 'g.height', 'number'],
  ['createdAt', 'g.created_at', 'number'],
  ['aestheticScore', 'score.aesthetic_score', 'number'],
  ['punsafe', 'public_safety.nsfw_score', 'number'],
  ['flagAnswers', 'ann.flag_answers', 'number'],
  ['flagNsfw', 'ann.flag_nsfw', 'number'],
  ['flagBroken', 'ann.flag_broken', 'number'],
  ['flagOffensive', 'ann.flag_offensive', 'number'],
  ['flagMismatch', 'ann.flag_mismatch', 'number'],
] as const;
export const IMAGE_COLUMN = positions(IMAGE_COLUMNS);
export const IMAGE_KINDS = kinds(IMAGE_COLUMNS);

/** A page of published images with everything a release row needs, in id order after `after`. */
export function publishedImagesPage(db: Kysely<Database>, after: string | null, limit: number) {
  // publicImages is moderation's rule (finished, not hidden, owner has not withdrawn): the gallery,
  // annotation tasks and releases all read it, so a take-down reaches all of them at once. This form of
  // it joins the safety row the rule checks, which also holds punsafe.
  let q = publicImagesWithSafety(db)
    .innerJoin('generations as g', 'g.id', 'public_job.generation_id')
    .leftJoin('image_scores as score', 'score.image_id', 'public_job.id')
    .leftJoin('annotation_images as ann', 'ann.image_id', 'public_job.id')
    .select(select(IMAGE_COLUMNS))
    .orderBy('public_job.id')
    .limit(limit);
  if (after !== null) q = q.where('public_job.id', '>', after);
  return q.compile();
}

const RATING_COLUMNS = [
  ['id', 't.id', 'text'],
  ['imageId', 't.image_a', 'text'],
  ['raterId', 't.user_id', 'text'],
  ['rating', 't.rating', 'number'],
] as const;
export const RATING_COLUMN = positions(RATING_COLUMNS);
export const RATING_KINDS = kinds(RATING_COLUMNS);

/**
 * A page of ratings that may be published: answered, not excluded by quality control (the task's
 * `excluded` mark and the rater's current status), by raters who did not withdraw.
 */
export function publishableRatingsPage(db: Kysely<Database>, after: string | null, limit: number) {
  let q = db
    .selectFrom('annotation_tasks as t')
    .innerJoin('users as rater', 'rater.id', 't.user_id')
    .leftJoin('annotation_raters as r', 'r.user_id', 't.user_id')
    .select(select(RATING_COLUMNS))
    .where('t.kind', '=', 'rating')
    .where('t.answered_at', 'is not', null)
    .where('t.rating', 'is not', null)
    .where('t.excluded', '=', 0)
    .where('r.excluded_at', 'is', null)
    .where('rater.dataset_consent', '!=', 'withdrawn')
    .orderBy('t.id')
    .limit(limit);
  if (after !== null) q = q.where('t.id', '>', after);
  return q.compile();
}

const PREFERENCE_COLUMNS = [
  ['id', 't.id', 'text'],
  ['imageA', 't.image_a', 'text'],
  ['imageB', 't.image_b', 'text'],
  ['choice', 't.choice', 'text'],
  ['raterId', 't.user_id', 'text'],
  ['prompt', 'ga.prompt', 'text'],
] as const;
export const PREFERENCE_COLUMN = positions(PREFERENCE_COLUMNS);
export const PREFERENCE_KINDS = kinds(PREFERENCE_COLUMNS);

/**
 * Pairwise answers under the same rules, between two public images (the library would leave out a pair
 * with a non-public image anyway, but then has to correct the other image's pairwise counts), with the
 * prompt of the first image (both share it).
 */
export function publishablePreferencesPage(db: Kysely<Database>, after: string | null, limit: number) {
  let q = db
    .selectFrom('annotation_tasks as t')
    .innerJoin('users as rater', 'rater.id', 't.user_id')
    .leftJoin('annotation_raters as r', 'r.user_id', 't.user_id')
    .innerJoin('jobs as ja', 'ja.id', 't.image_a')
    .innerJoin('generations as ga', 'ga.id', 'ja.generation_id')
    .select(select(PREFERENCE_COLUMNS))
    .where('t.kind', '=', 'pairwise')
    .where(isPublicImage(db, sql.ref('t.image_a')))
    .where(isPublicImage(db, sql.ref('t.image_b')))
    .where('t.answered_at', 'is not', null)
    .where('t.choice', 'is not', null)
    .where('t.image_b', 'is not', null)
    .where('t.excluded', '=', 0)
    .where('r.excluded_at', 'is', null)
    .where('rater.dataset_consent', '!=', 'withdrawn')
    .orderBy('t.id')
    .limit(limit);
  if (after !== null) q = q.where('t.id', '>', after);
  return q.compile();
}

/**
 * Every finished job, read as one pass over the table. Nearly every job ends done, so SQLite's choice of
 * the partial index jobs_done_recent (… where state = 'done') visits the table once per job in the index's
 * order, which with random ids is a page of its own each time: 1.9–2.0 s against 0.54 s for a scan of the
 * table on a 1,000,000-image database with random-order ids. `state || ''` keeps the condition while no
 * index can serve it (SQLite and PostgreSQL alike).
 */
const finished = (db: Kysely<Database>) =>
  db
    .selectFrom('jobs as j')
    .where(sql`${sql.ref('j.state')} || ''`, '=', 'done')
    .where('j.result_sha256', 'is not', null);

export interface ExclusionTallies {
  finishedImages: number;
  publicImages: number;
  hiddenByClassifier: number;
  hiddenByModerators: number;
  ownerWithdrew: number;
  ownerDeletedWithWithdrawal: number;
  annotationsOfExcludedRaters: number;
  /** Answers about a picture verification withdrew, whose job was re-run (annotations/sql/replaced.ts). */
  annotationsOfReplacedImages: number;
  annotationsOfWithdrawnRaters: number;
}

/** `sum(case when … then 1 else 0 end)`, 0 over no rows: a count of the rows where `condition` holds. */
const countWhere = (condition: RawBuilder<unknown>) =>
  sql<number>`coalesce(sum(case when ${condition} then 1 else 0 end), 0)`;

/**
 * The statements that count what a release leaves out and why (for the dataset card), compiled: the
 * release runs them in the same snapshot as its rows (sqlite-reader-thread.ts) or here. Two statements,
 * one pass each: over the finished images (how many, hidden by the classifier or by moderators, withdrawn
 * by their owner, deleted with the withdrawal) and over the answered annotations (about a replaced
 * picture, excluded by quality control, by raters who withdrew). As one statement per figure they scanned
 * the finished jobs four times (1,000,000 images: 2.9 of the counts' 3.7 s, before the first page could
 * be read). tallyFrom reads the answers. The public images are not counted here: in the same snapshot
 * they are exactly the rows the release reads, which it counts as they pass.
 */
export function exclusionTallyQueries(db: Kysely<Database>): CompiledQuery[] {
  const withdrawn = sql`h.image_id is null and u.dataset_consent = 'withdrawn'`;
  const images = finished(db)
    .leftJoin('hidden_images as h', 'h.image_id', 'j.id')
    .leftJoin('users as u', 'u.id', 'j.user_id')
    .select([
      sql<number>`count(*)`.as('finished'),
      // The safety row is looked up for the hidden images only: CASE tries its conditions in order.
      sql<number>`coalesce(sum(case when h.image_id is null then 0
        when exists (select 1 from image_safety s where s.image_id = j.id and s.hid = 1) then 1
        else 0 end), 0)`.as('hidden_by_classifier'),
      countWhere(sql`h.image_id is not null`).as('hidden'),
      countWhere(sql`${withdrawn} and u.deleted_at is null`).as('withdrawn'),
      countWhere(sql`${withdrawn} and u.deleted_at is not null`).as('withdrawn_deleted'),
    ]);
  const annotations = db
    .selectFrom('annotation_tasks as t')
    .innerJoin('users as rater', 'rater.id', 't.user_id')
    .leftJoin('annotation_raters as r', 'r.user_id', 't.user_id')
    .where('t.kind', 'in', ['rating', 'pairwise'])
    .where('t.answered_at', 'is not', null)
    .select([
      countWhere(sql`t.excluded = ${PICTURE_REPLACED}`).as('replaced'),
      countWhere(
        sql`t.excluded != ${PICTURE_REPLACED} and (t.excluded != 0 or r.excluded_at is not null)`,
      ).as('excluded'),
      countWhere(sql`t.excluded = 0 and r.excluded_at is null and rater.dataset_consent = 'withdrawn'`).as(
        'withdrawn_raters',
      ),
    ]);
  return [images.compile(), annotations.compile()];
}

/** The tallies from the answers of exclusionTallyQueries (rows as arrays, in order) and the public images. */
export function tallyFrom(answers: readonly unknown[][][], publicImages: number): ExclusionTallies {
  const [images, annotations] = answers;
  const [finishedImages, hiddenByClassifier, hidden, withdrawn, withdrawnDeleted] = (images?.[0] ?? []).map(
    Number,
  );
  const [replaced, excluded, withdrawnRaters] = (annotations?.[0] ?? []).map(Number);
  const n = (v: number | undefined) => v ?? 0;
  return {
    finishedImages: n(finishedImages),
    publicImages,
    hiddenByClassifier: n(hiddenByClassifier),
    hiddenByModerators: n(hidden) - n(hiddenByClassifier),
    ownerWithdrew: n(withdrawn),
    ownerDeletedWithWithdrawal: n(withdrawnDeleted),
    annotationsOfExcludedRaters: n(excluded),
    annotationsOfReplacedImages: n(replaced),
    annotationsOfWithdrawnRaters: n(withdrawnRaters),
  };
}
