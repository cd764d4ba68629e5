import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { registerWorker, pop } from '../test-support/worker-client.js';
import { signInWeb } from '../test-support/web-session.js';
import { hashPassword } from '../accounts/passwords.js';

for (const dialect of testDialects()) {
  describe(`suspensions, roles and the audit log (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let otherModerator: { id: string; key: string };
    let adminId: string;
    before(async () => {
      // Every reading of the clock is a new millisecond, so "newest first" orders are exact.
      let t = Date.now();
      // Images are public at once (no NSFW classifier in these tests: see safety/).
      c = await startTestCoordinator({ dialect, clock: { now: () => ++t }, env: { NSFW_CLASSIFIER: 'off' } });
      moderator = await c.createUser('moderator');
      otherModerator = await c.createUser('moderator');
      adminId = (
        await c.services.database.db
          .selectFrom('users')
          .select('id')
          .where('email', '=', 'admin@example.org')
          .executeTakeFirstOrThrow()
      ).id;
    });
    after(() => c.shutdown());

    const post = (key: string, url: string, payload: object) =>
      c.app.inject({ method: 'POST', url, headers: auth(key), payload });
    const me = (key: string) => c.app.inject({ url: '/v1/me', headers: auth(key) });

    test('a suspended user is locked out at once: API key, worker key, web session, generation', async () => {
      const password = 'correct horse battery';
      const target = await c.createUser();
      await c.services.database.db
        .updateTable('users')
        .set({ password_hash: await hashPassword(password) })
        .where('id', '=', target.id)
        .execute();
      const web = await signInWeb(c.app, target.email, password);
      const workerKey = await registerWorker(c, target.key);
      // Warm every cache that could keep a suspended user in.
      assert.equal((await me(target.key)).statusCode, 200);
      assert.equal((await pop(c, workerKey)).statusCode, 200);
      assert.equal((await c.app.inject({ url: '/v1/me', headers: web.headers() })).statusCode, 200);

      const res = await post(moderator.key, `/v1/moderation/users/${target.id}/suspend`, { reason: 'spam' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().suspended, true);
      assert.equal(res.json().suspensionReason, 'spam');

      assert.equal((await me(target.key)).statusCode, 401);
      assert.equal((await pop(c, workerKey)).statusCode, 401);
      assert.equal((await c.app.inject({ url: '/v1/me', headers: web.headers() })).statusCode, 401);
      const generate = await c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(target.key),
        payload: { prompt: 'still here?', model: 'sd-1.5' },
      });
      assert.equal(generate.statusCode, 401);
      const again = await post(moderator.key, `/v1/moderation/users/${target.id}/suspend`, { reason: 'x' });
      assert.equal(again.statusCode, 409);

      const lifted = await post(otherModerator.key, `/v1/moderation/users/${target.id}/unsuspend`, {
        reason: 'appeal accepted',
      });
      assert.equal(lifted.statusCode, 200);
      assert.equal(lifted.json().suspended, false);
      assert.equal((await me(target.key)).statusCode, 200);
      assert.equal((await pop(c, workerKey)).statusCode, 200);
      // Sessions ended with the suspension; the user signs in again.
      assert.equal((await c.app.inject({ url: '/v1/me', headers: web.headers() })).statusCode, 401);
      assert.equal(
        (await post(moderator.key, `/v1/moderation/users/${target.id}/unsuspend`, { reason: 'x' }))
          .statusCode,
        409,
      );

      const audit = await c.app.inject({
        url: `/v1/moderation/audit?targetType=user&targetId=${target.id}`,
        headers: auth(moderator.key),
      });
      assert.deepEqual(
        audit
          .json()
          .items.map((e: { action: string; actorId: string; detail: object }) => [
            e.action,
            e.actorId,
            e.detail,
          ]),
        [
          ['user.unsuspend', otherModerator.id, { reason: 'appeal accepted', suspendedFor: 'spam' }],
          ['user.suspend', moderator.id, { reason: 'spam', jobsCancelled: 0, creditsRefunded: 0 }],
        ],
      );
    });

    test('moderators suspend plain users only, never themselves; admins anyone but themselves', async () => {
      const cases: [string, string, number][] = [
        [moderator.key, adminId, 403],
        [moderator.key, otherModerator.id, 403],
        [moderator.key, moderator.id, 403],
        [c.adminKey, adminId, 403],
      ];
      for (const [key, target, status] of cases) {
        const res = await post(key, `/v1/moderation/users/${target}/suspend`, { reason: 'test' });
        assert.equal(res.statusCode, status, `${target}: ${res.body}`);
        assert.equal(res.json().type, 'forbidden');
      }
      const suspended = await post(c.adminKey, `/v1/moderation/users/${otherModerator.id}/suspend`, {
        reason: 'rogue moderator',
      });
      assert.equal(suspended.statusCode, 200);
      assert.equal((await me(otherModerator.key)).statusCode, 401);
      // A moderator cannot lift another moderator's suspension either.
      assert.equal(
        (await post(moderator.key, `/v1/moderation/users/${otherModerator.id}/unsuspend`, { reason: 'x' }))
          .statusCode,
        403,
      );
      assert.equal(
        (
          await post(c.adminKey, `/v1/moderation/users/${otherModerator.id}/unsuspend`, {
            reason: 'sorted out',
          })
        ).statusCode,
        200,
      );
      assert.equal(
        (await post(moderator.key, '/v1/moderation/users/nobody/suspend', { reason: 'x' })).statusCode,
        404,
      );
      assert.equal(
        (await post(moderator.key, `/v1/moderation/users/${adminId}/suspend`, {})).statusCode,
        400,
      );
      const standing = await c.app.inject({
        url: `/v1/moderation/users/${c.userId}`,
        headers: auth(moderator.key),
      });
      assert.deepEqual(standing.json(), { id: c.userId, role: 'user', suspended: false });
    });

    test('moderators cannot do admin actions', async () => {
      const attempts: [string, string, object][] = [
        ['POST', '/v1/admin/users', { email: 'sneaky@example.org', role: 'admin' }],
        ['PUT', '/v1/admin/prompt-filter', { words: [], patterns: [] }],
        ['DELETE', '/v1/admin/prompt-filter', {}],
        ['PUT', '/v1/admin/access', { stage: 'open' }],
        ['POST', '/v1/admin/credits/grants', { userId: moderator.id, amount: 1000 }],
      ];
      for (const [method, url, payload] of attempts) {
        const res = await c.app.inject({
          method: method as 'POST',
          url,
          headers: auth(moderator.key),
          payload: method === 'DELETE' ? undefined : payload,
        });
        assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
      }
    });

    test('the audit log filters by actor, action and target, newest first, with a cursor', async () => {
      const target = await c.createUser();
      for (let i = 0; i < 3; i++) {
        await post(moderator.key, `/v1/moderation/users/${target.id}/suspend`, { reason: `round ${i}` });
        await post(moderator.key, `/v1/moderation/users/${target.id}/unsuspend`, { reason: `round ${i}` });
      }
      const list = (query: string, key = moderator.key) =>
        c.app.inject({ url: `/v1/moderation/audit?${query}`, headers: auth(key) });
      const byTarget = await list(`targetId=${target.id}&limit=4`);
      assert.equal(byTarget.statusCode, 200);
      assert.equal(byTarget.json().items.length, 4);
      const rest = await list(`targetId=${target.id}&limit=4&cursor=${byTarget.json().nextCursor}`);
      assert.equal(rest.json().items.length, 2);
      assert.equal(rest.json().nextCursor, undefined);
      const all = [...byTarget.json().items, ...rest.json().items];
      assert.equal(new Set(all.map((e: { id: string }) => e.id)).size, 6);
      assert.deepEqual(
        all.map((e: { action: string; detail: { reason: string } }) => `${e.action} ${e.detail.reason}`),
        [
          'user.unsuspend round 2',
          'user.suspend round 2',
          'user.unsuspend round 1',
          'user.suspend round 1',
          'user.unsuspend round 0',
          'user.suspend round 0',
        ],
      );
      const suspends = await list(`action=user.suspend&targetId=${target.id}`);
      assert.equal(suspends.json().items.length, 3);
      const byActor = (await list(`actor=${moderator.id}&limit=200`, c.adminKey)).json().items;
      assert.ok(byActor.length >= 6, 'the rounds above are all by this moderator');
      assert.ok(
        byActor.every((e: { actorId: string }) => e.actorId === moderator.id),
        'only this actor',
      );
      const byOther = await list(`actor=${adminId}`);
      assert.ok(
        byOther.json().items.every((e: { actorId: string }) => e.actorId === adminId),
        'only the admin',
      );

      for (const bad of ['limit=0', 'limit=201', 'action=DROP%20TABLE', 'cursor=nope', 'actor=a%20b']) {
        const res = await list(bad);
        assert.equal(res.statusCode, 400, bad);
        assert.equal(res.json().type, 'validation_failed');
      }
      assert.equal((await list('', (await c.createUser()).key)).statusCode, 403);
    });
  });
}
