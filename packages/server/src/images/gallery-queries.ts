// The gallery's SQL. Which images are public is decided by moderation/visibility.ts alone.
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../db/schema.js';
import { isPublicImage, publicImages } from '../moderation/visibility.js';
import { rowsBefore } from '../db/keyset.js';

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Each term must appear in the prompt (case-insensitive). */
function promptContains(terms: readonly string[]) {
  // A substring scan of the candidates; full-text search (tsvector / FTS5 trigram) is the next step
  // when prompts number in the millions (bench/gallery.ts measures the scan).
  return terms.map(
    (term) =>
      sql<SqlBool>`lower(${sql.ref('generations.prompt')}) like ${`%${escapeLike(term.toLowerCase())}%`} escape '\\'`,
  );
}

/** Public images with what a gallery card shows. */
function gallery(db: Kysely<Database>, terms: readonly string[]) {
  let q = publicImages(db)
    .innerJoin('generations', 'generations.id', 'public_job.generation_id')
    .select([
      'public_job.id',
      'public_job.finished_at as finishedAt',
      'generations.prompt',
      'generations.model',
      'generations.width',
      'generations.height',
      'generations.created_at as createdAt',
    ]);
  for (const condition of promptContains(terms)) q = q.where(condition);
  return q;
}

/** (finished_at, id) strictly before the cursor, in newest-first order: the index jobs_done_recent. */
const before = (after: readonly [number, string]) =>
  rowsBefore('public_job.finished_at', 'public_job.id', after);

/** Newest first; walks the partial index jobs_done_recent backwards. */
export async function listRecent(
  db: Kysely<Database>,
  p: { terms: readonly string[]; limit: number; after?: readonly [number, string] },
) {
  let q = gallery(db, p.terms)
    .leftJoin('image_scores', 'image_scores.image_id', 'public_job.id')
    .select('image_scores.aesthetic_score as score');
  if (p.after) q = q.where(before(p.after));
  return q
    .orderBy('public_job.finished_at', 'desc')
    .orderBy('public_job.id', 'desc')
    .limit(p.limit)
    .execute();
}

/**
 * Scored images, best first (ties by id). Driven by the image_scores_score index, so a page reads about a
 * page of rows instead of sorting every image: `cross join` keeps image_scores the outer loop on SQLite
 * (its planner otherwise scans jobs and sorts); PostgreSQL plans it as an ordinary join.
 */
export async function listScored(
  db: Kysely<Database>,
  p: { terms: readonly string[]; limit: number; after?: readonly [number, string] },
) {
  let q = db
    .selectFrom('image_scores')
    .crossJoin('jobs')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .whereRef('jobs.id', '=', 'image_scores.image_id')
    .where(isPublicImage(db, sql.ref('image_scores.image_id')))
    .select([
      'jobs.id',
      'jobs.finished_at as finishedAt',
      'generations.prompt',
      'generations.model',
      'generations.width',
      'generations.height',
      'generations.created_at as createdAt',
      'image_scores.aesthetic_score as score',
    ]);
  for (const condition of promptContains(p.terms)) q = q.where(condition);
  // (score, id) before the cursor: the index image_scores_score.
  if (p.after) q = q.where(rowsBefore('image_scores.aesthetic_score', 'image_scores.image_id', p.after));
  return q
    .orderBy('image_scores.aesthetic_score', 'desc')
    .orderBy('image_scores.image_id', 'desc')
    .limit(p.limit)
    .execute();
}

/** Images without a score (they follow the scored ones), newest first. */
export async function listUnscored(
  db: Kysely<Database>,
  p: { terms: readonly string[]; limit: number; after?: readonly [number, string] },
) {
  let q = gallery(db, p.terms)
    .select(sql<number | null>`null`.as('score'))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('image_scores')
            .select('image_scores.image_id')
            .whereRef('image_scores.image_id', '=', 'public_job.id'),
        ),
      ),
    );
  if (p.after) q = q.where(before(p.after));
  return q
    .orderBy('public_job.finished_at', 'desc')
    .orderBy('public_job.id', 'desc')
    .limit(p.limit)
    .execute();
}
export type GalleryRow = Awaited<ReturnType<typeof listRecent>>[number];

/** The public image with this id, or undefined when there is none (or it is not public). */
export async function findPublicImage(db: Kysely<Database>, id: string) {
  return publicImages(db)
    .select(['public_job.id', 'public_job.user_id as ownerId', 'public_job.result_sha256 as sha256'])
    .where('public_job.id', '=', id)
    .executeTakeFirst();
}

/** A finished image whatever its visibility, with everything its detail page shows. */
export async function findImage(db: Kysely<Database>, id: string) {
  return (
    db
      .selectFrom('jobs')
      .innerJoin('generations', 'generations.id', 'jobs.generation_id')
      .leftJoin('image_scores', 'image_scores.image_id', 'jobs.id')
      .leftJoin('hidden_images', 'hidden_images.image_id', 'jobs.id')
      // Aggregates kept by annotations/ (absent until the image enters the annotation pool).
      .leftJoin('annotation_images', 'annotation_images.image_id', 'jobs.id')
      .select([
        'jobs.id',
        'jobs.user_id as ownerId',
        'jobs.result_sha256 as sha256',
        'jobs.seed',
        'jobs.finished_at as finishedAt',
        'generations.prompt',
        'generations.negative_prompt as negativePrompt',
        'generations.model',
        'generations.width',
        'generations.height',
        'generations.steps',
        'generations.guidance_scale as guidanceScale',
        'generations.sampler',
        'generations.created_at as createdAt',
        'image_scores.aesthetic_score as score',
        'hidden_images.hidden_at as hiddenAt',
        'annotation_images.rating_count as ratingCount',
        'annotation_images.rating_sum as ratingSum',
        'annotation_images.rating_sumsq as ratingSumSq',
        'annotation_images.pair_wins as pairWins',
        'annotation_images.pair_losses as pairLosses',
        'annotation_images.pair_ties as pairTies',
      ])
      .where('jobs.id', '=', id)
      .where('jobs.state', '=', 'done')
      .where('jobs.result_sha256', 'is not', null)
      .executeTakeFirst()
  );
}
export type ImageRow = NonNullable<Awaited<ReturnType<typeof findImage>>>;
