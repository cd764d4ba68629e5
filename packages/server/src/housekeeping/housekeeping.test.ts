// Housekeeping through the public interfaces: an Idempotency-Key replays its first answer for
// IDEMPOTENCY_KEY_HOURS and is forgotten after; expired sessions and long-expired email links are deleted;
// the scheduled pass does the same on its own; PostgreSQL without autovacuum gets its statistics from
// the coordinator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { signInWeb } from '../test-support/web-session.js';

const HOUR = 3_600_000;
const password = 'correct horse battery staple';

for (const dialect of testDialects()) {
  describe(`housekeeping (${dialect})`, () => {
    let c: TestCoordinator;
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        clock,
        env: { ACCESS_STAGE: 'open', IDEMPOTENCY_KEY_HOURS: '24', SESSION_DAYS: '2' },
        build: { housekeepingIntervalMs: 50 },
      });
      const grant = await c.app.inject({
        method: 'POST',
        url: '/v1/admin/credits/grants',
        headers: auth(c.adminKey),
        payload: { userId: c.userId, amount: 100, memo: 'requester' },
      });
      assert.equal(grant.statusCode, 201, grant.body);
    });
    after(() => c.shutdown());

    const rows = async (table: 'idempotency_keys' | 'sessions' | 'email_tokens') =>
      Number(
        (
          await c.services.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const submit = () =>
      c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: { ...auth(c.userKey), 'idempotency-key': 'kept-for-a-day' },
        payload: { prompt: 'a lighthouse at dusk', model: 'sd-1.5', width: 64, height: 64, steps: 1 },
      });
    /** Waits for the scheduled pass (every 50 ms here) to bring `table` down to `expected` rows. */
    const settles = async (table: Parameters<typeof rows>[0], expected: number) => {
      for (let i = 0; i < 200 && (await rows(table)) !== expected; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(await rows(table), expected, `${table} rows after the scheduled pass`);
    };

    test('an Idempotency-Key replays its answer for IDEMPOTENCY_KEY_HOURS, then a request with it is new', async () => {
      const first = await submit();
      assert.equal(first.statusCode, 201, first.body);
      const id = first.json().id as string;

      clock.advance(23 * HOUR);
      assert.deepEqual(await c.services.housekeeping.purge(), {
        idempotencyKeys: 0,
        sessions: 0,
        emailTokens: 0,
      });
      const replay = await submit();
      assert.equal(replay.json().id, id);
      assert.equal(replay.headers['idempotent-replayed'], 'true');

      clock.advance(2 * HOUR);
      await settles('idempotency_keys', 0);
      const fresh = await submit();
      assert.equal(fresh.statusCode, 201, fresh.body);
      assert.notEqual(fresh.json().id, id, 'the forgotten key made a new generation');
      assert.equal(fresh.headers['idempotent-replayed'], undefined);
      assert.equal(await rows('idempotency_keys'), 1, 'and the key now holds the new answer');
    });

    test('expired sessions and week-old expired email links are deleted; live ones stay and work', async () => {
      const email = 'dora@example.org';
      const signUp = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email, password },
      });
      assert.equal(signUp.statusCode, 201, signUp.body);
      const tokensAtSignUp = await rows('email_tokens'); // the confirmation link
      const old = await signInWeb(c.app, email, password);
      const reset = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email },
      });
      assert.equal(reset.statusCode, 202);
      assert.equal(await rows('email_tokens'), tokensAtSignUp + 1);

      // SESSION_DAYS is 2: a day and a half on, a second session starts; half a day later the first ends.
      clock.advance(36 * HOUR);
      const live = await signInWeb(c.app, email, password);
      clock.advance(13 * HOUR);
      await settles('sessions', 1);
      const session = (s: typeof live) =>
        c.app.inject({ url: '/v1/auth/session', headers: s.headers({ csrf: false }) });
      assert.equal((await session(live)).statusCode, 200, 'the live session still works');
      assert.equal((await session(old)).statusCode, 401);

      // The reset link expired an hour after it was sent; it is kept a week past that, then deleted.
      assert.equal(await rows('email_tokens'), tokensAtSignUp + 1);
      clock.advance(7 * 24 * HOUR);
      await settles('email_tokens', 0);
    });

    // SQLite plans without gathered statistics on purpose (planner-statistics.ts).
    if (dialect === 'postgres') {
      test('PostgreSQL without autovacuum: a table that changed enough is analysed, an unchanged one is not', async () => {
        const db = c.services.database.db;
        // Off for this table, whatever the server's setting: nothing but the coordinator analyses it.
        await sql`alter table idempotency_keys set (autovacuum_enabled = false)`.execute(db);
        const lastAnalyze = async (table: string) =>
          (
            await sql<{ at: Date | null }>`
              select last_analyze as at from pg_stat_user_tables where relname = ${table}`.execute(db)
          ).rows[0]?.at ?? null;
        // As if loaded while the coordinator was down: 200 stored answers (more than autovacuum's 50 + 10 %).
        await db
          .insertInto('idempotency_keys')
          .values(
            Array.from({ length: 200 }, (_, i) => ({
              user_id: c.userId,
              key: `loaded-${i}`,
              route: 'POST /v1/generations',
              request_hash: 'x',
              status_code: 201,
              response: '{}',
              created_at: clock.now(),
            })),
          )
          .execute();
        // The server counts the changes when this connection reports them (within about 10 s).
        for (let i = 0; i < 600 && !(await lastAnalyze('idempotency_keys')); i++) {
          await new Promise((r) => setTimeout(r, 25));
        }
        assert.ok(
          await lastAnalyze('idempotency_keys'),
          'the changed table was analysed by a housekeeping pass',
        );
        // Nothing writes the migrations table after start: the database is a fresh copy, never analysed.
        assert.equal(await lastAnalyze('kysely_migration'), null, 'an unchanged table is left alone');
      });
    }
  });
}
