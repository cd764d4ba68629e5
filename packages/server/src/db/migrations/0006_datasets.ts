// Dataset releases: one row per release (building → ready | failed), and one settings row holding the
// secret the per-release pseudonym salts derive from and the admin's release schedule. Written once for
// both dialects (text, integer, bigint).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dataset_releases')
    // The release name is also its folder name and URL segment; the primary key makes two coordinators
    // that try to build the same release at once collide here, not on disk.
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('previous', 'text')
    // Where the release folder is (absolute), on the machine that built it.
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Bumped while building; a 'building' row that stops moving belongs to a coordinator that died.
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    // JSON: the manifest's counts, once ready.
    .addColumn('counts', 'text')
    .addColumn('manifest_sha256', 'text')
    .addColumn('error', 'text')
    .addColumn('started_by', 'text')
    .execute();
  await db.schema
    .createIndex('dataset_releases_ready')
    .on('dataset_releases')
    .columns(['state', 'created_at', 'name'])
    .execute();

  await db.schema
    .createTable('dataset_settings')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    // 32 random bytes (hex): salt = HMAC-SHA256(secret, release name). Never leaves the database.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('interval_ms', 'bigint')
    .addColumn('next_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dataset_settings').execute();
  await db.schema.dropTable('dataset_releases').execute();
}
