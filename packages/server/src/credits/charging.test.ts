// Credits wired into the queue, through HTTP on SQLite and PostgreSQL: a generation reserves its cost
// (open stage) or is free (research stage); a finished image settles its share and pays the worker's
// owner; a failed, expired or cancelled image refunds it; concurrent spends never overdraw.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import {
  auth,
  grantCredits,
  solidPng,
  startTestCoordinator,
  type TestCoordinator,
} from '../test-support/coordinator.js';
import { pop, registerWorker, upload } from '../test-support/worker-client.js';

// 64×64 × 25 steps is 1/64 of the reference image: 1000 × 1/64 = 15.6 → 16 credits an image, and the
// worker's owner earns 500 × 1/64 = 7.8 → 8.
const PRICE = 16;
const EARNED = 8;
const ENV = {
  ACCESS_STAGE: 'open',
  CREDITS_IMAGE_COST: '1000',
  CREDITS_WORKER_REWARD: '500',
  MAX_ATTEMPTS: '2',
  LEASE_SECONDS: '30',
};

for (const dialect of testDialects()) {
  describe(`credits and the queue (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let donor: { id: string; key: string };
    let workerKey: string;
    let model = 0;
    before(async () => {
      clock = new ManualClock();
      // The reaper is driven by hand (leases.expire()) so expiry happens exactly when a test says.
      c = await startTestCoordinator({ dialect, clock, env: ENV, build: { reaperIntervalMs: 3_600_000 } });
      donor = await c.createUser();
      workerKey = await registerWorker(c, donor.key, 'donor-gpu');
    });
    after(() => c.shutdown());

    const grant = (userId: string, amount: number) => grantCredits(c, userId, amount);
    const credits = async (key: string) =>
      (await c.app.inject({ url: '/v1/me/credits', headers: auth(key) })).json();
    /** A fresh model name per test, so pops only see that test's jobs. */
    const generate = (key: string, body: object = {}, headers: Record<string, string> = {}) =>
      c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: { ...auth(key), ...headers },
        payload: { prompt: 'a test', model: `m${model}`, width: 64, height: 64, steps: 25, ...body },
      });
    const nextModel = () => `m${++model}`;
    const popJob = async () => {
      const res = await pop(c, workerKey, { models: [`m${model}`] });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().job as { id: string; leaseId: string };
    };
    const fail = (job: { id: string; leaseId: string }, retryable: boolean) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${job.id}/fail`,
        headers: auth(workerKey),
        payload: { leaseId: job.leaseId, reason: 'out of memory', retryable },
      });

    test('open stage: a short balance gets 402 with the cost, the balance and how to earn; nothing is queued', async () => {
      nextModel();
      const u = await c.createUser();
      await grant(u.id, PRICE * 2 - 1);
      const res = await generate(u.key, { n: 2 });
      assert.equal(res.statusCode, 402);
      const problem = res.json();
      assert.equal(problem.type, 'insufficient_credits');
      assert.match(problem.detail, new RegExp(`costs ${PRICE * 2} credits \\(2 × ${PRICE}\\)`));
      assert.match(problem.detail, new RegExp(`balance is ${PRICE * 2 - 1}`));
      assert.match(problem.detail, /annotation/);
      const list = await c.app.inject({ url: '/v1/generations', headers: auth(u.key) });
      assert.equal(list.json().items.length, 0);
      assert.equal(await popJob(), null);
      assert.equal((await credits(u.key)).balance, PRICE * 2 - 1);
    });

    test('reserve → settle and pay the worker’s owner → refund on failure and on cancel', async () => {
      nextModel();
      const u = await c.createUser();
      await grant(u.id, 100);
      const before = await credits(donor.key);
      const created = await generate(u.key, { n: 4 });
      assert.equal(created.statusCode, 201, created.body);
      const g = created.json();
      let s = await credits(u.key);
      assert.equal(s.balance, 100 - 4 * PRICE);
      assert.equal(s.reserved, 4 * PRICE);

      // Image 0 finishes: its share is spent, the donor earns.
      const j0 = await popJob();
      assert.equal(
        (await upload(c, workerKey, j0.id, j0.leaseId, await solidPng(64, 64, 1))).statusCode,
        200,
      );
      s = await credits(u.key);
      assert.equal(s.reserved, 3 * PRICE);
      assert.equal(s.spent, PRICE);
      const after1 = await credits(donor.key);
      assert.equal(after1.earnedFromWorkers - before.earnedFromWorkers, EARNED);
      assert.equal(after1.balance - before.balance, EARNED);

      // Image 1 fails but may be retried: still reserved. Then it fails for good: refunded.
      const j1 = await popJob();
      assert.equal((await fail(j1, true)).json().state, 'queued');
      assert.equal((await credits(u.key)).reserved, 3 * PRICE);
      const j1again = await popJob();
      assert.equal(j1again.id, j1.id);
      assert.equal((await fail(j1again, true)).json().state, 'failed');
      s = await credits(u.key);
      assert.equal(s.reserved, 2 * PRICE);
      assert.equal(s.balance, 100 - 3 * PRICE);

      // Image 2 is leased, image 3 queued; cancelling refunds both.
      const j2 = await popJob();
      const cancel = await c.app.inject({
        method: 'DELETE',
        url: `/v1/generations/${g.id}`,
        headers: auth(u.key),
      });
      assert.equal(cancel.statusCode, 200);
      s = await credits(u.key);
      assert.deepEqual(
        { balance: s.balance, reserved: s.reserved, spent: s.spent },
        { balance: 100 - PRICE, reserved: 0, spent: PRICE },
      );
      // The cancelled job's late upload is refused and moves nothing.
      assert.equal(
        (await upload(c, workerKey, j2.id, j2.leaseId, await solidPng(64, 64, 2))).statusCode,
        409,
      );
      assert.equal((await credits(donor.key)).balance, after1.balance);
      // A second cancel has nothing left to refund.
      await c.app.inject({ method: 'DELETE', url: `/v1/generations/${g.id}`, headers: auth(u.key) });
      assert.equal((await credits(u.key)).balance, 100 - PRICE);

      const history = (await c.app.inject({ url: '/v1/me/credits/history', headers: auth(u.key) })).json();
      const kinds = history.items.map((m: { kind: string }) => m.kind);
      assert.deepEqual(kinds.filter((k: string) => k === 'refund').length, 3);
      assert.deepEqual(kinds.filter((k: string) => k === 'settle').length, 1);
      const reserve = history.items.find((m: { kind: string }) => m.kind === 'reserve');
      assert.deepEqual(
        { amount: reserve.amount, reserved: reserve.reserved, ref: reserve.referenceId },
        { amount: -4 * PRICE, reserved: 4 * PRICE, ref: g.id },
      );
      const donorHistory = (
        await c.app.inject({ url: '/v1/me/credits/history', headers: auth(donor.key) })
      ).json();
      const earning = donorHistory.items.find((m: { kind: string }) => m.kind === 'worker_earning');
      // The donor sees their own worker, never the requester's generation.
      assert.equal(earning.referenceType, 'worker');
      assert.notEqual(earning.referenceId, g.id);
    });

    test('a job whose lease expires on its last attempt is refunded with the expiry', async () => {
      nextModel();
      const u = await c.createUser();
      await grant(u.id, PRICE);
      assert.equal((await generate(u.key)).statusCode, 201);
      for (let attempt = 1; attempt <= 2; attempt++) {
        await popJob();
        clock.advance(31_000);
        assert.equal(await c.services.leases.expire(), 1);
      }
      const s = await credits(u.key);
      assert.deepEqual({ balance: s.balance, reserved: s.reserved }, { balance: PRICE, reserved: 0 });
    });

    test('a retried request (same Idempotency-Key) is charged once, even when the retries race', async () => {
      nextModel();
      const u = await c.createUser();
      await grant(u.id, 10 * PRICE);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => generate(u.key, { n: 2 }, { 'idempotency-key': 'once' })),
      );
      for (const a of answers) assert.equal(a.statusCode, 201, a.body);
      assert.equal(new Set(answers.map((a) => a.json().id)).size, 1);
      const s = await credits(u.key);
      assert.deepEqual(
        { balance: s.balance, reserved: s.reserved },
        { balance: 8 * PRICE, reserved: 2 * PRICE },
      );
    });

    test('concurrent generations never overdraw: exactly as many succeed as the balance covers', async () => {
      nextModel();
      const u = await c.createUser();
      await grant(u.id, 3 * PRICE);
      const answers = await Promise.all(Array.from({ length: 8 }, () => generate(u.key)));
      const codes = answers.map((a) => a.statusCode).sort();
      assert.deepEqual(codes, [201, 201, 201, 402, 402, 402, 402, 402]);
      const s = await credits(u.key);
      assert.deepEqual({ balance: s.balance, reserved: s.reserved }, { balance: 0, reserved: 3 * PRICE });
    });

    test('research stage: approved researchers generate free; the worker’s owner is still paid', async () => {
      nextModel();
      const admin = await c.services.database.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'admin@example.org')
        .executeTakeFirstOrThrow();
      await c.services.accessStage.set(admin.id, 'research');
      try {
        const u = await c.createUser();
        const created = await generate(u.key, { n: 2 });
        assert.equal(created.statusCode, 201, created.body);
        const quote = (await c.app.inject({ url: '/v1/credits/quote', headers: auth(u.key) })).json();
        assert.equal(quote.charged, false);
        const before = await credits(donor.key);
        const j = await popJob();
        // The stage opens while the job runs: it was free when asked for, so nothing is settled now.
        await c.services.accessStage.set(admin.id, 'open');
        assert.equal(
          (await upload(c, workerKey, j.id, j.leaseId, await solidPng(64, 64, 3))).statusCode,
          200,
        );
        const s = await credits(u.key);
        assert.deepEqual(
          { balance: s.balance, reserved: s.reserved, spent: s.spent },
          { balance: 0, reserved: 0, spent: 0 },
        );
        assert.equal((await credits(donor.key)).earnedFromWorkers - before.earnedFromWorkers, EARNED);
        const k = await popJob();
        assert.equal((await fail(k, false)).json().state, 'failed');
        assert.equal((await credits(u.key)).balance, 0);
      } finally {
        await c.services.accessStage.set(admin.id, 'open');
      }
    });
  });
}
