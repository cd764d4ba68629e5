// The gallery's SQL. Which images are public is decided by moderation/visibility.ts alone.
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { ImageSort } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import { publicImages } from '../moderation/visibility.js';

/** recent: [finished_at, id]; aesthetic: [score or null, finished_at, id] — the last row's sort key. */
export type GalleryAfter = readonly [number, string] | readonly [number | null, number, string];

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** One page of public images: each term must appear in the prompt (case-insensitive). */
export async function listPublicImages(
  db: Kysely<Database>,
  p: { terms: string[]; sort: ImageSort; limit: number; after?: GalleryAfter },
) {
  let q = publicImages(db)
    .innerJoin('generations', 'generations.id', 'public_job.generation_id')
    .leftJoin('image_scores', 'image_scores.image_id', 'public_job.id')
    .select([
      'public_job.id',
      'public_job.finished_at as finishedAt',
      'generations.prompt',
      'generations.model',
      'generations.width',
      'generations.height',
      'generations.created_at as createdAt',
      'image_scores.aesthetic_score as score',
    ]);
  for (const term of p.terms) {
    // A substring scan; fine at gallery page sizes. Full-text search (tsvector / FTS5) is the next step
    // when prompts number in the millions.
    const pattern = `%${escapeLike(term.toLowerCase())}%`;
    q = q.where(sql<SqlBool>`lower(${sql.ref('generations.prompt')}) like ${pattern} escape '\\'`);
  }

  const olderThan = (finishedAt: number, id: string) =>
    sql<SqlBool>`(${sql.ref('public_job.finished_at')} < ${finishedAt} or (${sql.ref('public_job.finished_at')} = ${finishedAt} and ${sql.ref('public_job.id')} < ${id}))`;

  if (p.sort === 'recent') {
    if (p.after) {
      const [finishedAt, id] = p.after as readonly [number, string];
      q = q.where(olderThan(finishedAt, id));
    }
    return q
      .orderBy('public_job.finished_at', 'desc')
      .orderBy('public_job.id', 'desc')
      .limit(p.limit)
      .execute();
  }

  if (p.after) {
    const [score, finishedAt, id] = p.after as readonly [number | null, number, string];
    q = q.where((eb) =>
      score === null
        ? eb.and([eb('image_scores.aesthetic_score', 'is', null), olderThan(finishedAt, id)])
        : eb.or([
            eb('image_scores.aesthetic_score', '<', score),
            eb.and([eb('image_scores.aesthetic_score', '=', score), olderThan(finishedAt, id)]),
            eb('image_scores.aesthetic_score', 'is', null),
          ]),
    );
  }
  return q
    .orderBy('image_scores.aesthetic_score', (ob) => ob.desc().nullsLast())
    .orderBy('public_job.finished_at', 'desc')
    .orderBy('public_job.id', 'desc')
    .limit(p.limit)
    .execute();
}
export type GalleryRow = Awaited<ReturnType<typeof listPublicImages>>[number];

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
