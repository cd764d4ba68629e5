// CLIP image embeddings sent by workers and the aesthetic predictors that score them (scoring/). Written
// once for both dialects: `bytea` is PostgreSQL's binary type, and SQLite stores a Buffer bound to a
// column of that (NUMERIC-affinity) type as a BLOB, unchanged.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One embedding per image (image id = job id): dim float16 values, little-endian, L2-normalised, as a
  // release's img_emb .npy holds them. Written under the worker's lease and valid only while the job's
  // lease_id is that lease: an embedding from a lease that was lost never describes the stored image.
  await db.schema
    .createTable('image_embeddings')
    .addColumn('image_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('lease_id', 'text', (c) => c.notNull())
    .addColumn('dim', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // Embeddings that arrived since the background scorer last looked: it takes them in id order, scores
  // those whose job is done and drops the ones whose lease was lost.
  await db.schema
    .createTable('scoring_queue')
    .addColumn('image_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .execute();

  // Installed predictors; the newest is current. The file itself is in the blob store under
  // predictors/<sha256>.safetensors. sweep_* is the re-scoring pass over every embedding (keyset cursor,
  // so it resumes after a restart and any replica can continue it).
  await db.schema
    .createTable('aesthetic_predictors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('dim', 'integer', (c) => c.notNull())
    .addColumn('embedding_model', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('training', 'text')
    .addColumn('installed_by', 'text')
    .addColumn('installed_at', 'bigint', (c) => c.notNull())
    .addColumn('sweep_after', 'text')
    .addColumn('sweep_visited', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sweep_finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('aesthetic_predictors_installed')
    .on('aesthetic_predictors')
    .columns(['installed_at', 'id'])
    .execute();
  // Counting "scored by the current predictor" for the admin's progress.
  await db.schema.createIndex('image_scores_model').on('image_scores').column('model').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('image_scores_model').execute();
  for (const table of ['aesthetic_predictors', 'scoring_queue', 'image_embeddings']) {
    await db.schema.dropTable(table).execute();
  }
}
