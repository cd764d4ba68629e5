import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { heartbeat, pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const dialect of testDialects()) {
  describe(`job leases (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let w1: string;
    let w2: string;
    before(async () => {
      clock = new ManualClock();
      c = await startTestCoordinator({
        dialect,
        clock,
        env: { LEASE_SECONDS: '30', MAX_ATTEMPTS: '3' },
        // The safety wake is pushed out of reach so the wake-up test proves the notification path.
        build: { reaperIntervalMs: 10, safetyWakeMs: 60_000 },
      });
      w1 = await registerWorker(c, c.userKey, 'w1');
      w2 = await registerWorker(c, c.userKey, 'w2');
    });
    after(() => c.shutdown());

    const generation = async (id: string) =>
      (await c.app.inject({ url: `/v1/generations/${id}`, headers: auth(c.userKey) })).json();

    test('the loop: pop → heartbeat → upload → done, image downloadable and re-encoded', async () => {
      const g = (await submit(c, c.userKey, { model: 'loop-model' })).json();
      const job = (await pop(c, w1, { models: ['loop-model'] })).json().job;
      assert.equal(job.params.prompt, 'a test');
      assert.equal(job.params.seed, g.images[0].seed);
      assert.equal(job.upload.kind, 'direct');
      assert.equal(job.attempt, 1);
      const hb = await heartbeat(c, w1, job.id, job.leaseId, 5);
      assert.equal(hb.statusCode, 200);
      assert.equal(hb.json().cancelled, false);
      assert.equal((await generation(g.id)).images[0].step, 5);
      const png = await solidPng(64, 64, 1);
      const res = await upload(c, w1, job.id, job.leaseId, png);
      assert.equal(res.statusCode, 200, res.body);
      const done = await generation(g.id);
      assert.equal(done.status, 'done');
      const img = await c.app.inject({ url: done.images[0].url, headers: auth(c.userKey) });
      assert.equal(img.statusCode, 200);
      assert.equal(img.headers['content-type'], 'image/png');
      assert.equal(img.rawPayload.subarray(1, 4).toString(), 'PNG');
      assert.equal(res.json().sha256, done.images[0].sha256);
      // A second upload on the finished job is fenced out.
      assert.equal((await upload(c, w1, job.id, job.leaseId, png)).statusCode, 409);
    });

    test('a job goes only to a worker serving its model and fitting its pixel budget', async () => {
      await submit(c, c.userKey, { model: 'match-a', width: 128, height: 128 });
      assert.equal((await pop(c, w1, { models: ['match-b'] })).json().job, null);
      assert.equal((await pop(c, w1, { models: ['match-a'], maxPixels: 64 * 64 })).json().job, null);
      const job = (await pop(c, w1, { models: ['match-b', 'match-a'], maxPixels: 128 * 128 })).json().job;
      assert.equal(job.params.model, 'match-a');
    });

    test('priority then age: the oldest queued job of the best head goes first', async () => {
      const first = (await submit(c, c.userKey, { model: 'order' })).json();
      clock.advance(1);
      const second = (await submit(c, c.userKey, { model: 'order' })).json();
      const a = (await pop(c, w1, { models: ['order'] })).json().job;
      const b = (await pop(c, w1, { models: ['order'] })).json().job;
      assert.equal(a.id, first.images[0].jobId);
      assert.equal(b.id, second.images[0].jobId);
    });

    test('an expired lease goes back to the queue; the old lease is fenced out', async () => {
      const g = (await submit(c, c.userKey, { model: 'expiry' })).json();
      const job = (await pop(c, w1, { models: ['expiry'] })).json().job;
      clock.advance(29_000);
      assert.equal(
        (await heartbeat(c, w1, job.id, job.leaseId)).statusCode,
        200,
        'heartbeat extends the lease',
      );
      clock.advance(29_000);
      assert.equal((await generation(g.id)).images[0].state, 'leased', 'still within the extended lease');
      clock.advance(2_000);
      await until(
        () => generation(g.id),
        (x) => x.images[0].state === 'queued',
      );
      const late = await heartbeat(c, w1, job.id, job.leaseId);
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().type, 'lease_lost');
      assert.equal((await upload(c, w1, job.id, job.leaseId, await solidPng(64, 64))).statusCode, 409);
      const again = (await pop(c, w2, { models: ['expiry'] })).json().job;
      assert.equal(again.id, job.id);
      assert.equal(again.attempt, 2);
      assert.notEqual(again.leaseId, job.leaseId);
      assert.equal((await upload(c, w2, again.id, again.leaseId, await solidPng(64, 64))).statusCode, 200);
      const metrics = (await c.app.inject('/metrics')).body;
      assert.match(metrics, /dreamfold_lease_expiries_total [1-9]/);
    });

    test('after max attempts the job fails with its reason', async () => {
      const g = (await submit(c, c.userKey, { model: 'doomed' })).json();
      for (let attempt = 1; attempt <= 3; attempt++) {
        const job = (await pop(c, w1, { models: ['doomed'] })).json().job;
        assert.equal(job.attempt, attempt);
        clock.advance(31_000);
        await until(
          () => generation(g.id),
          (x) => x.images[0].state !== 'leased',
        );
      }
      const failed = await generation(g.id);
      assert.equal(failed.status, 'failed');
      assert.match(failed.images[0].error, /lease expired/);
      assert.equal((await pop(c, w1, { models: ['doomed'] })).json().job, null);
    });

    test('fail: retryable requeues, non-retryable fails at once; release returns the attempt', async () => {
      const g = (await submit(c, c.userKey, { model: 'failing' })).json();
      const job = (await pop(c, w1, { models: ['failing'] })).json().job;
      const failAs = (key: string, j: { id: string; leaseId: string }, retryable: boolean) =>
        c.app.inject({
          method: 'POST',
          url: `/v1/jobs/${j.id}/fail`,
          headers: auth(key),
          payload: { leaseId: j.leaseId, reason: 'out of memory', retryable },
        });
      assert.equal((await failAs(w2, job, true)).statusCode, 409, 'another worker cannot fail my lease');
      const r1 = await failAs(w1, job, true);
      assert.equal(r1.json().state, 'queued');
      const job2 = (await pop(c, w2, { models: ['failing'] })).json().job;
      const rel = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${job2.id}/release`,
        headers: auth(w2),
        payload: { leaseId: job2.leaseId },
      });
      assert.equal(rel.json().state, 'queued');
      assert.equal(rel.json().attempts, 1, 'a release does not count as an attempt');
      const job3 = (await pop(c, w1, { models: ['failing'] })).json().job;
      const r3 = await failAs(w1, job3, false);
      assert.equal(r3.json().state, 'failed');
      const gg = await generation(g.id);
      assert.equal(gg.status, 'failed');
      assert.equal(gg.images[0].error, 'out of memory');
    });

    test('cancel while generating: heartbeat says cancelled and the upload is refused', async () => {
      const g = (await submit(c, c.userKey, { model: 'cancel-me' })).json();
      const job = (await pop(c, w1, { models: ['cancel-me'] })).json().job;
      await c.app.inject({ method: 'DELETE', url: `/v1/generations/${g.id}`, headers: auth(c.userKey) });
      const hb = await heartbeat(c, w1, job.id, job.leaseId);
      assert.equal(hb.statusCode, 200);
      assert.equal(hb.json().cancelled, true);
      const up = await upload(c, w1, job.id, job.leaseId, await solidPng(64, 64));
      assert.equal(up.statusCode, 409);
      assert.equal(up.json().type, 'job_cancelled');
      assert.equal((await generation(g.id)).status, 'cancelled');
    });

    test('a long-polling worker is woken as soon as a matching job arrives', async () => {
      const waiting = pop(c, w1, { models: ['wake'], waitSeconds: 20 });
      await until(
        async () => c.services.leases.waiters.size,
        (n) => n > 0,
      );
      await submit(c, c.userKey, { model: 'wake' });
      const job = (await waiting).json().job;
      // Not woken, the poll would have ended after 20 s with { job: null }.
      assert.equal(job?.params.model, 'wake');
    });
  });
}
