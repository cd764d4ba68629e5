// Fair to donors, on the verification side, through HTTP on both databases: a coordinator restart in the
// middle of a job, a request no worker can fulfil, and a request whose honest output fails a check for
// everyone never count against the workers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { createTestDatabase, tempDir, testDialects, type TestDatabase } from '../test-support/databases.js';
import type { ManualClock } from '../clock.js';
import { Donor, solidImage, startTrustCoordinator, submitJobs } from './testing.js';

for (const dialect of testDialects()) {
  describe(`verification is fair to donors (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, { MAX_ATTEMPTS: '3' }));
    });
    after(() => c.shutdown());
    const newModel = () => `m-${randomBytes(4).toString('hex')}`;
    const state = async (d: Donor) => {
      const rep = (await d.reputation()).json();
      return { state: rep.state as string, strikes: rep.strikes as number };
    };
    const generation = async (id: string) =>
      (await c.app.inject({ url: `/v1/generations/${id}`, headers: auth(c.userKey) })).json();

    test('a coordinator restart in the middle of a job: the result delivered afterwards is accepted, no strike', async () => {
      const database: TestDatabase = await createTestDatabase(dialect);
      const dataDir = tempDir();
      const first = await startTrustCoordinator(dialect, {}, { database, dataDir });
      let stopped = false;
      try {
        const model = newModel();
        const donor = await Donor.create(first.c);
        await submitJobs(first.c, { model, seed: 7 });
        const job = await donor.pop([model]);
        assert.ok(job);
        first.clock.advance(3000);
        await first.c.shutdown();
        stopped = true;
        // Back on the same database, ten seconds later (well within the 60 s lease).
        first.clock.advance(10_000);
        const second = await startTrustCoordinator(dialect, {}, { database, dataDir, clock: first.clock });
        try {
          const again = donor.on(second.c);
          const delivered = await again.deliver(job);
          assert.equal(delivered.statusCode, 200, delivered.body);
          const rep = (await again.reputation()).json();
          assert.deepEqual(
            [rep.state, rep.strikes, rep.results.accepted, rep.results.rejected],
            ['new', 0, 1, 0],
          );
        } finally {
          await second.c.shutdown();
        }
      } finally {
        if (!stopped) await first.c.shutdown();
        await database.drop();
      }
    });

    test('a request no worker can fulfil fails without a strike, whoever reports it', async () => {
      const model = newModel();
      const donors = [await Donor.create(c), await Donor.create(c)];
      for (const [i, failureClass] of (['request', 'model_mismatch'] as const).entries()) {
        await submitJobs(c, { model, seed: 70 + i });
        const donor = donors[i]!;
        const job = await donor.pop([model]);
        assert.ok(job);
        const failed = await c.app.inject({
          method: 'POST',
          url: `/v1/jobs/${job.id}/fail`,
          headers: auth(donor.key),
          payload: { leaseId: job.leaseId, reason: 'cannot be done', failureClass },
        });
        assert.equal(failed.statusCode, 200, failed.body);
        assert.deepEqual(await state(donor), { state: 'new', strikes: 0 });
      }
    });

    test('workers of three accounts all returning a blank for one job: the request is the cause, nobody keeps a strike', async () => {
      const model = newModel();
      const g = (await submitJobs(c, { model, seed: 80, prompt: 'a pure black square' })).json();
      const donors = [await Donor.create(c), await Donor.create(c), await Donor.create(c)];
      for (const donor of donors) {
        const job = await donor.pop([model]);
        assert.ok(job);
        clock.advance(2000);
        assert.equal((await donor.upload(job, await solidImage(64, 64, 0))).statusCode, 422);
      }
      for (const donor of donors) assert.deepEqual(await state(donor), { state: 'new', strikes: 0 });
      const first = (await donors[0]!.reputation()).json();
      assert.ok(first.recentEvents.some((e: { kind: string }) => e.kind === 'forgiven'));
      const done = await generation(g.id);
      assert.equal(done.images[0].state, 'failed', 'the request failed for good (and was refunded)');
    });

    test('two accounts returning blanks for the same job do not excuse each other', async () => {
      const model = newModel();
      await submitJobs(c, { model, seed: 90 });
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      for (const donor of [a, b, a]) {
        const job = await donor.pop([model]);
        assert.ok(job);
        clock.advance(2000);
        assert.equal((await donor.upload(job, await solidImage(64, 64, 200))).statusCode, 422);
      }
      assert.deepEqual(await state(a), { state: 'probation', strikes: 2 });
      assert.deepEqual(await state(b), { state: 'new', strikes: 1 });
    });
  });
}
