// SQLite only: `jobs` becomes a WITHOUT ROWID table, its rows stored in the primary key's B-tree, as the
// per-image tables did in 0014. Every statement that names a job by id (claim, heartbeat, completion, the
// lease fence) then descends one B-tree instead of the automatic index and then the table, and reading
// jobs in id order (a dataset release, the per-image joins) walks the table instead of visiting a random
// page per job. The price is in the secondary indexes, which hold the 32-character id instead of a rowid.
// Measured before choosing it: see the README's datasets and queue sections (session 9).
import { SqliteAdapter, type Kysely } from 'kysely';
import { rebuildSqliteTables, withoutRowid, withRowid } from '../sqlite-rebuild.js';

const isSqlite = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof SqliteAdapter;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) await rebuildSqliteTables(db, ['jobs'], withoutRowid);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) await rebuildSqliteTables(db, ['jobs'], withRowid);
}
