// Donors through HTTP on a real coordinator: the public leaderboard (ranking by accepted work, names only
// where chosen, pseudonyms otherwise, never emails), the donor's profile, their workers' current jobs and
// hourly throughput, and the live figures on /v1/stats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { heartbeat, pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

const HOUR = 3_600_000;

/** Submits one image as the coordinator's user and has the worker make it. */
async function makeImage(c: TestCoordinator, workerKey: string, size: number, steps: number) {
  const res = await submit(c, c.userKey, { width: size, height: size, steps });
  assert.equal(res.statusCode, 201, res.body);
  const job = (await pop(c, workerKey)).json().job as { id: string; leaseId: string };
  assert.ok(job);
  const done = await upload(c, workerKey, job.id, job.leaseId, await solidPng(size, size));
  assert.equal(done.statusCode, 200, done.body);
}

for (const dialect of testDialects()) {
  describe(`donors (${dialect})`, () => {
    let c: TestCoordinator;
    let t = Date.UTC(2026, 10, 1, 12);
    let alice: { id: string; key: string; email: string };
    let bob: { id: string; key: string; email: string };
    let aliceWorker: string;
    let bobWorker: string;
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        clock: { now: () => t },
        env: { TRUST_VERIFY: 'off', CREDITS_IMAGE_COST: '0', CREDITS_WORKER_REWARD: '6400' },
      });
      alice = await c.createUser();
      bob = await c.createUser();
      aliceWorker = await registerWorker(c, alice.key, 'alice-gpu');
      bobWorker = await registerWorker(c, bob.key, 'bob-gpu');
      // 40 days ago: Bob's one large image, outside the week and the month.
      t -= 40 * 24 * HOUR;
      await makeImage(c, bobWorker, 512, 50);
      t += 40 * 24 * HOUR - 2 * HOUR;
      // This week: Alice two small images in one hour, one in the next; Bob one medium image.
      await makeImage(c, aliceWorker, 256, 10);
      t += 60_000;
      await makeImage(c, aliceWorker, 256, 10);
      t += HOUR;
      await makeImage(c, aliceWorker, 256, 20);
      await makeImage(c, bobWorker, 128, 10);
      t += HOUR;
    });
    after(() => c.shutdown());

    const board = async (query: string) => {
      const res = await c.app.inject({ url: `/v1/donors/leaderboard${query}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as {
        period: string;
        items: {
          rank: number;
          name: string;
          pseudonymous: boolean;
          images: number;
          megapixelSteps: number;
          credits: number;
          workers: number;
        }[];
      };
    };

    test('the leaderboard is public, ranks by accepted megapixel-steps per period, and shows no emails', async () => {
      const week = await board('?period=week');
      assert.equal(week.period, 'week');
      assert.equal(week.items.length, 2);
      const [first, second] = week.items;
      // Alice: 256² × (10 + 10 + 20) = 2.62 Mpx-steps; Bob: 128² × 10 = 0.16.
      assert.deepEqual(
        {
          rank: first!.rank,
          images: first!.images,
          megapixelSteps: first!.megapixelSteps,
          workers: first!.workers,
        },
        { rank: 1, images: 3, megapixelSteps: 2.62, workers: 1 },
      );
      assert.deepEqual({ rank: second!.rank, images: second!.images }, { rank: 2, images: 1 });
      // Paid by pixels × steps relative to 512² × 25 steps at 6400 credits.
      assert.equal(first!.credits, 2560);
      assert.ok(first!.pseudonymous && /^Donor [A-Z2-9]{8}$/.test(first!.name), first!.name);
      assert.notEqual(first!.name, second!.name);
      const body = JSON.stringify(week);
      for (const secret of [alice.email, bob.email, alice.id, bob.id]) assert.ok(!body.includes(secret));

      // All time: Bob's old 512² × 50 image (13.1 Mpx-steps) puts him first.
      const all = await board('?period=all');
      assert.equal(all.items[0]!.name, second!.name);
      assert.equal(all.items[0]!.images, 2);
      assert.equal((await board('?period=month')).items[0]!.name, first!.name);
      // The default period is the week; a bad period is a 400 that names the field.
      assert.equal((await board('')).period, 'week');
      const bad = await c.app.inject({ url: '/v1/donors/leaderboard?period=year' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.headers['content-type'] as string, /problem\+json/);
    });

    test('a donor chooses a public name or to be hidden; the pseudonym is the default and stays stable', async () => {
      const url = '/v1/me/donor-profile';
      assert.equal((await c.app.inject({ url })).statusCode, 401);
      const initial = await c.app.inject({ url, headers: auth(alice.key) });
      assert.equal(initial.statusCode, 200);
      assert.equal(initial.json().listing, 'pseudonym');
      const pseudonym = initial.json().pseudonym as string;
      assert.equal((await board('?period=all&limit=5')).items.find((i) => i.name === pseudonym)?.images, 3);

      const put = (key: string, payload: object) =>
        c.app.inject({ method: 'PUT', url, headers: auth(key), payload });
      assert.equal((await put(alice.key, { listing: 'name' })).statusCode, 400);
      assert.equal((await put(alice.key, { listing: 'name', publicName: '<script>' })).statusCode, 400);
      assert.equal((await put(alice.key, { listing: 'name', publicName: 'x'.repeat(41) })).statusCode, 400);
      const named = await put(alice.key, { listing: 'name', publicName: 'Alices Lab' });
      assert.equal(named.statusCode, 200, named.body);
      assert.deepEqual(named.json(), { listing: 'name', publicName: 'Alices Lab', pseudonym });

      const week = await board('?period=week&limit=10');
      assert.deepEqual(
        week.items.map((i) => [i.name, i.pseudonymous]),
        [
          ['Alices Lab', false],
          [week.items[1]!.name, true],
        ],
      );

      const hidden = await put(bob.key, { listing: 'hidden' });
      assert.equal(hidden.statusCode, 200);
      const after = await board('?period=week&limit=11');
      assert.deepEqual(
        after.items.map((i) => [i.rank, i.name]),
        [[1, 'Alices Lab']],
      );
      // Back to a pseudonym: the same one as before.
      await put(alice.key, { listing: 'pseudonym' });
      assert.equal((await board('?period=week&limit=12')).items[0]!.name, pseudonym);
    });

    test('a donor sees each worker’s current job and its finished jobs per hour, and only their own', async () => {
      const unauth = await c.app.inject({ url: '/v1/workers/activity' });
      assert.equal(unauth.statusCode, 401);
      // A worker key is not a donor's key: 403.
      assert.equal(
        (await c.app.inject({ url: '/v1/workers/activity', headers: auth(aliceWorker) })).statusCode,
        403,
      );

      assert.equal((await submit(c, c.userKey, { width: 192, height: 128, steps: 30 })).statusCode, 201);
      const job = (await pop(c, aliceWorker)).json().job as { id: string; leaseId: string };
      assert.equal((await heartbeat(c, aliceWorker, job.id, job.leaseId, 7)).statusCode, 200);

      const res = await c.app.inject({ url: '/v1/workers/activity?days=7', headers: auth(alice.key) });
      assert.equal(res.statusCode, 200, res.body);
      const items = res.json().items as {
        currentJob?: { jobId: string; width: number; height: number; step: number; totalSteps: number };
        hours: { hour: string; jobs: number; megapixelSteps: number }[];
      }[];
      assert.equal(items.length, 1);
      const [mine] = items;
      assert.deepEqual(
        { ...mine!.currentJob, startedAt: undefined },
        {
          jobId: job.id,
          model: 'sd-1.5',
          width: 192,
          height: 128,
          step: 7,
          totalSteps: 10,
          startedAt: undefined,
        },
      );
      assert.deepEqual(
        mine!.hours.map((h) => [h.jobs, h.megapixelSteps]),
        [
          [2, 1.31],
          [1, 1.31],
        ],
      );
      assert.ok(mine!.hours.every((h) => h.hour.endsWith(':00:00.000Z')));
      // Bob's list holds only Bob's worker, idle; the 40-day-old image is outside a 7-day window.
      const bobs = (await c.app.inject({ url: '/v1/workers/activity', headers: auth(bob.key) })).json();
      assert.equal(bobs.items.length, 1);
      assert.equal(bobs.items[0].currentJob, undefined);
      assert.deepEqual(
        bobs.items[0].hours.map((h: { jobs: number }) => h.jobs),
        [1],
      );
      assert.equal(
        (await c.app.inject({ url: '/v1/workers/activity?days=31', headers: auth(bob.key) })).statusCode,
        400,
      );
    });

    test('/v1/stats counts ratings collected and datasets released', async () => {
      const res = await c.app.inject({ url: '/v1/stats' });
      assert.equal(res.statusCode, 200);
      const stats = res.json();
      assert.equal(stats.imagesGenerated, 5);
      assert.equal(stats.ratingsCollected, 0);
      assert.equal(stats.datasetsReleased, 0);
    });
  });
}
