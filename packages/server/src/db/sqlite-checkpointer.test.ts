// The background checkpointer copies committed pages from the WAL into the database file without the
// writing connection checkpointing itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from './connect.js';
import { tempDir } from '../test-support/databases.js';

/** About 1 MiB of rows: a quarter of what SQLite's own inline checkpoint waits for (1,000 pages). */
async function writeAMegabyte(url: string, intervalMs: number): Promise<{ before: number; after: number }> {
  const path = url.replace(/^sqlite:/, '');
  const handle = await openDatabase(url, { sqliteCheckpointIntervalMs: intervalMs });
  try {
    await sql`create table filler (id integer primary key, body blob not null)`.execute(handle.db);
    // Checkpoint what the migrations wrote, so the file size below starts from a settled file.
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(handle.db);
    const before = statSync(path).size;
    await handle.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 256; i++) {
        await sql`insert into filler (body) values (randomblob(4096))`.execute(trx);
      }
    });
    // Several intervals of the thread, and nothing on this connection that could checkpoint.
    await new Promise((r) => setTimeout(r, 20 * Math.max(intervalMs, 25)));
    return { before, after: statSync(path).size };
  } finally {
    await handle.close();
  }
}

test('a background thread checkpoints the WAL into the database file', async () => {
  const dir = tempDir();
  const withThread = await writeAMegabyte(`sqlite:${join(dir, 'thread.db')}`, 20);
  assert.ok(
    withThread.after - withThread.before >= 1024 * 1024,
    `the database file grew by ${withThread.after - withThread.before} bytes`,
  );

  // Without it, the same rows stay in the WAL: SQLite checkpoints inline only at 1,000 pages.
  const inline = await writeAMegabyte(`sqlite:${join(dir, 'inline.db')}`, 0);
  assert.ok(
    inline.after - inline.before < 256 * 1024,
    `the database file grew by ${inline.after - inline.before} bytes`,
  );
});

test('closing the database stops the thread and keeps every row', async () => {
  const dir = tempDir();
  const url = `sqlite:${join(dir, 'rows.db')}`;
  const first = await openDatabase(url, { sqliteCheckpointIntervalMs: 5 });
  await sql`create table t (n integer not null)`.execute(first.db);
  for (let i = 0; i < 100; i++) await sql`insert into t (n) values (${i})`.execute(first.db);
  await first.close();

  const second = await openDatabase(url, { sqliteCheckpointIntervalMs: 5 });
  try {
    const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(second.db);
    assert.equal(rows[0]?.n, 100);
  } finally {
    await second.close();
  }
});
