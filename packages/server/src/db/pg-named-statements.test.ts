// PostgreSQL prepared statements (pg-named-statements.ts): Kysely's queries are prepared once per
// connection and then only bound and executed; what PostgreSQL itself lists in pg_prepared_statements
// for the connection is the proof. Runs where DATABASE_URL names a PostgreSQL server (always in CI).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from './connect.js';
import { createTestDatabase, testDialects } from '../test-support/databases.js';

async function withPostgres(
  options: { pgPreparedStatements?: boolean },
  fn: (handle: DatabaseHandle) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase('postgres');
  // One connection, so every query below and the pg_prepared_statements read share a session.
  const handle = await openDatabase(database.url, { poolSize: 1, ...options });
  try {
    await fn(handle);
  } finally {
    await handle.close();
    await database.drop();
  }
}

/** What this session has prepared whose text mentions `text`, less the statement that reads the list. */
async function preparedOn(handle: DatabaseHandle, text: string) {
  const { rows } = await sql<{ name: string; statement: string }>`
    select name, statement from pg_prepared_statements`.execute(handle.db);
  return rows.filter((r) => r.statement.includes(text) && !r.statement.includes('pg_prepared_statements'));
}

const readKey = (handle: DatabaseHandle, hash: string) =>
  handle.db.selectFrom('api_keys').select(['id', 'name']).where('key_hash', '=', hash).execute();

// PostgreSQL only, as the other tests of PostgreSQL's own features (CI always has one: testDialects).
if (testDialects().includes('postgres')) {
  describe('PostgreSQL statements prepared once per connection', () => {
    test('a query run again is bound to the statement prepared the second time, with the right answers', async () => {
      await withPostgres({}, async (handle) => {
        // Seen once: run unnamed as before (statements that run once are never prepared); seen again: prepared.
        assert.deepEqual(await readKey(handle, 'nope'), []);
        assert.deepEqual(await preparedOn(handle, 'api_keys'), []);
        assert.deepEqual(await readKey(handle, 'nope'), []);
        const prepared = await preparedOn(handle, 'api_keys');
        assert.equal(prepared.length, 1, JSON.stringify(prepared));
        assert.match(prepared[0]!.name, /^dreamfold_\d+$/);
        assert.match(prepared[0]!.statement, /^select "id", "name" from "api_keys"/);
        // Other arguments, same statement: no second prepare, and the new arguments are the ones used.
        await handle.db
          .insertInto('users')
          .values({ id: 'u1', email: 'u1@example.org', role: 'user', created_at: 1, suspended_at: null })
          .execute();
        await handle.db
          .insertInto('api_keys')
          .values({
            id: 'k1',
            user_id: 'u1',
            name: 'first',
            prefix: 'p',
            key_hash: 'h1',
            created_at: 1,
            last_used_at: null,
            revoked_at: null,
          })
          .execute();
        assert.deepEqual(await readKey(handle, 'h1'), [{ id: 'k1', name: 'first' }]);
        assert.deepEqual(await readKey(handle, 'nope'), []);
        const selects = (await preparedOn(handle, 'api_keys')).filter((p) =>
          p.statement.startsWith('select'),
        );
        assert.deepEqual(selects, prepared);
      });
    });

    test('statements other than queries and DML are not prepared', async () => {
      await withPostgres({}, async (handle) => {
        for (let i = 0; i < 3; i++)
          await sql`alter table api_keys alter column name set default 'unnamed'`.execute(handle.db);
        assert.deepEqual(await preparedOn(handle, 'alter table'), []);
      });
    });

    test('PG_PREPARED_STATEMENTS=off: nothing is prepared', async () => {
      await withPostgres({ pgPreparedStatements: false }, async (handle) => {
        for (let i = 0; i < 3; i++) await readKey(handle, 'nope');
        assert.deepEqual(await preparedOn(handle, 'api_keys'), []);
      });
    });
  });
}
