// A user's generations list (GET /v1/generations, jobs/sql/read-generations.ts) pages newest first by the
// row value (created_at, id) after the cursor (db/keyset.ts). The index it had, (user_id, created_at),
// bounded the scan by created_at only: both databases then sorted each page by id within a timestamp
// (SQLite: a temporary B-tree for the ORDER BY's last term; PostgreSQL: an incremental sort, the cursor's
// id a filter). With id as the index's last column the range starts exactly at the cursor and the rows
// come out in the page's order (EXPLAIN on both, 20,000 generations of one user: no sort step; a page
// deep in the list 0.125 ms against 0.148 on SQLite, 0.614 against 0.717 on PostgreSQL, one run each).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('generations_user_created_id')
    .on('generations')
    .columns(['user_id', 'created_at', 'id'])
    .execute();
  // Every query the old index served (by user, by user and time) this one serves as well.
  await db.schema.dropIndex('generations_user_created').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('generations_user_created')
    .on('generations')
    .columns(['user_id', 'created_at'])
    .execute();
  await db.schema.dropIndex('generations_user_created_id').execute();
}
