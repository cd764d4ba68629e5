// CLIP embeddings in replication (trust/settlement.ts compares them beside the perceptual hash). Written
// once for both dialects (`bytea` is a BLOB on SQLite, as in 0011).
//
// trust_results.embedding: the embedding the result came with, copied when its comparison is opened (a
// canonical result's from image_embeddings under the lease that delivered it; a replica's from its row,
// below). Only embeddings that arrived before the result count, so a verdict never depends on which of
// a result and its embedding reached the coordinator first.
// replicas.embedding: a replica's embedding, sent under its lease before its PNG; embedding_lease_id is
// that lease, so one sent by a worker that lost the replica is never taken for the next worker's.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('trust_results').addColumn('embedding', 'bytea').execute();
  await db.schema.alterTable('trust_results').addColumn('embedding_model', 'text').execute();
  await db.schema.alterTable('replicas').addColumn('embedding', 'bytea').execute();
  await db.schema.alterTable('replicas').addColumn('embedding_model', 'text').execute();
  await db.schema.alterTable('replicas').addColumn('embedding_lease_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['embedding_lease_id', 'embedding_model', 'embedding']) {
    await db.schema.alterTable('replicas').dropColumn(column).execute();
  }
  for (const column of ['embedding_model', 'embedding']) {
    await db.schema.alterTable('trust_results').dropColumn(column).execute();
  }
}
