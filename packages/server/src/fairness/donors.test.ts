// Fair to donors, through HTTP on a real coordinator: failures that were not the worker's fault, leases
// lost to a coordinator restart, pausing, and the receipts of what each job earned.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, tempDir, testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

// Result checks and replication are the verification tests' business; these workers upload flat images.
const ENV = { TRUST_VERIFY: 'off' };

interface Job {
  id: string;
  leaseId: string;
}

async function popJob(c: TestCoordinator, key: string, models: string[]): Promise<Job> {
  const res = await pop(c, key, { models });
  const job = res.json().job as Job | null;
  if (!job) throw new Error(`no job: ${res.body}`);
  return job;
}

const fail = (c: TestCoordinator, key: string, job: Job, payload: object) =>
  c.app.inject({
    method: 'POST',
    url: `/v1/jobs/${job.id}/fail`,
    headers: auth(key),
    payload: { leaseId: job.leaseId, ...payload },
  });

async function workerInfo(c: TestCoordinator, ownerKey: string, workerId: string) {
  const list = (await c.app.inject({ url: '/v1/workers', headers: auth(ownerKey) })).json().items as {
    id: string;
    jobsFailed: number;
    jobsExcused: number;
    online: boolean;
    pausedAt?: string;
  }[];
  return list.find((w) => w.id === workerId)!;
}

async function workerIdOf(c: TestCoordinator, workerKey: string): Promise<string> {
  return (await c.app.inject({ url: '/v1/workers/me/why-idle', headers: auth(workerKey) })).json().workerId;
}

