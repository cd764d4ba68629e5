// Fair to requesters, through HTTP: a request no recently seen worker can serve is answered at once with
// what is served; the slowest worker a requester accepts is honoured by the queue; ETAs come from
// measured speeds. The clock is injected so speeds and ETAs are exact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

const SNAPSHOT_MS = 2000;

for (const dialect of testDialects()) {
  describe(`fair to requesters (${dialect})`, () => {
    let c: TestCoordinator;
    let t = Date.now();
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        clock: { now: () => t },
        env: { TRUST_VERIFY: 'off', UNSERVABLE_WINDOW_SECONDS: '600' },
      });
    });
    after(() => c.shutdown());
    /** Lets the served-workers snapshot (kept 2 s) see what just changed. */
    const later = () => {
      t += SNAPSHOT_MS + 1;
    };
    const poll = (key: string, models: string[], maxPixels: number) =>
      c.app.inject({
        method: 'POST',
        url: '/v1/workers/pop',
        headers: auth(key),
        payload: { backend: 'test-pattern', models, maxPixels, waitSeconds: 0 },
      });

    test('with no worker seen recently, requests are queued: nobody can tell what will be served', async () => {
      const res = await submit(c, c.userKey, { model: 'anything' });
      assert.equal(res.statusCode, 201, res.body);
      await c.app.inject({
        method: 'DELETE',
        url: `/v1/generations/${res.json().id}`,
        headers: auth(c.userKey),
      });
    });

    test('once workers are around, a model or size none of them serves is refused at once, saying what is served', async () => {
      const key = await registerWorker(c, c.userKey, 'small');
      assert.equal((await poll(key, ['sd-1.5'], 262_144)).statusCode, 200);
      later();
      const models = (await c.app.inject({ url: '/v1/models' })).json();
      assert.deepEqual(models.items, [{ model: 'sd-1.5', maxPixels: 262_144, workers: 1 }]);

      const otherModel = await submit(c, c.userKey, { model: 'sdxl', width: 512, height: 512 });
      assert.equal(otherModel.statusCode, 422);
      const problem = otherModel.json();
      assert.equal(problem.type, 'unservable');
      assert.match(
        problem.detail,
        /No worker seen in the last 10 minutes serves sdxl\. Served now: sd-1\.5\./,
      );
      assert.deepEqual(problem.errors, [
        { path: 'served', message: 'sd-1.5: up to 262144 pixels, 1 worker' },
      ]);

      const tooBig = await submit(c, c.userKey, { model: 'sd-1.5', width: 1024, height: 1024 });
      assert.equal(tooBig.statusCode, 422);
      assert.match(
        tooBig.json().detail,
        /takes sd-1\.5 at 1024×1024 \(1048576 pixels\); the largest is 262144 pixels/,
      );
      // Nothing was queued or charged for the refused requests.
      assert.equal(
        (await c.app.inject({ url: '/v1/generations', headers: auth(c.userKey) })).json().items.length,
        1,
      );

      assert.equal(
        (await submit(c, c.userKey, { model: 'sd-1.5', width: 512, height: 512 })).statusCode,
        201,
      );
    });

    test('maxSecondsPerImage: only measured workers fast enough take the job; the ETA uses their speed', async () => {
      const fast = await registerWorker(c, c.userKey, 'fast');
      const slow = await registerWorker(c, c.userKey, 'slow');
      const fresh = await registerWorker(c, c.userKey, 'unmeasured');
      // Nobody serving "speedy" has a measured speed yet: a limit cannot be met.
      await poll(fresh, ['speedy'], 65_536);
      later();
      const unmeasured = await submit(c, c.userKey, { model: 'speedy', maxSecondsPerImage: 60 });
      assert.equal(unmeasured.statusCode, 422);
      assert.match(unmeasured.json().detail, /has a measured speed yet/);

      // Measure two workers: 64×64 × 10 steps in 1 s and in 8 s.
      for (const [key, ms] of [
        [fast, 1000],
        [slow, 8000],
      ] as const) {
        assert.equal((await submit(c, c.userKey, { model: 'speedy' })).statusCode, 201);
        const job = (await poll(key, ['speedy'], 65_536)).json().job;
        t += ms;
        assert.equal((await upload(c, key, job.id, job.leaseId, await solidPng(64, 64, ms))).statusCode, 200);
      }
      later();
      // The fast worker takes 1 s for 64×64 × 10 steps (limit met exactly), 4 s for 128×128.
      const accepted = await submit(c, c.userKey, { model: 'speedy', maxSecondsPerImage: 1 });
      assert.equal(accepted.statusCode, 201, accepted.body);
      const strict = await submit(c, c.userKey, {
        model: 'speedy',
        width: 128,
        height: 128,
        maxSecondsPerImage: 3,
      });
      assert.equal(strict.statusCode, 422);
      assert.match(
        strict.json().detail,
        /The fastest worker serving speedy takes about 4\.0 s for this image; maxSecondsPerImage is 3/,
      );
      assert.equal(strict.json().errors[0].path, 'body/maxSecondsPerImage');

      const limited = accepted.json();
      assert.equal(limited.maxSecondsPerImage, 1);
      const read = await c.app.inject({ url: `/v1/generations/${limited.id}`, headers: auth(c.userKey) });
      const eta = read.json().eta;
      // Only the fast worker may take it: 1 s per image, nothing ahead of it.
      assert.deepEqual(
        { workers: eta.workers, basis: eta.basis, seconds: eta.seconds },
        { workers: 1, basis: 'measured', seconds: 1 },
      );
      assert.equal((await poll(slow, ['speedy'], 65_536)).json().job, null);
      assert.equal((await poll(fresh, ['speedy'], 65_536)).json().job, null);
      const taken = (await poll(fast, ['speedy'], 65_536)).json().job;
      assert.equal(taken.id, limited.images[0].jobId);
    });

    test('ETAs: queued images share the workers that can serve them, at their measured speeds', async () => {
      const a = await registerWorker(c, c.userKey, 'eta-a');
      const b = await registerWorker(c, c.userKey, 'eta-b');
      // Both poll first (so "eta" is served), then each takes 2 s for a 64×64 × 10-step image.
      for (const key of [a, b]) await poll(key, ['eta'], 4096);
      later();
      for (const key of [a, b]) {
        assert.equal((await submit(c, c.userKey, { model: 'eta' })).statusCode, 201);
        const job = (await poll(key, ['eta'], 4096)).json().job;
        t += 2000;
        assert.equal((await upload(c, key, job.id, job.leaseId, await solidPng(64, 64, 7))).statusCode, 200);
      }
      later();
      // Four images queued, nothing ahead: two workers at 0.5 images/s each → 4 s.
      const g = (await submit(c, c.userKey, { model: 'eta', n: 4 })).json();
      let eta = (await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })).json().eta;
      assert.deepEqual(
        { ...eta, finishesAt: undefined },
        { seconds: 4, workers: 2, basis: 'measured', finishesAt: undefined },
      );
      assert.equal(eta.finishesAt, new Date(t + 4000).toISOString());

      // With one paused, the other does it alone: 8 s.
      await c.app.inject({ method: 'POST', url: '/v1/workers/me/pause', headers: auth(b) });
      later();
      eta = (await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })).json().eta;
      assert.equal(eta.seconds, 8);
      assert.equal(eta.workers, 1);
      await c.app.inject({ method: 'POST', url: '/v1/workers/me/pause', headers: auth(a) });
      later();
      eta = (await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })).json().eta;
      assert.deepEqual(eta, { workers: 0, basis: 'no_worker' });
      // A finished generation has no ETA.
      const done = (
        await c.app.inject({ url: `/v1/generations/${g.id}`, method: 'DELETE', headers: auth(c.userKey) })
      ).json();
      assert.equal(done.status, 'cancelled');
      assert.equal(
        (await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })).json().eta,
        undefined,
      );
    });

    test('bad limits are refused with field errors', async () => {
      for (const bad of [0, -1, 3601, 1.5, '10']) {
        const res = await submit(c, c.userKey, {
          model: 'sd-1.5',
          width: 64,
          height: 64,
          maxSecondsPerImage: bad,
        });
        assert.equal(res.statusCode, 400, String(bad));
        assert.equal(res.json().errors[0].path, 'body/maxSecondsPerImage');
      }
    });
  });

  describe(`the unservable check switched off (${dialect})`, () => {
    test('UNSERVABLE_WINDOW_SECONDS=0 queues every request', async () => {
      const c = await startTestCoordinator({ dialect, env: { UNSERVABLE_WINDOW_SECONDS: '0' } });
      try {
        const key = await registerWorker(c, c.userKey, 'only-sd');
        await pop(c, key, { models: ['sd-1.5'] });
        assert.equal((await submit(c, c.userKey, { model: 'sdxl' })).statusCode, 201);
      } finally {
        await c.shutdown();
      }
    });
  });
}
