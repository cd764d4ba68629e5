// SQLite only: the tables that hold at most one row per image, keyed by the image (job) id, become
// WITHOUT ROWID tables, their rows stored in the primary key's B-tree. As ordinary tables each was two
// B-trees, the rows in insertion order and an automatic index on image_id pointing into them, so a
// lookup by image id descended both, and every insert wrote both. Clustered, a lookup descends one,
// and a reader walking images in id order (a dataset release, datasets/source-queries.ts) finds each
// table's rows next to each other instead of on a random page each. Measured with bench/datasets.ts
// (1,000,000 images, random ids), the release's statements read alone: 9.04–9.10 CPU s against 11.00–11.70.
// Their rows are small (ids, flags, scores), which is what WITHOUT ROWID suits (sqlite.org/withoutrowid).
// PostgreSQL has no such layout (a heap and a primary-key index); nothing changes there.
import { SqliteAdapter, type Kysely } from 'kysely';
import { rebuildSqliteTables, withoutRowid, withRowid } from '../sqlite-rebuild.js';

const TABLES = ['image_safety', 'image_scores', 'annotation_images', 'hidden_images'];

const isSqlite = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof SqliteAdapter;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) await rebuildSqliteTables(db, TABLES, withoutRowid);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) await rebuildSqliteTables(db, TABLES, withRowid);
}
