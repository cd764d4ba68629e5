// Generation limits through HTTP: anyone reads them, only admins change them (audited, for every replica),
// never beyond what the deployment can serve, and submissions are held to them at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { submit } from '../test-support/worker-client.js';

const MAX_PIXELS = 512 * 512;

for (const dialect of testDialects()) {
  describe(`generation limits (${dialect})`, () => {
    let c: TestCoordinator;
    let replica: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        env: { MAX_PIXELS: String(MAX_PIXELS), CREDITS_IMAGE_COST: '0', TRUST_VERIFY: 'off' },
      });
      // A second coordinator on the same database: what one admin sets, every replica enforces.
      replica = await startTestCoordinator({
        dialect,
        database: c.database,
        env: { MAX_PIXELS: String(MAX_PIXELS), CREDITS_IMAGE_COST: '0', TRUST_VERIFY: 'off' },
      });
    });
    after(async () => {
      await replica.close();
      await c.shutdown();
    });

    const put = (key: string | undefined, payload: object) =>
      c.app.inject({
        method: 'PUT',
        url: '/v1/admin/generation-limits',
        headers: key ? auth(key) : {},
        payload,
      });
    const tight = { maxPixels: 256 * 256, maxSide: 384, maxSteps: 30, maxImagesPerRequest: 2 };

    test('anyone reads the limits; the environment gives the defaults and the ceiling', async () => {
      const res = await c.app.inject({ url: '/v1/generation-limits' });
      assert.equal(res.statusCode, 200);
      const expected = { maxPixels: MAX_PIXELS, maxSide: 2048, maxSteps: 150, maxImagesPerRequest: 4 };
      assert.deepEqual(res.json(), { limits: expected, defaults: expected, ceiling: expected });
    });

    test('only admins change them', async () => {
      const moderator = await c.createUser('moderator');
      assert.equal((await put(undefined, tight)).statusCode, 401);
      assert.equal((await put(c.userKey, tight)).statusCode, 403);
      assert.equal((await put(moderator.key, tight)).statusCode, 403);
      const reset = await c.app.inject({
        method: 'DELETE',
        url: '/v1/admin/generation-limits',
        headers: auth(moderator.key),
      });
      assert.equal(reset.statusCode, 403);
    });

    test('limits the pipeline cannot serve are refused, naming each field', async () => {
      const beyond = await put(c.adminKey, { ...tight, maxPixels: MAX_PIXELS * 2 });
      assert.equal(beyond.statusCode, 400);
      assert.match(beyond.json().detail, /maxPixels must be at most 262144/);
      assert.ok(beyond.json().errors.some((e: { path: string }) => e.path === 'body/maxPixels'));
      for (const bad of [
        { ...tight, maxSide: 100 }, // not a multiple of 8
        { ...tight, maxPixels: 1000 }, // below 64 × 64
        { ...tight, maxSteps: 0 },
        { ...tight, maxImagesPerRequest: 5 },
        { ...tight, maxSteps: '30' },
        { maxPixels: 65536 },
        { ...tight, extra: 1 },
      ]) {
        const res = await put(c.adminKey, bad);
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
        assert.match(res.headers['content-type'] as string, /problem\+json/);
      }
    });

    test('an admin’s change applies on every replica at once, is audited, and can be undone', async () => {
      const res = await put(c.adminKey, tight);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().limits, tight);
      assert.ok(res.json().updatedAt);

      for (const [body, pattern] of [
        [{ width: 512, height: 128 }, /side over 384/],
        [{ width: 320, height: 320 }, /allows at most 65536/],
        [{ steps: 31 }, /more than 30/],
        [{ n: 3 }, /more than 2 per request/],
      ] as const) {
        const refused = await submit(replica, replica.userKey, body);
        assert.equal(refused.statusCode, 422, refused.body);
        assert.equal(refused.json().type, 'limit_exceeded');
        assert.match(refused.json().detail, pattern);
      }
      assert.equal(
        (await submit(replica, replica.userKey, { width: 256, height: 256, steps: 30, n: 2 })).statusCode,
        201,
      );

      const audit = await c.app.inject({
        url: '/v1/moderation/audit?action=settings.generation_limits',
        headers: auth(c.adminKey),
      });
      assert.equal(audit.statusCode, 200, audit.body);
      const entry = audit.json().items[0];
      assert.equal(entry.action, 'settings.generation_limits');
      assert.deepEqual(entry.detail.to, tight);

      const reset = await c.app.inject({
        method: 'DELETE',
        url: '/v1/admin/generation-limits',
        headers: auth(c.adminKey),
      });
      assert.equal(reset.statusCode, 200);
      assert.equal(reset.json().limits.maxSteps, 150);
      assert.equal(reset.json().updatedAt, undefined);
      // The replica caches for at most two seconds.
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await submit(replica, replica.userKey, { steps: 100 })).statusCode, 201);
    });
  });
}
