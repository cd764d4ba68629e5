// Group commit (SQLite): writes that arrive together share a transaction, each still all or nothing, and
// nobody hears back before the commit that holds their write. A failing one rolls back the optimistic
// batch; it alone fails and the others are stored by the second pass. writeTransactions: the same promises
// on both databases, through one batcher per handle on SQLite.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import type { Kysely, Transaction } from 'kysely';
import { openDatabase, type DatabaseHandle } from './connect.js';
import type { Database } from './schema.js';
import { createTestDatabase, testDialects } from '../test-support/databases.js';
import { GroupCommit, writeTransactions } from './group-commit.js';

async function withDatabase(fn: (handle: DatabaseHandle, path: string) => Promise<void>): Promise<void> {
  const database = await createTestDatabase('sqlite');
  const handle = await openDatabase(database.url);
  try {
    await fn(handle, database.url.slice('sqlite:'.length));
  } finally {
    await handle.close();
    await database.drop();
  }
}

/** The ids of the users whose id starts with `prefix`, in order. */
async function userIdsLike(db: Kysely<Database>, prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('id', 'like', `${prefix}%`)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Inserts user `id` (email unique: a second insert of the same email fails), counting its runs. */
function insertUser(id: string, runs: Map<string, number>, email = `${id}@example.org`) {
  return async (trx: Transaction<Database>) => {
    runs.set(id, (runs.get(id) ?? 0) + 1);
    await trx
      .insertInto('users')
      .values({ id, email, role: 'user', created_at: 1, suspended_at: null })
      .execute();
    return id;
  };
}

describe('GroupCommit (sqlite)', () => {
  test('answers arriving together each resolve after the commit that holds them', async () => {
    await withDatabase(async (handle, path) => {
      const group = new GroupCommit(handle.db);
      const reader = new SQLite(path, { readonly: true });
      try {
        const runs = new Map<string, number>();
        const seenAtResolve: number[] = [];
        const ids = ['g-1', 'g-2', 'g-3', 'g-4'];
        const values = await Promise.all(
          ids.map((id) =>
            group.run(insertUser(id, runs)).then((v) => {
              // Another connection sees the row as soon as its caller hears back: it was committed.
              const row = reader.prepare('select count(*) as n from users where id = ?').get(id) as {
                n: number;
              };
              seenAtResolve.push(row.n);
              return v;
            }),
          ),
        );
        assert.deepEqual(values, ids);
        assert.deepEqual(seenAtResolve, [1, 1, 1, 1]);
        assert.deepEqual([...runs.values()], [1, 1, 1, 1], 'no failure, so each ran once');
      } finally {
        reader.close();
      }
    });
  });

  test('a failing answer fails alone: the others of its batch are stored, each run at most twice', async () => {
    await withDatabase(async (handle) => {
      const group = new GroupCommit(handle.db);
      const runs = new Map<string, number>();
      const boom = new Error('this answer is refused');
      const results = await Promise.allSettled([
        group.run(insertUser('f-1', runs)),
        group.run(async (trx) => {
          runs.set('f-bad', (runs.get('f-bad') ?? 0) + 1);
          await insertUser('f-bad', new Map())(trx); // written, then undone by the failure
          throw boom;
        }),
        group.run(insertUser('f-3', runs)),
        // Fails because of the first answer of the batch (the same email): as it would have after it.
        group.run(insertUser('f-dup', runs, 'f-1@example.org')),
        group.run(insertUser('f-5', runs)),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((results[1] as PromiseRejectedResult).reason, boom);
      assert.match(String((results[3] as PromiseRejectedResult).reason), /UNIQUE/);
      assert.deepEqual(await userIdsLike(handle.db, 'f-'), ['f-1', 'f-3', 'f-5']);
      // The optimistic pass stopped at f-bad; the second pass ran the rest in savepoints (f-dup failed
      // there without a third attempt).
      assert.deepEqual(Object.fromEntries(runs), { 'f-1': 2, 'f-bad': 1, 'f-3': 1, 'f-dup': 1, 'f-5': 1 });
    });
  });

  test('a batch of one that fails changes nothing, and the next answer commits', async () => {
    await withDatabase(async (handle) => {
      const group = new GroupCommit(handle.db);
      await assert.rejects(
        group.run(async (trx) => {
          await insertUser('o-1', new Map())(trx);
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.equal(await group.run(insertUser('o-2', new Map())), 'o-2');
      assert.deepEqual(await userIdsLike(handle.db, 'o-'), ['o-2']);
    });
  });
});

const user = (id: string) => ({
  id,
  email: `${id}@example.org`,
  role: 'user' as const,
  created_at: 1,
  suspended_at: null,
});

async function withTwoHandles(
  dialect: 'sqlite' | 'postgres',
  run: (writer: DatabaseHandle, reader: DatabaseHandle) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase(dialect);
  const writer = await openDatabase(database.url);
  const reader = await openDatabase(database.url);
  try {
    await run(writer, reader);
  } finally {
    await reader.close();
    await writer.close();
    await database.drop();
  }
}

for (const dialect of testDialects()) {
  describe(`writeTransactions (${dialect})`, () => {
    test('one failing unit rolls back alone; the others commit, each answered after its commit', async () => {
      await withTwoHandles(dialect, async (writer, reader) => {
        const writes = writeTransactions(writer.db, writer.dialect);
        assert.equal(writeTransactions(writer.db, writer.dialect), writes, 'one batcher per handle');
        const visibleWhenAnswered: boolean[] = [];
        const readBack = async (id: string) =>
          (await reader.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !==
          undefined;
        await writer.db.insertInto('users').values(user('g-0')).execute();
        // Started in one turn of the event loop, so on SQLite they land in one batch.
        const units = ['g-1', 'g-2', 'g-3', 'g-4'].map((id) =>
          writes
            .transaction(async (trx) => {
              await trx.insertInto('users').values(user(id)).execute();
              // The third writes, then fails: its own row must go, the others' stay.
              if (id === 'g-3') throw new Error('unit 3 fails');
              return id;
            })
            .then(async (value) => {
              visibleWhenAnswered.push(await readBack(id));
              return value;
            }),
        );
        // Single statements: one that fails (g-0 exists already) is undone alone. (Not a unit's id: on
        // PostgreSQL the units and these run on separate connections, in no fixed order.)
        const atomic = ['g-0', 'g-5'].map((id) =>
          writes.atomic((db) => db.insertInto('users').values(user(id)).execute()),
        );
        const outcomes = await Promise.allSettled([...units, ...atomic]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal((outcomes[2] as PromiseRejectedResult).reason.message, 'unit 3 fails');
        assert.deepEqual(visibleWhenAnswered, [true, true, true]);
        assert.deepEqual(await userIdsLike(reader.db, 'g-'), ['g-0', 'g-1', 'g-2', 'g-4', 'g-5']);
      });
    });
  });
}
