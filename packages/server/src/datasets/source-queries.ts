// Every SQL statement that reads what a release may publish, in one file: the joins across domains
// (jobs and generations, moderation's visibility rule, annotations, aesthetic scores, the safety
// classifier, account consent) live here and nowhere else in the datasets domain. Each statement reads
// one page in id order after a keyset cursor, so a release of any size never loads all rows.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isPublicImage, publicImages } from '../moderation/visibility.js';

/** A page of published images with everything a release row needs, in id order after `after`. */
export async function publishedImagesPage(db: Kysely<Database>, after: string | null, limit: number) {
  // publicImages is moderation's rule (finished, not hidden, owner has not withdrawn): the gallery,
  // annotation tasks and releases all read it, so a take-down reaches all of them at once.
  let q = publicImages(db)
    .innerJoin('generations as g', 'g.id', 'public_job.generation_id')
    .leftJoin('image_scores as score', 'score.image_id', 'public_job.id')
    .leftJoin('image_safety as safety', 'safety.image_id', 'public_job.id')
    .leftJoin('annotation_images as ann', 'ann.image_id', 'public_job.id')
    .select([
      'public_job.id as id',
      'public_job.result_sha256 as sha256',
      'public_job.seed as seed',
      'public_job.user_id as creatorId',
      'public_job.worker_id as workerId',
      'g.prompt as prompt',
      'g.negative_prompt as negativePrompt',
      'g.model as model',
      'g.sampler as sampler',
      'g.steps as steps',
      'g.guidance_scale as guidanceScale',
      'g.width as width',
      'g.height as height',
      'g.created_at as createdAt',
      'score.aesthetic_score as aestheticScore',
      'safety.nsfw_score as punsafe',
      'ann.flag_answers as flagAnswers',
      'ann.flag_nsfw as flagNsfw',
      'ann.flag_broken as flagBroken',
      'ann.flag_offensive as flagOffensive',
      'ann.flag_mismatch as flagMismatch',
    ])
    .orderBy('public_job.id')
    .limit(limit);
  if (after !== null) q = q.where('public_job.id', '>', after);
  return q.execute();
}

/**
 * A page of ratings that may be published: answered, not excluded by quality control (the task's
 * `excluded` mark and the rater's current status), by raters who did not withdraw.
 */
export async function publishableRatingsPage(db: Kysely<Database>, after: string | null, limit: number) {
  let q = db
    .selectFrom('annotation_tasks as t')
    .innerJoin('users as rater', 'rater.id', 't.user_id')
    .leftJoin('annotation_raters as r', 'r.user_id', 't.user_id')
    .select(['t.id as id', 't.image_a as imageId', 't.user_id as raterId', 't.rating as rating'])
    .where('t.kind', '=', 'rating')
    .where('t.answered_at', 'is not', null)
    .where('t.rating', 'is not', null)
    .where('t.excluded', '=', 0)
    .where('r.excluded_at', 'is', null)
    .where('rater.dataset_consent', '!=', 'withdrawn')
    .orderBy('t.id')
    .limit(limit);
  if (after !== null) q = q.where('t.id', '>', after);
  return q.execute();
}

/**
 * Pairwise answers under the same rules, between two public images (the library would leave out a pair
 * with a non-public image anyway, but then has to correct the other image's pairwise counts), with the
 * prompt of the first image (both share it).
 */
export async function publishablePreferencesPage(db: Kysely<Database>, after: string | null, limit: number) {
  let q = db
    .selectFrom('annotation_tasks as t')
    .innerJoin('users as rater', 'rater.id', 't.user_id')
    .leftJoin('annotation_raters as r', 'r.user_id', 't.user_id')
    .innerJoin('jobs as ja', 'ja.id', 't.image_a')
    .innerJoin('generations as ga', 'ga.id', 'ja.generation_id')
    .select([
      't.id as id',
      't.image_a as imageA',
      't.image_b as imageB',
      't.choice as choice',
      't.user_id as raterId',
      'ga.prompt as prompt',
    ])
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
  return q.execute();
}

const finished = (db: Kysely<Database>) =>
  db.selectFrom('jobs as j').where('j.state', '=', 'done').where('j.result_sha256', 'is not', null);

const hidden = sql<boolean>`exists (select 1 from hidden_images h where h.image_id = j.id)`;

export interface ExclusionTallies {
  finishedImages: number;
  publicImages: number;
  hiddenByClassifier: number;
  hiddenByModerators: number;
  ownerWithdrew: number;
  ownerDeletedWithWithdrawal: number;
  annotationsOfExcludedRaters: number;
  annotationsOfWithdrawnRaters: number;
}

/** Counts of what a release leaves out and why (for the dataset card); one statement per count. */
export async function exclusionTallies(db: Kysely<Database>): Promise<ExclusionTallies> {
  const n = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? 0);
  const count = sql<number>`count(*)`.as('n');
  const finishedImages = n(await finished(db).select(count).executeTakeFirst());
  const publicCount = n(await publicImages(db).select(count).executeTakeFirst());
  const hiddenByClassifier = n(
    await finished(db)
      .innerJoin('hidden_images as h', 'h.image_id', 'j.id')
      .innerJoin('image_safety as s', 's.image_id', 'j.id')
      .where('s.hid', '=', 1)
      .select(count)
      .executeTakeFirst(),
  );
  const hiddenAll = n(
    await finished(db).innerJoin('hidden_images as h', 'h.image_id', 'j.id').select(count).executeTakeFirst(),
  );
  const withdrawn = await finished(db)
    .innerJoin('users as u', 'u.id', 'j.user_id')
    .where('u.dataset_consent', '=', 'withdrawn')
    .where(sql<boolean>`not ${hidden}`)
    .select([sql<number>`case when u.deleted_at is null then 0 else 1 end`.as('deleted'), count])
    .groupBy(sql`case when u.deleted_at is null then 0 else 1 end`)
    .execute();
  const answered = db
    .selectFrom('annotation_tasks as t')
    .innerJoin('users as rater', 'rater.id', 't.user_id')
    .leftJoin('annotation_raters as r', 'r.user_id', 't.user_id')
    .where('t.kind', 'in', ['rating', 'pairwise'])
    .where('t.answered_at', 'is not', null);
  const excludedRaters = n(
    await answered
      .where((eb) => eb.or([eb('t.excluded', '!=', 0), eb('r.excluded_at', 'is not', null)]))
      .select(count)
      .executeTakeFirst(),
  );
  const withdrawnRaters = n(
    await answered
      .where('t.excluded', '=', 0)
      .where('r.excluded_at', 'is', null)
      .where('rater.dataset_consent', '=', 'withdrawn')
      .select(count)
      .executeTakeFirst(),
  );
  return {
    finishedImages,
    publicImages: publicCount,
    hiddenByClassifier,
    hiddenByModerators: hiddenAll - hiddenByClassifier,
    ownerWithdrew: n(withdrawn.find((r) => Number(r.deleted) === 0)),
    ownerDeletedWithWithdrawal: n(withdrawn.find((r) => Number(r.deleted) === 1)),
    annotationsOfExcludedRaters: excludedRaters,
    annotationsOfWithdrawnRaters: withdrawnRaters,
  };
}
