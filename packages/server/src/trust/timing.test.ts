// The timing check against the hardware reference, through HTTP on both databases: a result much faster
// than trusted workers with the same GPU ever were is refused; other GPUs are held only to the floor.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import { Donor, startTrustCoordinator, submitJobs } from './testing.js';

const GPU = 'Test GPU 9000';
const MODEL = 'timing-model';

for (const dialect of testDialects()) {
  describe(`timing against trusted workers of the same GPU (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, {
        TRUST_VERIFIED_TO_TRUST: '1',
        TRUST_SPEED_SLACK: '8',
      }));
    });
    after(() => c.shutdown());

    /** Pops, lets `ms` pass on the coordinator's clock, delivers the honest picture. */
    const run = async (donor: Donor, ms: number) => {
      const job = await donor.pop([MODEL]);
      assert.ok(job, 'something to run');
      clock.advance(ms);
      return { job, res: await donor.deliver(job) };
    };

    test('refused when 8× faster than trusted peers at their fastest; another GPU only meets the floor', async () => {
      const [a, b, d] = [
        await Donor.create(c, { gpu: GPU }),
        await Donor.create(c, { gpu: GPU }),
        await Donor.create(c, { gpu: GPU }),
      ];
      // 64×64 × 10 steps is 0.04096 megapixel-steps: 2048 ms is 50,000 ms per megapixel-step.
      await submitJobs(c, { model: MODEL, seed: 1 });
      assert.equal((await run(a, 2048)).res.statusCode, 200);
      assert.equal((await run(b, 2048)).res.statusCode, 200, 'b confirms a: both trusted');
      await submitJobs(c, { model: MODEL, seed: 2 });
      assert.equal((await run(d, 2048)).res.statusCode, 200);
      assert.equal((await run(a, 2048)).res.statusCode, 200, 'a confirms d: three trusted with this GPU');
      for (const donor of [a, b, d]) assert.equal((await donor.reputation()).json().state, 'trusted');
      clock.advance(60_000); // past the reference cache

      // At their fastest they took 50,000 ms per megapixel-step: 1/8 of that is 256 ms for this job.
      const newcomer = await Donor.create(c, { gpu: GPU });
      await submitJobs(c, { model: MODEL, seed: 3 });
      const fast = await run(newcomer, 200);
      assert.equal(fast.res.statusCode, 422);
      assert.match(
        fast.res.json().detail,
        /at least 256 ms on this hardware \(8× faster than trusted workers with the same GPU at their fastest\)/,
      );
      const fair = await run(newcomer, 300);
      assert.equal(fair.job.id, fast.job.id);
      assert.equal(fair.res.statusCode, 200, fair.res.body);

      const otherGpu = await Donor.create(c, { gpu: 'Another GPU' });
      await submitJobs(c, { model: MODEL, seed: 4 });
      // (The newcomer's second opinion waits for a trusted worker; this one is new and gets the job.)
      const other = await run(otherGpu, 200);
      assert.doesNotMatch(other.job.id, /^rep_/);
      assert.equal(other.res.statusCode, 200);
      const replica = await a.pop([MODEL]);
      assert.match(replica?.id ?? '', /^rep_/, 'a trusted worker takes it');
    });
  });
}
