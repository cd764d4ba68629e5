// Worker registration limits through HTTP on both databases: workers per new account, per IP among new
// accounts, and registrations per hour; each says what the limit is and when it lifts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { startTrustCoordinator } from './testing.js';

const DAY = 86_400_000;

for (const dialect of testDialects()) {
  describe(`worker registration limits (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, {
        WORKER_LIMIT_NEW_ACCOUNT_DAYS: '7',
        WORKER_LIMIT_PER_NEW_ACCOUNT: '2',
        WORKER_LIMIT_PER_IP: '3',
        WORKER_REGISTRATIONS_PER_HOUR: '4',
      }));
    });
    after(() => c.shutdown());

    const register = (key: string, ip: string) =>
      c.app.inject({
        method: 'POST',
        url: '/v1/workers',
        headers: auth(key),
        payload: { name: 'gpu' },
        remoteAddress: ip,
      });

    test('a new account may have two workers; revoking one makes room; after a week the limit lifts', async () => {
      const user = await c.createUser();
      const first = await register(user.key, '10.1.0.1');
      assert.equal(first.statusCode, 201, first.body);
      assert.equal((await register(user.key, '10.1.0.1')).statusCode, 201);
      const third = await register(user.key, '10.1.0.1');
      assert.equal(third.statusCode, 422);
      assert.equal(third.json().type, 'limit_exceeded');
      assert.match(third.json().detail, /younger than 7 days may have 2 workers/);
      const revoked = await c.app.inject({
        method: 'DELETE',
        url: `/v1/workers/${first.json().worker.id}`,
        headers: auth(user.key),
      });
      assert.equal(revoked.statusCode, 204);
      assert.equal((await register(user.key, '10.1.0.1')).statusCode, 201);
      clock.advance(7 * DAY + 1);
      assert.equal((await register(user.key, '10.1.0.1')).statusCode, 201, 'an older account is not limited');
    });

    test('new accounts share a limit per address; another address is not affected', async () => {
      for (let i = 0; i < 3; i++) {
        const user = await c.createUser();
        assert.equal((await register(user.key, '10.2.0.1')).statusCode, 201);
      }
      const fourth = await c.createUser();
      const refused = await register(fourth.key, '10.2.0.1');
      assert.equal(refused.statusCode, 422);
      assert.match(refused.json().detail, /from this address/);
      assert.equal((await register(fourth.key, '10.2.0.2')).statusCode, 201);
    });

    test('registrations per hour are limited per account and per address, and the hour passes', async () => {
      const users = [];
      for (let i = 0; i < 6; i++) users.push(await c.createUser());
      clock.advance(8 * DAY); // old accounts: only the hourly limits apply
      const [one, ...rest] = users as [(typeof users)[number], ...typeof users];
      for (let i = 0; i < 4; i++) assert.equal((await register(one.key, `10.3.0.${i}`)).statusCode, 201);
      const fifth = await register(one.key, '10.3.0.9');
      assert.equal(fifth.statusCode, 429);
      assert.equal(fifth.json().type, 'rate_limited');
      assert.match(fifth.json().detail, /4 workers may be registered per hour/);

      for (const u of rest.slice(0, 4)) assert.equal((await register(u.key, '10.3.1.1')).statusCode, 201);
      const crowded = await register(rest[4]!.key, '10.3.1.1');
      assert.equal(crowded.statusCode, 429, 'the address had four registrations this hour');
      clock.advance(3_600_001);
      assert.equal((await register(rest[4]!.key, '10.3.1.1')).statusCode, 201);
      assert.equal((await register(one.key, '10.3.0.9')).statusCode, 201);
    });
  });
}
