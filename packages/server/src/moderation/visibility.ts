// THE rule for "may this image be shown to the public": the gallery, annotation tasks and dataset
// releases all read it from here, so a take-down or a withdrawal reaches all of them at once.
//
// An image (a job; its id is the job id) is public when
//   - it finished (state 'done' with a stored result),
//   - no moderator hid it (no row in hidden_images; the NSFW classifier hides through the same table), and
//   - the safety check has looked at it (image_safety: classified, or 'unchecked' where no classifier runs;
//     not while 'pending' and not when the classifier could not read it — safety/), and
//   - its owner has not withdrawn their images (users.dataset_consent = 'withdrawn'; account deletion with
//     withdrawal sets it too; a deleted account that kept its images stays public under a pseudonym).
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../db/schema.js';

/** image_safety states in which the safety check has looked at an image (see above). */
const CHECKED_SAFETY_STATES = ['classified', 'unchecked'] as const;

/** The rule without the safety check, which the two forms below express each in its own way. */
function finishedAndNotWithdrawn(db: Kysely<Database>) {
  // 'done' is a literal, not a bound parameter: SQLite uses the partial index jobs_done_recent (… where
  // state = 'done') only when it sees the value as the statement is prepared.
  return db
    .selectFrom('jobs as public_job')
    .innerJoin('users as public_owner', 'public_owner.id', 'public_job.user_id')
    .where('public_job.state', '=', sql.lit('done'))
    .where('public_job.result_sha256', 'is not', null)
    .where('public_owner.dataset_consent', '!=', 'withdrawn')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('hidden_images')
            .select('hidden_images.image_id')
            .whereRef('hidden_images.image_id', '=', 'public_job.id'),
        ),
      ),
    );
}

/**
 * Finished, public images: `jobs as public_job` joined to `users as public_owner`, filtered by the rule.
 * Add joins, selects, order and limit as needed, e.g.
 * `publicImages(db).innerJoin('generations', 'generations.id', 'public_job.generation_id').select(…)`.
 * The aliases keep it usable as a correlated subquery inside queries that read `jobs` themselves.
 */
export function publicImages(db: Kysely<Database>) {
  return finishedAndNotWithdrawn(db).where(({ exists, selectFrom }) =>
    exists(
      selectFrom('image_safety')
        .select('image_safety.image_id')
        .whereRef('image_safety.image_id', '=', 'public_job.id')
        .where('image_safety.state', 'in', CHECKED_SAFETY_STATES),
    ),
  );
}

/**
 * The same images as publicImages, with their safety row joined as `public_safety` (one row per image:
 * image_id is its key) for callers that also read it: a bulk read of every public image then looks the
 * row up once instead of twice (the dataset release's image query: ~25 % less SQLite CPU).
 */
export function publicImagesWithSafety(db: Kysely<Database>) {
  return finishedAndNotWithdrawn(db)
    .innerJoin('image_safety as public_safety', 'public_safety.image_id', 'public_job.id')
    .where('public_safety.state', 'in', CHECKED_SAFETY_STATES);
}

/**
 * A where-clause condition: the image whose id is `imageId` (usually a column reference such as
 * `sql.ref('tasks.image_id')` or `eb.ref('tasks.image_id')`) is public. For point checks and for
 * filtering rows of other tables that name an image.
 */
export function isPublicImage(db: Kysely<Database>, imageId: Expression<string>): Expression<SqlBool> {
  // Kysely parenthesises an interpolated query itself; `exists ((…))` would be a syntax error on SQLite.
  return sql<SqlBool>`exists ${publicImages(db).select('public_job.id').where('public_job.id', '=', imageId)}`;
}

/** Whether one image is public now. */
export async function imageIsPublic(db: Kysely<Database>, imageId: string): Promise<boolean> {
  const row = await publicImages(db)
    .select('public_job.id')
    .where('public_job.id', '=', imageId)
    .executeTakeFirst();
  return row !== undefined;
}
