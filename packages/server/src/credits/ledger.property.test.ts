// Property test: random interleavings of everything that moves credits, driven through HTTP (and the
// exported award API), with retries under the same Idempotency-Key and concurrent requests. After each
// run the books are checked: every transfer sums to zero, all accounts together sum to zero, no user
// balance is negative, escrow holds exactly the outstanding reservations, each job's share left escrow
// at most once and the right way, and each user's figures match what the run did (retries never
// double-count). Bounded runs on SQLite and PostgreSQL: CREDITS_PROPERTY_RUNS (default 25).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, upload } from '../test-support/worker-client.js';
import { trialBalance } from './books.js';

const RUNS = Number(process.env.CREDITS_PROPERTY_RUNS ?? 25);
const IMAGE_COST = 100;
const WORKER_REWARD = 50;
const AWARD = 3;
/** The pricing rule, written out independently of pricing.ts. */
const price = (base: number, pixels: number, steps: number) =>
  Math.ceil((base * pixels * steps) / (512 * 512 * 25));

type Who = 0 | 1;
type Op =
  | { op: 'grant'; who: Who; amount: number; key: string | null }
  | { op: 'award'; who: Who; ref: number }
  | { op: 'generate'; who: Who; n: number; side: number; steps: number; key: string | null }
  | { op: 'complete' }
  | { op: 'fail'; retryable: boolean }
  | { op: 'hold' }
  | { op: 'finishHeld'; pick: number; how: 'complete' | 'fail' }
  | { op: 'cancel'; who: Who; pick: number }
  | { op: 'expire' };
type Step = Op | { op: 'concurrently'; ops: Op[] } | { op: 'stage'; stage: 'open' | 'research' };

const who = fc.constantFrom<Who>(0, 1);
const key = (prefix: string) =>
  fc.option(fc.constantFrom(`${prefix}0`, `${prefix}1`, `${prefix}2`), { nil: null });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      who,
      amount: fc.integer({ min: 1, max: 60 }),
      key: key('g'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('award' as const), who, ref: fc.integer({ min: 0, max: 4 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('generate' as const),
      who,
      n: fc.integer({ min: 1, max: 4 }),
      side: fc.constantFrom(64, 128),
      steps: fc.integer({ min: 1, max: 50 }),
      key: key('k'),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('complete' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), retryable: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hold' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('finishHeld' as const),
      pick: fc.nat(),
      how: fc.constantFrom<'complete' | 'fail'>('complete', 'fail'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), who, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const) }) },
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: opArb },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('concurrently' as const),
      ops: fc.array(opArb, { minLength: 2, maxLength: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('stage' as const),
      stage: fc.constantFrom<'open' | 'research'>('open', 'research'),
    }),
  },
);

