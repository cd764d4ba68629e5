// The pool of annotatable images (annotation_images): filled from finished jobs. One function per statement.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

export interface FinishedImage {
  id: string;
  generation_id: string;
  user_id: string;
  finished_at: number;
  prompt: string;
}

/**
 * Finished jobs not yet in the pool, oldest first, from `since` on (through the moderation domain's
 * `jobs_done_recent` partial index; the state is a literal so SQLite can use it). The anti-join makes a
 * repeat of the same call return the next batch, and makes re-reading an overlap window cheap.
 */
export async function finishedImagesNotInPool(
  db: Kysely<Database>,
  p: { since: number; limit: number },
): Promise<FinishedImage[]> {
  const rows = await db
    .selectFrom('jobs as j')
    .innerJoin('generations as g', 'g.id', 'j.generation_id')
    .select(['j.id', 'j.generation_id', 'j.user_id', 'j.finished_at', 'g.prompt'])
    .where('j.state', '=', sql.lit('done'))
    .where('j.result_sha256', 'is not', null)
    .where('j.finished_at', '>=', p.since)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('annotation_images as ai').select('ai.image_id').whereRef('ai.image_id', '=', 'j.id'),
        ),
      ),
    )
    .orderBy('j.finished_at')
    .orderBy('j.id')
    .limit(p.limit)
    .execute();
  return rows.map((r) => ({ ...r, finished_at: r.finished_at ?? 0 }));
}

/** Finished jobs by id (gold items name images that may not have reached the pool yet). */
export async function finishedImagesById(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<FinishedImage[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('jobs as j')
    .innerJoin('generations as g', 'g.id', 'j.generation_id')
    .select(['j.id', 'j.generation_id', 'j.user_id', 'j.finished_at', 'g.prompt'])
    .where('j.id', 'in', ids)
    .where('j.state', '=', sql.lit('done'))
    .where('j.result_sha256', 'is not', null)
    .execute();
  return rows.map((r) => ({ ...r, finished_at: r.finished_at ?? 0 }));
}

/** The newest image in the pool: where a restarted coordinator resumes filling it. */
export async function newestPooledAt(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db
    .selectFrom('annotation_images')
    .select((eb) => eb.fn.max('finished_at').as('newest'))
    .executeTakeFirst();
  return row?.newest === null || row?.newest === undefined ? undefined : Number(row.newest);
}

/** Adds images to the pool; ones already there (another replica got them first) are left alone. */
export async function insertPoolImages(
  db: Kysely<Database>,
  rows: readonly {
    image_id: string;
    generation_id: string;
    owner_id: string;
    prompt_key: string;
    finished_at: number;
  }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('annotation_images')
    .values([...rows])
    .onConflict((oc) => oc.column('image_id').doNothing())
    .execute();
}

/** Marks every image whose prompt key is now shared by two or more images as a pairwise candidate. */
export async function markPairable(db: Kysely<Database>, promptKeys: readonly string[]): Promise<void> {
  if (promptKeys.length === 0) return;
  await db
    .updateTable('annotation_images')
    .set({ pairable: 1 })
    .where('pairable', '=', 0)
    .where('prompt_key', 'in', (eb) =>
      eb
        .selectFrom('annotation_images as shared')
        .select('shared.prompt_key')
        .where('shared.prompt_key', 'in', [...promptKeys])
        .groupBy('shared.prompt_key')
        .having((h) => h.fn.countAll(), '>', 1),
    )
    .execute();
}
