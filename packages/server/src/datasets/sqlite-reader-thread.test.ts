// The release's SQLite reader thread: keyset pages as columns, every stream from one snapshot however the
// coordinator writes meanwhile, and a clear error when the database cannot be read.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, sqlitePath } from '../db/connect.js';
import { createTestDatabase } from '../test-support/databases.js';
import { sql } from 'kysely';
import { SqliteReaderThread, type PackedColumns, type ThreadStream } from './sqlite-reader-thread.js';

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

  test('packed pages read back exactly what plain pages hold, whatever the values', async () => {
    const database = await createTestDatabase('sqlite');
    const handle = await openDatabase(database.url, { sqliteCheckpointIntervalMs: 0 });
    const { db } = handle;
    try {
      await sql`create table scratch (id text primary key, t text not null, nt text, n real, i integer)`.execute(
        db,
      );
      const texts = ['', '=', '=x', 'plain', 'ünïcødé ✓ 画像', 'a\nb,"c"', ' ', '\u0000', 'x'.repeat(500)];
      const reals = [0, -0.5, 0.1, 1 / 3, Math.PI * 1e-300, 1.7976931348623157e308, 5e-324, 7.5, -123456.789];
      const rows = Array.from({ length: 40 }, (_, r) => ({
        id: `r-${String(r).padStart(3, '0')}`,
        t: texts[r % texts.length]!,
        nt: r % 3 === 0 ? null : texts[(r * 7) % texts.length]!,
        n: r % 5 === 0 ? null : (reals[r % reals.length]! * (r + 1)) / 7,
        i: r % 4 === 0 ? null : (r - 20) * 2 ** 40 + r,
      }));
      // The unit separator inside a text value: that page (rows 30–39) cannot be packed and comes as columns.
      rows[33]!.t = 'a\u001fb';
      rows[34]!.nt = '\u001f';
      for (const row of rows)
        await sql`insert into scratch values (${row.id}, ${row.t}, ${row.nt}, ${row.n}, ${row.i})`.execute(
          db,
        );
      const page = (after: string | null, limit: number) =>
        sql`select id as "id", t as "t", nt as "nt", n as "n", i as "i" from scratch where id > ${after ?? ''} order by id limit ${limit}`.compile(
          db,
        );
      const kinds: PackedColumns = [
        ['id', 'text'],
        ['t', 'text'],
        ['nt', 'nullableText'],
        ['n', 'number'],
        ['i', 'number'],
      ];
      const streams: ThreadStream[] = [undefined, kinds].map((packed) => {
        const next = page(AFTER, 10);
        return {
          first: page(null, 10),
          next,
          afterParameter: next.parameters.indexOf(AFTER),
          pageRows: 10,
          packed,
        };
      });
      const thread = SqliteReaderThread.start(sqlitePath(database.url), streams);
      try {
        const read = async (stream: number) => {
          const all: unknown[][] = [[], [], [], [], []];
          for await (const p of thread.pages(stream, 10)) p.columns.forEach((c, i) => all[i]!.push(...c));
          return all;
        };
        const plain = await read(0);
        const packed = await read(1);
        const expected = [
          rows.map((r) => r.id),
          rows.map((r) => r.t),
          rows.map((r) => r.nt),
          rows.map((r) => r.n),
          rows.map((r) => r.i),
        ];
        assert.deepEqual(plain, expected);
        // deepEqual compares numbers with Object.is: every double comes back to the bit.
        assert.deepEqual(packed, expected);
      } finally {
        await thread.close();
      }
      // A number column holding text with the separator cannot be read back: a clear error, not shifted rows.
      await sql`update scratch set n = ${'1\u001f2'} where id = 'r-001'`.execute(db);
      const broken = SqliteReaderThread.start(sqlitePath(database.url), [streams[1]!]);
      try {
        await assert.rejects(
          async () => {
            for await (const _ of broken.pages(0, 10));
          },
          (error: Error) =>
            error.message ===
            'reading the release from SQLite: column n of a page could not be read back (11 values for 10 rows)',
        );
      } finally {
        await broken.close();
      }
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