for (const dialect of testDialects()) {
  describe(`credits ledger properties (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let adminId: string;
    let run = 0;
    before(async () => {
      clock = new ManualClock();
      c = await startTestCoordinator({
        dialect,
        clock,
        env: {
          ACCESS_STAGE: 'open',
          CREDITS_IMAGE_COST: String(IMAGE_COST),
          CREDITS_WORKER_REWARD: String(WORKER_REWARD),
          MAX_ATTEMPTS: '2',
          LEASE_SECONDS: '30',
        },
        build: { reaperIntervalMs: 3_600_000 },
      });
      adminId = (
        await c.services.database.db
          .selectFrom('users')
          .select('id')
          .where('email', '=', 'admin@example.org')
          .executeTakeFirstOrThrow()
      ).id;
    });
    after(() => c.shutdown());

    test('the books balance after any interleaving of operations, retries and concurrent requests', async (t) => {
      const pngs = new Map<number, Buffer>();
      for (const side of [64, 128]) pngs.set(side, await solidPng(side, side, side));

      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 6, maxLength: 30, size: 'max' }), async (steps) => {
          run++;
          await c.services.accessStage.set(adminId, 'open');
          let stage: 'open' | 'research' = 'open';
          const users = [await c.createUser(), await c.createUser()];
          const donor = await c.createUser();
          const workerKey = await registerWorker(c, donor.key, `w${run}`);
          const model = `prop-${run}`;
          // What the run did, from the answers it got.
          const grants = users.map(() => new Map<string, number>()); // transferId → amount
          const awarded = users.map(() => new Set<number>());
          const generations = users.map(
            () => new Map<string, { charged: boolean; perImage: number; n: number }>(),
          );
          const held: { id: string; leaseId: string; side: number }[] = [];

          const expectStatus = (res: { statusCode: number; body: string }, allowed: number[], what: string) =>
            assert.ok(allowed.includes(res.statusCode), `${what}: ${res.statusCode} ${res.body}`);

          const popOne = async () => {
            const res = await pop(c, workerKey, { models: [model] });
            expectStatus(res, [200], 'pop');
            const job = res.json().job as { id: string; leaseId: string; params: { width: number } } | null;
            return job && { id: job.id, leaseId: job.leaseId, side: job.params.width };
          };
          const complete = async (job: { id: string; leaseId: string; side: number }) =>
            expectStatus(
              await upload(c, workerKey, job.id, job.leaseId, pngs.get(job.side)!),
              [200, 409],
              'upload',
            );
          const fail = async (job: { id: string; leaseId: string }, retryable: boolean) =>
            expectStatus(
              await c.app.inject({
                method: 'POST',
                url: `/v1/jobs/${job.id}/fail`,
                headers: auth(workerKey),
                payload: { leaseId: job.leaseId, reason: 'property', retryable },
              }),
              [200, 409],
              'fail',
            );

          const perform = async (o: Op): Promise<void> => {
            switch (o.op) {
              case 'grant': {
                const u = users[o.who]!;
                const res = await c.app.inject({
                  method: 'POST',
                  url: '/v1/admin/credits/grants',
                  headers: {
                    ...auth(c.adminKey),
                    ...(o.key ? { 'idempotency-key': `${run}-${o.key}` } : {}),
                  },
                  payload: { userId: u.id, amount: o.amount, memo: 'property' },
                });
                expectStatus(res, [201, 422], 'grant');
                if (res.statusCode === 201) {
                  const body = res.json();
                  const seen = grants[o.who]!.get(body.transferId);
                  assert.ok(seen === undefined || seen === body.amount, 'a replay answers the first grant');
                  grants[o.who]!.set(body.transferId, body.amount);
                }
                return;
              }
              case 'award': {
                const u = users[o.who]!;
                const r = await c.services.database.db.transaction().execute((trx) =>
                  c.services.credits.award(trx, {
                    userId: u.id,
                    amount: AWARD,
                    kind: 'annotation',
                    reference: { type: 'rating', id: `${u.id}-${o.ref}` },
                  }),
                );
                assert.ok(r.transferId);
                awarded[o.who]!.add(o.ref);
                return;
              }
              case 'generate': {
                const u = users[o.who]!;
                const res = await c.app.inject({
                  method: 'POST',
                  url: '/v1/generations',
                  headers: { ...auth(u.key), ...(o.key ? { 'idempotency-key': o.key } : {}) },
                  payload: { prompt: 'p', model, width: o.side, height: o.side, steps: o.steps, n: o.n },
                });
                expectStatus(res, stage === 'open' ? [201, 402, 422] : [201, 422], 'generate');
                if (res.statusCode === 201) {
                  const g = res.json();
                  const known = generations[o.who]!.get(g.id);
                  if (!known) {
                    const perImage = price(IMAGE_COST, g.params.width * g.params.height, g.params.steps);
                    generations[o.who]!.set(g.id, { charged: stage === 'open', perImage, n: g.n });
                  }
                }
                return;
              }
              case 'complete': {
                const job = await popOne();
                if (job) await complete(job);
                return;
              }
              case 'fail': {
                const job = await popOne();
                if (job) await fail(job, o.retryable);
                return;
              }
              case 'hold': {
                const job = await popOne();
                if (job) held.push(job);
                return;
              }
              case 'finishHeld': {
                if (held.length === 0) return;
                const [job] = held.splice(o.pick % held.length, 1);
                if (o.how === 'complete') await complete(job!);
                else await fail(job!, false);
                return;
              }
              case 'cancel': {
                const ids = [...generations[o.who]!.keys()];
                if (ids.length === 0) return;
                const res = await c.app.inject({
                  method: 'DELETE',
                  url: `/v1/generations/${ids[o.pick % ids.length]}`,
                  headers: auth(users[o.who]!.key),
                });
                expectStatus(res, [200], 'cancel');
                return;
              }
              case 'expire':
                clock.advance(31_000);
                await c.services.leases.expire();
                return;
            }
          };

          for (const s of steps) {
            if (s.op === 'concurrently') await Promise.all(s.ops.map(perform));
            else if (s.op === 'stage') {
              await c.services.accessStage.set(adminId, s.stage);
              stage = s.stage;
            } else await perform(s);
          }

          // The whole ledger, across every run so far.
          const books = await trialBalance(c.services.database.db);
          assert.deepEqual(books.problems, []);
          assert.equal(books.total, 0);
          assert.equal(books.balanced, true);

          // This run's users against what the run did.
          const db = c.services.database.db;
          for (const [i, u] of users.entries()) {
            const summary = (await c.app.inject({ url: '/v1/me/credits', headers: auth(u.key) })).json();
            const granted = [...grants[i]!.values()].reduce((a, b) => a + b, 0);
            assert.equal(summary.granted, granted, 'each grant counted once');
            assert.equal(summary.earnedFromAnnotations, AWARD * awarded[i]!.size, 'each award counted once');
            let reserved = 0;
            let spent = 0;
            let charged = 0;
            let refunded = 0;
            for (const [id, g] of generations[i]!) {
              if (!g.charged) continue;
              const jobs = await db
                .selectFrom('jobs')
                .select('state')
                .where('generation_id', '=', id)
                .execute();
              assert.equal(jobs.length, g.n);
              charged += g.perImage * g.n;
              for (const j of jobs) {
                if (j.state === 'queued' || j.state === 'leased') reserved += g.perImage;
                else if (j.state === 'done') spent += g.perImage;
                else refunded += g.perImage;
              }
            }
            assert.equal(summary.reserved, reserved, 'escrow holds the unfinished images');
            assert.equal(summary.spent, spent, 'finished images are spent');
            assert.equal(summary.balance, granted + AWARD * awarded[i]!.size - charged + refunded, 'balance');
            // The history lists every movement: its amounts add up to the summary.
            let cursor: string | undefined;
            let sumAmount = 0;
            let sumReserved = 0;
            do {
              const page = (
                await c.app.inject({
                  url: `/v1/me/credits/history?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
                  headers: auth(u.key),
                })
              ).json();
              for (const m of page.items) {
                sumAmount += m.amount;
                sumReserved += m.reserved;
              }
              cursor = page.nextCursor;
            } while (cursor);
            assert.equal(sumAmount, summary.balance, 'history adds up to the balance');
            assert.equal(sumReserved, summary.reserved, 'history adds up to the reserved amount');
          }
          // The donor earned for exactly the images their worker finished.
          const done = await db
            .selectFrom('jobs')
            .innerJoin('generations', 'generations.id', 'jobs.generation_id')
            .select(['jobs.pixels', 'generations.steps'])
            .where('jobs.model', '=', model)
            .where('jobs.state', '=', 'done')
            .execute();
          const earned = done.reduce((a, j) => a + price(WORKER_REWARD, j.pixels, j.steps), 0);
          const donorSummary = (
            await c.app.inject({ url: '/v1/me/credits', headers: auth(donor.key) })
          ).json();
          assert.equal(donorSummary.earnedFromWorkers, earned);
          assert.equal(donorSummary.balance, earned);
        }),
        { numRuns: RUNS },
      );
      await c.services.accessStage.set(adminId, 'open');
      // What the runs exercised, for whoever reads the output.
      const db = c.services.database.db;
      const kinds = await db
        .selectFrom('credit_transfers')
        .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('kind')
        .execute();
      const states = await db
        .selectFrom('jobs')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('state')
        .execute();
      t.diagnostic(`transfers: ${kinds.map((k) => `${k.kind} ${k.n}`).join(', ')}`);
      t.diagnostic(`jobs: ${states.map((k) => `${k.state} ${k.n}`).join(', ')}`);
    });
  });
}