for (const dialect of testDialects()) {
  describe(`fair to donors (${dialect})`, () => {
    let c: TestCoordinator;
    let t = Date.now();
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        clock: { now: () => t },
        env: { ...ENV, CREDITS_WORKER_REWARD: '6400' },
      });
    });
    after(() => c.shutdown());
    const get = (url: string, key: string) => c.app.inject({ url, headers: auth(key) });

    test('failures because of the request never count; the worker’s own do', async () => {
      const key = await registerWorker(c, c.userKey, 'classes');
      const id = await workerIdOf(c, key);
      for (let i = 0; i < 3; i++)
        assert.equal((await submit(c, c.userKey, { model: 'fc', seed: i })).statusCode, 201);

      const bad = await popJob(c, key, ['fc']);
      const request = await fail(c, key, bad, {
        reason: 'width not supported by this pipeline',
        failureClass: 'request',
      });
      assert.equal(request.statusCode, 200);
      // A request that cannot succeed fails at once for everyone (and is refunded), whatever "retryable" said.
      assert.equal(request.json().state, 'failed');

      const mismatch = await popJob(c, key, ['fc']);
      const res = await fail(c, key, mismatch, {
        reason: 'my copy of fc is an SD2 checkpoint',
        failureClass: 'model_mismatch',
      });
      assert.equal(res.json().state, 'queued', 'another worker may serve it');

      const own = await popJob(c, key, ['fc']);
      assert.equal((await fail(c, key, own, { reason: 'CUDA out of memory' })).json().state, 'queued');

      const info = await workerInfo(c, c.userKey, id);
      assert.equal(info.jobsFailed, 1, 'only the out-of-memory failure counts');
      assert.equal(info.jobsExcused, 2);
      const incidents = (await get(`/v1/workers/${id}/incidents`, c.userKey)).json();
      assert.equal(incidents.counted, 1);
      assert.equal(incidents.excused, 2);
      assert.deepEqual(
        incidents.items
          .map((i: { class: string; countsAgainstWorker: boolean }) => [i.class, i.countsAgainstWorker])
          .sort(),
        [
          ['model_mismatch', false],
          ['request', false],
          ['worker', true],
        ],
      );
      // The worker reads the same record with its own key.
      assert.equal((await get('/v1/workers/me/incidents', key)).json().items.length, 3);
      const unknown = await fail(c, key, await popJob(c, key, ['fc']), {
        reason: 'x',
        failureClass: 'cosmic_rays',
      });
      assert.equal(unknown.statusCode, 400);
    });

    test('pause: the worker keeps its registration, takes nothing, stays online, and is not penalised', async () => {
      const key = await registerWorker(c, c.userKey, 'pausable');
      const id = await workerIdOf(c, key);
      const paused = await c.app.inject({ method: 'POST', url: '/v1/workers/me/pause', headers: auth(key) });
      assert.equal(paused.statusCode, 200);
      assert.equal(paused.json().paused, true);
      assert.equal((await submit(c, c.userKey, { model: 'pz' })).statusCode, 201);

      const idle = await pop(c, key, { models: ['pz'] });
      assert.deepEqual(idle.json(), { job: null, paused: true });
      // A long-poll too: it finds the queued job refused to it, and waits out its poll paused.
      const waited = await pop(c, key, { models: ['pz'], waitSeconds: 1 });
      assert.deepEqual(waited.json(), { job: null, paused: true });
      const why = (await get('/v1/workers/me/why-idle', key)).json();
      assert.equal(why.state, 'paused');
      assert.match(why.reasons[0], /^Paused by its owner since .*Pausing costs nothing\.$/);
      const info = await workerInfo(c, c.userKey, id);
      assert.ok(info.pausedAt);
      assert.equal(info.online, true, 'its polls keep it online');

      // Nobody else can touch it; unknown ids do not exist.
      const stranger = await c.createUser();
      for (const url of [`/v1/workers/${id}/resume`, `/v1/workers/${id}/pause`, '/v1/workers/nope/resume']) {
        assert.equal(
          (await c.app.inject({ method: 'POST', url, headers: auth(stranger.key) })).statusCode,
          404,
        );
      }
      assert.equal((await get(`/v1/workers/${id}/why-idle`, stranger.key)).statusCode, 404);
      assert.equal((await get(`/v1/workers/${id}/receipts`, stranger.key)).statusCode, 404);
      // A worker key cannot use the owner's routes, nor a user key the worker's.
      assert.equal(
        (await c.app.inject({ method: 'POST', url: `/v1/workers/${id}/resume`, headers: auth(key) }))
          .statusCode,
        403,
      );
      assert.equal(
        (await c.app.inject({ method: 'POST', url: '/v1/workers/me/resume', headers: auth(c.userKey) }))
          .statusCode,
        403,
      );

      // The owner resumes it (the web app's switch): the next poll gets the job.
      const resumed = await c.app.inject({
        method: 'POST',
        url: `/v1/workers/${id}/resume`,
        headers: auth(c.userKey),
      });
      assert.equal(resumed.json().paused, false);
      assert.ok((await pop(c, key, { models: ['pz'] })).json().job);
      const after = await workerInfo(c, c.userKey, id);
      assert.equal(after.jobsFailed, 0);
      assert.equal((await get(`/v1/workers/${id}/incidents`, c.userKey)).json().items.length, 0);
    });

    test('a long-poll that began before the pause takes no job that arrives after it', async () => {
      const key = await registerWorker(c, c.userKey, 'racing');
      const polling = c.app.inject({
        method: 'POST',
        url: '/v1/workers/pop',
        headers: auth(key),
        payload: { backend: 'test-pattern', models: ['race'], maxPixels: 4096, waitSeconds: 1 },
      });
      // Wait until the poll is registered as a waiter: it began before the pause and the job.
      while (c.services.leases.waiters.size === 0) await new Promise((r) => setTimeout(r, 5));
      await c.app.inject({ method: 'POST', url: '/v1/workers/me/pause', headers: auth(key) });
      assert.equal((await submit(c, c.userKey, { model: 'race' })).statusCode, 201);
      assert.equal((await polling).json().job, null);
      await c.app.inject({ method: 'POST', url: '/v1/workers/me/resume', headers: auth(key) });
      assert.ok((await pop(c, key, { models: ['race'] })).json().job);
    });

    test('every finished job leaves a receipt of what it earned, from the ledger', async () => {
      const key = await registerWorker(c, c.userKey, 'earner');
      const id = await workerIdOf(c, key);
      assert.equal((await submit(c, c.userKey, { model: 'rc', n: 2 })).statusCode, 201);
      const results: { jobId: string; receipt: { credits: number; held?: boolean; transferId?: string } }[] =
        [];
      for (let i = 0; i < 2; i++) {
        const job = await popJob(c, key, ['rc']);
        t += 1000;
        const done = await upload(c, key, job.id, job.leaseId, await solidPng(64, 64, 90 + i));
        assert.equal(done.statusCode, 200, done.body);
        results.push(done.json());
      }
      // 6400 credits for 512×512 × 25 steps, scaled to 64×64 × 10 steps: 40.
      for (const r of results) assert.equal(r.receipt.credits, 40);
      const receipts = (await get(`/v1/workers/${id}/receipts`, c.userKey)).json();
      assert.equal(receipts.items.length, 2);
      assert.equal(receipts.totalCredits, 80);
      for (const item of receipts.items) {
        const result = results.find((r) => r.jobId === item.jobId)!;
        assert.ok(result, 'one receipt per finished job');
        assert.equal(item.credits, 40);
        assert.equal(item.transferId, result.receipt.transferId);
        assert.equal(item.status, result.receipt.held ? 'held' : 'paid');
        assert.equal(item.width, 64);
        assert.equal(item.steps, 10);
      }
      const page = (await get(`/v1/workers/me/receipts?limit=1`, key)).json();
      assert.equal(page.items.length, 1);
      const next = (await get(`/v1/workers/me/receipts?limit=1&cursor=${page.nextCursor}`, key)).json();
      assert.notEqual(next.items[0].jobId, page.items[0].jobId);
      assert.equal((await get('/v1/workers/me/receipts?cursor=nonsense', key)).statusCode, 400);
      assert.equal((await get('/v1/workers/me/receipts?limit=1000', key)).statusCode, 400);
      // The measured speed: 1 s for 64×64 × 10 steps (0.041 megapixel-steps).
      const info = (await c.app.inject({ url: '/v1/workers', headers: auth(c.userKey) }))
        .json()
        .items.find((w: { id: string }) => w.id === id);
      assert.ok(Math.abs(info.msPerMegapixelStep - 1000 / 0.04096) < 1e-6, String(info.msPerMegapixelStep));
    });
  });

  describe(`why a worker gets no jobs (${dialect})`, () => {
    test('it names its state, its filters and what is waiting, by model and size', async () => {
      const c = await startTestCoordinator({ dialect, env: ENV });
      try {
        const key = await registerWorker(c, c.userKey, 'picky');
        const why = async () => {
          const res = await c.app.inject({ url: '/v1/workers/me/why-idle', headers: auth(key) });
          assert.equal(res.statusCode, 200, res.body);
          return res.json();
        };
        let w = await why();
        assert.equal(w.state, 'offline');
        assert.match(w.reasons[0], /never asked for a job/);
        await pop(c, key, { models: ['small-model'], maxPixels: 4096 });
        w = await why();
        assert.equal(w.state, 'active');
        assert.deepEqual(w.reasons, ['Nothing is waiting: no requests are queued for any model.']);

        await submit(c, c.userKey, { model: 'big-model', n: 2 });
        await submit(c, c.userKey, { model: 'small-model', width: 128, height: 128 });
        await submit(c, c.userKey, { model: 'small-model', maxSecondsPerImage: 30 });
        w = await why();
        assert.equal(w.queuedTotal, 4);
        assert.deepEqual(w.filters, { models: ['small-model'], maxPixels: 4096 });
        assert.deepEqual(w.reasons, [
          '2 queued jobs need models this worker does not serve: big-model (2).',
          '1 queued jobs are larger than its maxPixels (4096).',
          '1 queued jobs accept only workers with a measured speed; this worker gets one after its first finished job.',
        ]);
        assert.deepEqual(w.demand[0], {
          model: 'big-model',
          pixels: 4096,
          queued: 2,
          servable: false,
          why: 'needs model big-model, which this worker does not serve',
        });
        assert.ok(w.demand.every((g: { servable: boolean }) => !g.servable));

        await submit(c, c.userKey, { model: 'small-model' });
        w = await why();
        assert.equal(w.reasons.at(-1), '1 queued jobs fit this worker; it gets one on its next poll.');
        await pop(c, key, { models: ['small-model'], maxPixels: 4096 });
        w = await why();
        assert.equal(w.idle, false);
        assert.ok(w.reasons.includes('It is working on a job now.'));
      } finally {
        await c.shutdown();
      }
    });
  });

  describe(`why-idle shows the verification side's standing (${dialect})`, () => {
    test('a worker put on probation for blank results is told so, with the reason', async () => {
      const c = await startTestCoordinator({
        dialect,
        env: { TRUST_VERIFY: 'full', TRUST_PROBATION_STRIKES: '2' },
      });
      try {
        const key = await registerWorker(c, c.userKey, 'lazy');
        for (let i = 0; i < 2; i++) {
          assert.equal((await submit(c, c.userKey, { model: 'blank', seed: i })).statusCode, 201);
          const job = await popJob(c, key, ['blank']);
          // A one-colour image: verification refuses it and gives the worker a strike.
          const res = await upload(c, key, job.id, job.leaseId, await solidPng(64, 64, i));
          assert.equal(res.json().type, 'result_rejected', res.body);
        }
        const why = (await c.app.inject({ url: '/v1/workers/me/why-idle', headers: auth(key) })).json();
        assert.ok(
          why.reasons.some((r: string) => r.startsWith('On probation (its results are double-checked): ')),
          JSON.stringify(why.reasons),
        );
      } finally {
        await c.shutdown();
      }
    });
  });

  describe(`a coordinator restart mid-job (${dialect})`, () => {
    test('the lease that ran out while the coordinator was down never counts; one lost while it is up does', async () => {
      let t = Date.now();
      const clock = { now: () => t };
      const database = await createTestDatabase(dialect);
      const dataDir = tempDir();
      const a = await startTestCoordinator({ dialect, database, dataDir, clock, env: ENV });
      const key = await registerWorker(a, a.userKey, 'survivor');
      const id = await workerIdOf(a, key);
      const submitted = await submit(a, a.userKey, { model: 'rs' });
      const generationId = submitted.json().id as string;
      await popJob(a, key, ['rs']);
      await a.shutdown();

      // Down for ten minutes: the 60-second lease ran out meanwhile.
      t += 10 * 60_000;
      const b = await startTestCoordinator({ dialect, database, dataDir, clock, env: ENV });
      try {
        await b.services.leases.expire();
        const image = (
          await b.app.inject({ url: `/v1/generations/${generationId}`, headers: auth(b.userKey) })
        ).json().images[0];
        assert.equal(image.state, 'queued');
        assert.equal(image.attempts, 0, 'the attempt is given back');
        let incidents = (await b.app.inject({ url: '/v1/workers/me/incidents', headers: auth(key) })).json();
        assert.equal(incidents.items[0].class, 'coordinator_outage');
        assert.equal(incidents.items[0].countsAgainstWorker, false);
        let info = await workerInfo(b, b.userKey, id);
        assert.equal(info.jobsFailed, 0);
        assert.equal(info.jobsExcused, 1);

        // Later, with the coordinator up, the worker vanishes mid-job: that lease counts.
        t += 2 * 60_000;
        await popJob(b, key, ['rs']);
        t += 2 * 60_000;
        await b.services.leases.expire();
        incidents = (await b.app.inject({ url: '/v1/workers/me/incidents', headers: auth(key) })).json();
        assert.equal(incidents.items[0].class, 'lease_expired');
        assert.equal(incidents.items[0].countsAgainstWorker, true);
        assert.equal(incidents.counted, 1);
        assert.equal(incidents.excused, 1);
        info = await workerInfo(b, b.userKey, id);
        assert.equal(info.jobsExcused, 1);
      } finally {
        await b.shutdown();
        await database.drop();
      }
    });
  });
}
