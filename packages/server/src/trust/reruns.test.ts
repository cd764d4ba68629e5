// What happens to the requester and the ledger when a worker is found bad, through HTTP on both databases:
// its withdrawn results' jobs are queued again (same parameters and seed) and done by other workers without
// charging the requester twice; a re-run that cannot be done is refunded; what the bad worker's results
// had already paid its owner is clawed back, down to a zero balance (the platform absorbs the rest).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import {
  Donor,
  makeTrusted,
  startCreditedTrustCoordinator,
  submitJobs,
  suspendWithBlanks,
  type Assignment,
} from './testing.js';
import { Reruns } from './reruns.js';

// 64×64 × 25 steps: an image costs 16 credits and earns its worker 8 (see replication.test.ts).
const PRICE = 16;
const EARNED = 8;

for (const dialect of testDialects()) {
  describe(`re-runs and claw-back after a worker is found bad (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startCreditedTrustCoordinator(dialect));
    });
    after(() => c.shutdown());

    const fresh = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
    const balance = async (key: string) =>
      (await c.app.inject({ url: '/v1/me/credits', headers: auth(key) })).json().balance as number;
    const generation = async (id: string) =>
      (await c.app.inject({ url: `/v1/generations/${id}`, headers: auth(c.userKey) })).json();
    const books = async () =>
      (await c.app.inject({ url: '/v1/admin/credits/books', headers: auth(c.adminKey) })).json();
    const take = async (donor: Donor, model: string): Promise<Assignment> => {
      const job = await donor.pop([model]);
      assert.ok(job, 'a job for this donor');
      clock.advance(2000);
      return job;
    };
    const submit = async (model: string, seed: number) => {
      const res = await submitJobs(c, { model, seed, steps: 25 });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string };
    };

    test('a trusted worker turns bad: its unverified jobs are re-run elsewhere at no extra cost, and what it was paid is clawed back down to zero', async () => {
      const bad = await Donor.create(c);
      await makeTrusted(c, clock, bad, { model: fresh('record'), seedBase: 500 });
      const model = fresh('m');
      const generations = [await submit(model, 601), await submit(model, 602)];
      const original: Assignment[] = [];
      for (let i = 0; i < 2; i++) {
        const job = await take(bad, model);
        assert.equal((await bad.deliver(job)).statusCode, 200);
        original.push(job);
      }
      assert.deepEqual(
        (await Promise.all(generations.map(async (g) => (await generation(g.id)).images[0].state))).sort(),
        ['done', 'done'],
      );

      // The owner spends most of what the worker earned before it is found bad.
      const spendModel = fresh('spend');
      while ((await balance(bad.userKey)) >= PRICE) {
        const res = await submitJobs(c, { model: spendModel, steps: 25 }, bad.userKey);
        assert.equal(res.statusCode, 201, res.body);
      }
      const left = await balance(bad.userKey);
      assert.ok(left < 2 * EARNED, `the owner kept ${left}, less than the 16 at stake`);

      // The requester's event streams hear that the finished images run again, and why.
      const heard = new Map<string, unknown[]>(generations.map((g) => [g.id, []]));
      const unsubscribe = generations.map((g) =>
        c.services.bus.onGeneration(g.id, (event) => heard.get(g.id)!.push(event)),
      );
      await suspendWithBlanks(c, clock, bad, fresh('blank'));
      const requeued = {
        type: 'requeued',
        index: 0,
        reason: 'Queued again: the first result was withdrawn (its worker was suspended).',
      };
      // On PostgreSQL the events travel by NOTIFY: wait for them, a bounded while.
      for (let waited = 0; [...heard.values()].some((e) => e.length === 0) && waited < 5000; waited += 20)
        await new Promise((r) => setTimeout(r, 20));
      for (const f of unsubscribe) f();
      for (const g of generations) assert.deepEqual(heard.get(g.id), [requeued], g.id);
      const requesterBefore = await balance(c.userKey);
      assert.equal(await balance(bad.userKey), 0, 'clawed back down to zero, never below');
      const history = (
        await c.app.inject({ url: '/v1/me/credits/history', headers: auth(bad.userKey) })
      ).json();
      const reversal = history.items.find((m: { kind: string }) => m.kind === 'earning_reversal');
      assert.ok(reversal, JSON.stringify(history.items));
      assert.equal(reversal.amount, -left);
      assert.match(
        reversal.memo,
        new RegExp(`${left} of the ${2 * EARNED} credits .* the platform absorbs them`),
      );
      const withdrawn = (await bad.reputation())
        .json()
        .recentEvents.find((e: { kind: string }) => e.kind === 'withdrawn');
      assert.match(withdrawn.detail, /2 unverified images were withdrawn .* and 2 of them queued again/);
      assert.match(withdrawn.detail, new RegExp(`${left} of the ${2 * EARNED} credits`));

      // Back in the queue, out of sight until redone; another worker gets the same job and seed.
      for (const g of generations) assert.equal((await generation(g.id)).images[0].state, 'queued');
      const honest = await Donor.create(c);
      const redone: string[] = [];
      for (let i = 0; i < 2; i++) {
        const job = await take(honest, model);
        const first = original.find((o) => o.id === job.id);
        assert.ok(first, `the re-run is the same job (${job.id})`);
        assert.deepEqual(job.params, first.params, 'same parameters, same seed');
        const delivered = await honest.deliver(job);
        assert.equal(delivered.statusCode, 200);
        // Paid under the re-run's own key (earn:<job>:r1), and the worker's receipt says so.
        const { receipt } = delivered.json();
        assert.deepEqual([receipt.credits, receipt.held], [EARNED, true]);
        redone.push(job.id);
      }
      assert.deepEqual(redone.sort(), original.map((o) => o.id).sort());
      for (const g of generations) assert.equal((await generation(g.id)).images[0].state, 'done');
      assert.equal(await balance(c.userKey), requesterBefore, 'the requester is not charged twice');
      assert.equal((await honest.reputation()).json().heldCredits, 2 * EARNED, 'the re-run worker is paid');
      const b = await books();
      assert.equal(b.balanced, true, JSON.stringify(b.problems));
    });

    test('a re-run that cannot be done is refunded to the requester once', async () => {
      const bad = await Donor.create(c);
      const model = fresh('m');
      const g = await submit(model, 701);
      const job = await take(bad, model);
      assert.equal((await bad.deliver(job)).statusCode, 200);
      assert.equal(
        (await bad.reputation()).json().heldCredits,
        EARNED,
        'a new worker’s earning waits in its held account',
      );

      await suspendWithBlanks(c, clock, bad, fresh('blank'));
      const requesterBefore = await balance(c.userKey);
      assert.equal((await generation(g.id)).images[0].state, 'queued');
      const other = await Donor.create(c);
      const rerun = await take(other, model);
      assert.equal(rerun.id, job.id);
      const failed = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${rerun.id}/fail`,
        headers: auth(other.key),
        payload: { leaseId: rerun.leaseId, reason: 'the model cannot draw this', failureClass: 'request' },
      });
      assert.equal(failed.statusCode, 200, failed.body);
      assert.equal(failed.json().state, 'failed');
      assert.equal(await balance(c.userKey), requesterBefore + PRICE, 'refunded once');
      assert.equal(await balance(bad.userKey), 0, 'held earnings are reversed, not paid');
      const b = await books();
      assert.equal(b.balanced, true, JSON.stringify(b.problems));
    });

    test('a re-run is announced once its transaction committed, never when it rolled back', async () => {
      const donor = await Donor.create(c);
      const model = fresh('m');
      await submit(model, 801);
      const job = await take(donor, model);
      assert.equal((await donor.deliver(job)).statusCode, 200);
      const db = c.services.database.db;
      const reruns = new Reruns(dialect);
      const queue = (trx: typeof db) =>
        reruns.queue(trx, { jobIds: [job.id], reason: 'test', now: clock.now() });
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          assert.equal(await queue(trx), 1);
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
      // Not visible: held back for a later announcement (its transaction might still commit) …
      assert.deepEqual(await reruns.visible(db, reruns.drain().images, clock.now()), []);
      const held = reruns.drain().images;
      assert.deepEqual(
        held.map((i) => i.jobId),
        [job.id],
      );
      // … and dropped once it has waited long enough.
      assert.deepEqual(await reruns.visible(db, held, clock.now() + 30_000), []);
      assert.deepEqual(reruns.drain().images, []);
      if (dialect === 'postgres') {
        // Another connection's transaction that has queued it but not committed yet: held back …
        let commit!: () => void;
        const committing = new Promise<void>((resolve) => (commit = resolve));
        let queued!: () => void;
        const inside = new Promise<void>((resolve) => (queued = resolve));
        const transaction = db.transaction().execute(async (trx) => {
          await queue(trx);
          queued();
          await committing;
        });
        await inside;
        assert.deepEqual(await reruns.visible(db, reruns.drain().images, clock.now()), []);
        commit();
        await transaction;
      } else {
        await db.transaction().execute((trx) => queue(trx));
      }
      // … and announced once committed.
      assert.deepEqual(
        (await reruns.visible(db, reruns.drain().images, clock.now())).map((i) => i.jobId),
        [job.id],
      );
    });
  });
}
