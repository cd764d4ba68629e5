// The release's SQLite reader thread: keyset pages as columns, every stream from one snapshot however the
// coordinator writes meanwhile, and a clear error when the database cannot be read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, sqlitePath } from '../db/connect.js';
import { createTestDatabase } from '../test-support/databases.js';
import { SqliteReaderThread, type ThreadStream } from './sqlite-reader-thread.js';

const AFTER = '\u0000after';

describe('SqliteReaderThread (sqlite)', () => {
  test('pages every stream in id order from one snapshot while the coordinator writes', async () => {
    const database = await createTestDatabase('sqlite');
    const handle = await openDatabase(database.url, { sqliteCheckpointIntervalMs: 0 });
    const { db } = handle;
    try {
      const users = Array.from({ length: 7 }, (_, i) => ({
        id: `u-${i}`,
        email: `${i}@example.org`,
        role: 'user' as const,
        created_at: i,
        suspended_at: null,
      }));
      await db.insertInto('users').values(users).execute();
      const page = (after: string | null, limit: number) => {
        let q = db
          .selectFrom('users')
          .select(['id', 'created_at'])
          .where('id', 'like', 'u-%')
          .orderBy('id')
          .limit(limit);
        if (after !== null) q = q.where('id', '>', after);
        return q.compile();
      };
      // Pages of 3 and of 7 (the second a full page followed by an empty one), read in any order.
      const streams: ThreadStream[] = [3, 7].map((pageRows) => {
        const next = page(AFTER, pageRows);
        return {
          first: page(null, pageRows),
          next,
          afterParameter: next.parameters.indexOf(AFTER),
          pageRows,
        };
      });
      const thread = SqliteReaderThread.start(sqlitePath(database.url), streams);
      try {
        const first = thread.pages(0, 3);
        const one = await first.next();
        assert.deepEqual(one.value, {
          columns: [
            ['u-0', 'u-1', 'u-2'],
            [0, 1, 2],
          ],
          rows: 3,
        });
        // Committed after the thread's first read: neither stream sees it, the deleted row stays.
        await db.deleteFrom('users').where('id', '=', 'u-5').execute();
        await db
          .insertInto('users')
          .values({ id: 'u-9', email: '9@example.org', role: 'user', created_at: 9, suspended_at: null })
          .execute();
        const rest: unknown[] = [];
        for await (const p of first) rest.push(...p.columns[0]!);
        assert.deepEqual(rest, ['u-3', 'u-4', 'u-5', 'u-6']);
        const all: unknown[] = [];
        let pages = 0;
        for await (const p of thread.pages(1, 7)) {
          pages++;
          all.push(...p.columns[0]!);
        }
        assert.equal(pages, 1);
        assert.deepEqual(
          all,
          users.map((u) => u.id),
        );
      } finally {
        await thread.close();
      }
      // The coordinator's own connection saw its writes all along.
      const now = await db
        .selectFrom('users')
        .select('id')
        .where('id', 'like', 'u-%')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        now.map((r) => r.id),
        ['u-0', 'u-1', 'u-2', 'u-3', 'u-4', 'u-6', 'u-9'],
      );
    } finally {
      await handle.close();
      await database.drop();
    }
  });

  test('a database it cannot read fails the stream with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dreamfold-reader-'));
    try {
      const query = { sql: 'select 1', parameters: [], query: undefined } as never;
      const thread = SqliteReaderThread.start(join(dir, 'missing.db'), [
        { first: query, next: query, afterParameter: -1, pageRows: 10 },
      ]);
      await assert.rejects(
        async () => {
          for await (const _ of thread.pages(0, 10));
        },
        (error: Error) =>
          /^reading the release from SQLite: unable to open database file/.test(error.message),
      );
      await thread.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
