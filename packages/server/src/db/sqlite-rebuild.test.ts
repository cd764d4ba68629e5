// Migration 0014 rebuilds the per-image tables of an existing SQLite database as WITHOUT ROWID tables
// (db/sqlite-rebuild.ts): every row and index kept, the annotation tasks that reference one of them left
// alone (a DROP TABLE with foreign keys on would have deleted them), and back again with `down`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import { rebuildSqliteTables, withoutRowid } from './sqlite-rebuild.js';
import { tempDir } from '../test-support/databases.js';

const TABLES = ['image_safety', 'image_scores', 'annotation_images', 'hidden_images'];

/** Two finished images with a row in each per-image table, and answers that reference them. */
const FILL = `
  insert into users (id, email, role, created_at) values ('u1', 'u1@example.org', 'user', 0);
  insert into generations (id, user_id, prompt, negative_prompt, model, width, height, steps, guidance_scale,
    sampler, seed, n, created_at) values ('g1', 'u1', 'a lighthouse', '', 'm', 64, 64, 1, 7.5, 'euler', 1, 2, 0);
  insert into jobs (id, generation_id, idx, user_id, model, pixels, seed, priority, state, attempts, max_attempts,
    step, total_steps, created_at) values
    ('j1', 'g1', 0, 'u1', 'm', 4096, 1, 0, 'done', 1, 3, 1, 1, 0),
    ('j2', 'g1', 1, 'u1', 'm', 4096, 2, 0, 'done', 1, 3, 1, 1, 0);
  insert into image_safety (image_id, state, nsfw_score, hid, created_at) values
    ('j1', 'classified', 0.25, 0, 5), ('j2', 'pending', null, 0, 6);
  insert into image_scores (image_id, aesthetic_score, model, scored_at) values ('j2', 6.5, 'p1', 7);
  insert into hidden_images (image_id, reason, hidden_at) values ('j1', 'moderator', 8);
  insert into annotation_images (image_id, generation_id, owner_id, prompt_key, finished_at, rating_count,
    rating_sum) values ('j1', 'g1', 'u1', 'k', 9, 2, 13), ('j2', 'g1', 'u1', 'k', 10, 0, 0);
  insert into annotation_tasks (id, user_id, kind, image_a, image_b, pair_key, created_at, expires_at)
    values ('t1', 'u1', 'pairwise', 'j1', 'j2', 'j1:j2', 0, 0);`;

/** Each table's rows (ordered), the names of its indexes, and whether it is a WITHOUT ROWID table. */
function snapshot(file: string) {
  const raw = new SQLite(file, { readonly: true });
  try {
    const of = (table: string) => ({
      rows: raw.prepare(`select * from "${table}" order by 1`).all(),
      indexes: raw
        .prepare(
          `select name from sqlite_master where type = 'index' and tbl_name = ? and sql is not null order by 1`,
        )
        .pluck()
        .all(table),
      withoutRowid: /without rowid\s*$/i.test(
        raw
          .prepare(`select sql from sqlite_master where type = 'table' and name = ?`)
          .pluck()
          .get(table) as string,
      ),
    });
    return {
      tables: Object.fromEntries([...TABLES, 'annotation_tasks'].map((t) => [t, of(t)])),
      foreignKeyProblems: raw.prepare('pragma foreign_key_check').all(),
    };
  } finally {
    raw.close();
  }
}

test('migration 0014 clusters the per-image tables by image id, keeping rows, indexes and references', async () => {
  const file = join(tempDir(), 'old.db');
  const connection = new SQLite(file);
  connection.pragma('foreign_keys = ON');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: connection }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  try {
    const to13 = await migrator.migrateTo('0013_trust_embeddings');
    assert.equal(to13.error, undefined);
    connection.exec(FILL);
    const before = snapshot(file);
    for (const t of TABLES) assert.equal(before.tables[t]!.withoutRowid, false, t);

    // To 0014 itself, not the latest: later migrations must not change what this test checks.
    const to14 = await migrator.migrateTo('0014_clustered_image_rows');
    assert.equal(to14.error, undefined);
    assert.deepEqual(
      to14.results?.map((r) => [r.migrationName, r.status]),
      [['0014_clustered_image_rows', 'Success']],
    );
    const after = snapshot(file);
    for (const t of TABLES) {
      assert.equal(after.tables[t]!.withoutRowid, true, t);
      assert.deepEqual(after.tables[t]!.rows, before.tables[t]!.rows, `${t}: the same rows`);
      assert.deepEqual(after.tables[t]!.indexes, before.tables[t]!.indexes, `${t}: the same indexes`);
    }
    assert.equal(
      after.tables.annotation_tasks!.rows.length,
      1,
      'the answer that references both images stays',
    );
    assert.deepEqual(after.foreignKeyProblems, []);
    // The migration's own connection has foreign keys enforced again: deleting a job cascades as before.
    assert.equal(connection.pragma('foreign_keys', { simple: true }), 1);
    await sql`delete from jobs where id = 'j1'`.execute(db);
    assert.deepEqual(connection.prepare(`select image_id from image_safety`).pluck().all(), ['j2']);
    assert.deepEqual(connection.prepare(`select id from annotation_tasks`).pluck().all(), []);

    const down = await migrator.migrateDown();
    assert.equal(down.error, undefined);
    assert.deepEqual(
      down.results?.map((r) => r.migrationName),
      ['0014_clustered_image_rows'],
    );
    const undone = snapshot(file);
    for (const t of TABLES) assert.equal(undone.tables[t]!.withoutRowid, false, t);
    assert.deepEqual(undone.tables.image_safety!.rows, after.tables.image_safety!.rows.slice(1));
  } finally {
    await db.destroy();
  }
});

test('a rebuild that fails leaves every table as it was', async () => {
  const file = join(tempDir(), 'failing.db');
  const connection = new SQLite(file);
  connection.pragma('foreign_keys = ON');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: connection }) });
  try {
    await new Migrator({ db, provider: migrationProvider }).migrateTo('0013_trust_embeddings');
    connection.exec(FILL);
    // The second table does not exist: the first one's rebuild is rolled back with it.
    await assert.rejects(
      rebuildSqliteTables(db, ['image_safety', 'no_such_table'], withoutRowid),
      /no_such_table/,
    );
    const after = snapshot(file);
    assert.equal(after.tables.image_safety!.withoutRowid, false);
    assert.equal(after.tables.image_safety!.rows.length, 2);
    assert.equal(connection.pragma('foreign_keys', { simple: true }), 1);
  } finally {
    await db.destroy();
  }
});
