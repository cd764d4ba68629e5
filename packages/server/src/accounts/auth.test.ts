import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';

for (const dialect of testDialects()) {
  describe(`authentication and keys (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect });
    });
    after(() => c.shutdown());

    test('missing, malformed and unknown keys get 401 problems', async () => {
      for (const headers of [
        {},
        { authorization: 'Basic abc' },
        auth('dfk_not-a-real-key'),
        auth('dfw_nope'),
      ]) {
        const res = await c.app.inject({ url: '/v1/me', headers });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().type, 'unauthorized');
      }
    });

    test('API keys are shown once, stored hashed, listed with last use, and revocable', async () => {
      const created = await c.app.inject({
        method: 'POST',
        url: '/v1/me/api-keys',
        headers: auth(c.userKey),
        payload: { name: 'laptop' },
      });
      assert.equal(created.statusCode, 201);
      const { key, apiKey } = created.json();
      assert.match(key, /^dfk_[A-Za-z0-9_-]{43}$/);
      const stored = await c.services.database.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', apiKey.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(stored.key_hash, key);
      assert.ok(!JSON.stringify(stored).includes(key.slice(4)));
      assert.equal((await c.app.inject({ url: '/v1/me', headers: auth(key) })).statusCode, 200);
      const list = (await c.app.inject({ url: '/v1/me/api-keys', headers: auth(c.userKey) })).json();
      const listed = list.items.find((k: { id: string }) => k.id === apiKey.id);
      assert.ok(listed.lastUsedAt, 'last use is recorded');
      assert.equal(JSON.stringify(list).includes(key), false);
      const revoked = await c.app.inject({
        method: 'DELETE',
        url: `/v1/me/api-keys/${apiKey.id}`,
        headers: auth(c.userKey),
      });
      assert.equal(revoked.statusCode, 204);
      assert.equal((await c.app.inject({ url: '/v1/me', headers: auth(key) })).statusCode, 401);
    });

    test('users cannot revoke each other’s keys or use admin routes; worker keys only reach worker routes', async () => {
      const mine = (await c.app.inject({ url: '/v1/me/api-keys', headers: auth(c.adminKey) })).json()
        .items[0];
      const res = await c.app.inject({
        method: 'DELETE',
        url: `/v1/me/api-keys/${mine.id}`,
        headers: auth(c.userKey),
      });
      assert.equal(res.statusCode, 404);
      const admin = await c.app.inject({
        method: 'POST',
        url: '/v1/admin/users',
        headers: auth(c.userKey),
        payload: { email: 'x@example.org' },
      });
      assert.equal(admin.statusCode, 403);
      const worker = (
        await c.app.inject({
          method: 'POST',
          url: '/v1/workers',
          headers: auth(c.userKey),
          payload: { name: 'w' },
        })
      ).json();
      const asUser = await c.app.inject({ url: '/v1/me', headers: auth(worker.key) });
      assert.equal(asUser.statusCode, 403);
      const asWorker = await c.app.inject({
        method: 'POST',
        url: '/v1/workers/pop',
        headers: auth(c.userKey),
        payload: { backend: 'x', models: ['m'], maxPixels: 4096, waitSeconds: 0 },
      });
      assert.equal(asWorker.statusCode, 403);
    });

    test('a revoked worker key is refused', async () => {
      const worker = (
        await c.app.inject({
          method: 'POST',
          url: '/v1/workers',
          headers: auth(c.userKey),
          payload: { name: 'old' },
        })
      ).json();
      const pop = () =>
        c.app.inject({
          method: 'POST',
          url: '/v1/workers/pop',
          headers: auth(worker.key),
          payload: { backend: 'x', models: ['m'], maxPixels: 4096, waitSeconds: 0 },
        });
      assert.equal((await pop()).statusCode, 200);
      const del = await c.app.inject({
        method: 'DELETE',
        url: `/v1/workers/${worker.worker.id}`,
        headers: auth(c.userKey),
      });
      assert.equal(del.statusCode, 204);
      assert.equal((await pop()).statusCode, 401);
    });

    test('system routes: health, readiness, stats, OpenAPI 3.1 and metrics', async () => {
      assert.equal((await c.app.inject('/healthz')).json().ok, true);
      assert.equal((await c.app.inject('/readyz')).json().ok, true);
      const stats = (await c.app.inject('/v1/stats')).json();
      assert.equal(typeof stats.queueLength, 'number');
      const spec = (await c.app.inject('/openapi.json')).json();
      assert.equal(spec.openapi, '3.1.0');
      for (const path of [
        '/v1/generations',
        '/v1/workers/pop',
        '/v1/jobs/{id}/heartbeat',
        '/v1/jobs/{id}/result',
      ]) {
        assert.ok(spec.paths[path], `${path} is documented`);
      }
      assert.ok(spec.paths['/v1/generations'].post.requestBody);
      assert.equal((await c.app.inject('/docs')).statusCode < 400, true);
      const metrics = (await c.app.inject('/metrics')).body;
      for (const name of [
        'dreamfold_jobs',
        'dreamfold_queue_depth',
        'dreamfold_pop_wait_seconds',
        'dreamfold_lease_expiries_total',
        'dreamfold_workers_online',
        'dreamfold_http_request_duration_seconds',
      ]) {
        assert.ok(metrics.includes(name), `${name} exported`);
      }
      const missing = await c.app.inject('/v1/nothing-here');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().type, 'not_found');
    });
  });
}
