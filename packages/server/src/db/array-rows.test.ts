// arrayRows: a Kysely-built query's rows as arrays in select order, reading only committed rows even while
// another caller holds a transaction open (on SQLite that caller holds the one connection).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase } from './connect.js';
import { createTestDatabase, testDialects } from '../test-support/databases.js';

for (const dialect of testDialects()) {
  describe(`arrayRows (${dialect})`, () => {
    test('returns rows as arrays in select order, and never what an open transaction wrote', async () => {
      const database = await createTestDatabase(dialect);
      const handle = await openDatabase(database.url);
      try {
        const { db } = handle;
        await db
          .insertInto('users')
          .values([
            { id: 'u-b', email: 'b@example.org', role: 'user', created_at: 2, suspended_at: null },
            { id: 'u-a', email: 'a@example.org', role: 'admin', created_at: 1, suspended_at: null },
          ])
          .execute();
        const query = db
          .selectFrom('users')
          .select(['role', 'id', 'created_at'])
          .where('id', 'like', 'u-%')
          .orderBy('id')
          .compile();
        assert.deepEqual(await handle.arrayRows(query), [
          ['admin', 'u-a', 1],
          ['user', 'u-b', 2],
        ]);

        // A transaction inserts a row and waits; a read meanwhile must not see it, before or after the
        // rollback (on SQLite it waits for the connection instead of running inside that transaction).
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let inserted!: () => void;
        const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
        const transaction = db
          .transaction()
          .execute(async (trx) => {
            await trx
              .insertInto('users')
              .values({ id: 'u-c', email: 'c@example.org', role: 'user', created_at: 3, suspended_at: null })
              .execute();
            inserted();
            await held;
            throw new Error('roll back');
          })
          .catch((error: unknown) => error);
        await insertedSignal;
        const during = handle.arrayRows(query);
        setTimeout(release, 50);
        assert.deepEqual(
          (await during).map((row) => row[1]),
          ['u-a', 'u-b'],
        );
        assert.equal(((await transaction) as Error).message, 'roll back');
        assert.deepEqual(
          (await handle.arrayRows(query)).map((row) => row[1]),
          ['u-a', 'u-b'],
        );
        // Parameters travel with the compiled query.
        const one = db
          .selectFrom('users')
          .select(sql<number>`count(*)`.as('n'))
          .where('id', '=', 'u-b');
        assert.equal(Number((await handle.arrayRows(one.compile()))[0]![0]), 1);
      } finally {
        await handle.close();
        await database.drop();
      }
    });
  });
}
