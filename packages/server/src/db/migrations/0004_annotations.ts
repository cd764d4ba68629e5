// Annotation tasks, gold items, rater quality and per-image aggregates. Written once for both dialects
// (text, integer, bigint only; partial indexes both understand).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The pool of annotatable images, filled from finished jobs (annotations/pool.ts), and each image's
  // aggregates. Ratings are whole numbers, so count/sum/sum of squares are exact integers: the mean and
  // standard deviation derive from them without rounding drift, and an excluded rater's ratings can be
  // taken out exactly (Welford's running mean is for floats and does not subtract cleanly).
  await db.schema
    .createTable('annotation_images')
    .addColumn('image_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    // SHA-256 (hex, truncated) of the normalised prompt: pairwise tasks pair images sharing it.
    .addColumn('prompt_key', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    // 1 once another image shares the prompt key, so pairwise anchors come from a small index.
    .addColumn('pairable', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_sum', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_sumsq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('pair_wins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pair_losses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pair_ties', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_answers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_nsfw', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_broken', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_offensive', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_mismatch', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('annotation_images_prompt')
    .on('annotation_images')
    .columns(['prompt_key', 'image_id'])
    .execute();
  await db.schema
    .createIndex('annotation_images_pairable')
    .on('annotation_images')
    .column('image_id')
    .where(sql.ref('pairable'), '=', 1)
    .execute();
  await db.schema
    .createIndex('annotation_images_finished')
    .on('annotation_images')
    .column('finished_at')
    .execute();

  // Images (or pairs) with a known answer, set by moderators; mixed into tasks unannounced.
  await db.schema
    .createTable('annotation_gold')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    // Pairs are stored in canonical order (image_a < image_b); `preferred` is 'a', 'b' or 'tie'.
    .addColumn('image_a', 'text', (c) =>
      c.notNull().references('annotation_images.image_id').onDelete('cascade'),
    )
    .addColumn('image_b', 'text', (c) => c.references('annotation_images.image_id').onDelete('cascade'))
    .addColumn('pair_key', 'text', (c) => c.notNull())
    .addColumn('rating_min', 'integer')
    .addColumn('rating_max', 'integer')
    .addColumn('preferred', 'text')
    // Bit masks over the flags (annotations/flags.ts): these must be set, these must not be.
    .addColumn('flags_set', 'integer')
    .addColumn('flags_clear', 'integer')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('retired_by', 'text')
    .execute();
  // One live gold item per image (or pair) and kind; a retired one can be replaced.
  await db.schema
    .createIndex('annotation_gold_live')
    .on('annotation_gold')
    .columns(['kind', 'pair_key'])
    .unique()
    .where(sql.ref('retired_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('annotation_gold_created')
    .on('annotation_gold')
    .columns(['created_at', 'id'])
    .execute();

  // One row per rater: counters, the agreement inputs, and when they were excluded.
  await db.schema
    .createTable('annotation_raters')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('rating_answers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pairwise_answers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('flag_answers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('gold_answers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('gold_agreed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('credits_earned', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('excluded_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // A task handed to one user, and (once answered) the answer. A row is never deleted: it is what
  // keeps a user from being handed the same image or pair twice, and the answers feed the releases.
  await db.schema
    .createTable('annotation_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    // As presented: image_a is "first", image_b "second" (pairwise only).
    .addColumn('image_a', 'text', (c) =>
      c.notNull().references('annotation_images.image_id').onDelete('cascade'),
    )
    .addColumn('image_b', 'text', (c) => c.references('annotation_images.image_id').onDelete('cascade'))
    // The image id, or "<smaller id>:<larger id>" for a pair, whichever order it was shown in.
    .addColumn('pair_key', 'text', (c) => c.notNull())
    .addColumn('gold_id', 'text', (c) => c.references('annotation_gold.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('answered_at', 'bigint')
    .addColumn('rating', 'integer')
    // 'a', 'b' or 'tie' (pairwise).
    .addColumn('choice', 'text')
    // Bit mask over the flags (flag tasks; 0 = nothing wrong).
    .addColumn('flags', 'integer')
    .addColumn('credits', 'integer', (c) => c.notNull().defaultTo(0))
    // Gold tasks only: 1 when the answer agreed with the known one, 0 when not.
    .addColumn('agreed', 'integer')
    // 1 while the rater is excluded: the answer stays, but out of aggregates and releases.
    .addColumn('excluded', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('annotation_tasks_once')
    .on('annotation_tasks')
    .columns(['user_id', 'kind', 'pair_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('annotation_tasks_open')
    .on('annotation_tasks')
    .columns(['user_id', 'expires_at'])
    .where(sql.ref('answered_at'), 'is', null)
    .execute();
  // The hourly earnings cap sums at most a cap's worth of rows through this index.
  await db.schema
    .createIndex('annotation_tasks_credited')
    .on('annotation_tasks')
    .columns(['user_id', 'answered_at', 'credits'])
    .where(sql.ref('credits'), '>', 0)
    .execute();
  // Recomputing an image's aggregates reads its answers through these.
  await db.schema
    .createIndex('annotation_tasks_image_a')
    .on('annotation_tasks')
    .columns(['image_a', 'kind'])
    .execute();
  await db.schema
    .createIndex('annotation_tasks_image_b')
    .on('annotation_tasks')
    .column('image_b')
    .where(sql.ref('image_b'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('annotation_tasks_gold')
    .on('annotation_tasks')
    .column('gold_id')
    .where(sql.ref('gold_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['annotation_tasks', 'annotation_raters', 'annotation_gold', 'annotation_images']) {
    await db.schema.dropTable(table).execute();
  }
}
