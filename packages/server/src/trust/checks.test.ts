// The cheap checks on every result and what they do to a worker's standing, through HTTP on both
// databases. Replication is off here (TRUST_VERIFY=checks) so every pop is an ordinary job.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import {
  Donor,
  honestPng,
  solidImage,
  startTrustCoordinator,
  submitJobs,
  type Assignment,
} from './testing.js';

for (const dialect of testDialects()) {
  describe(`cheap checks on results (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, { TRUST_VERIFY: 'checks' }));
    });
    after(() => c.shutdown());

    // Each test queues jobs of its own model, so a job another test sent back to the queue stays out of it.
    let model = 'm0';
    beforeEach(() => {
      model = `m-${randomBytes(4).toString('hex')}`;
    });
    const popOne = async (donor: Donor, body: Record<string, unknown> = {}): Promise<Assignment> => {
      const submitted = await submitJobs(c, { model, ...body });
      assert.equal(submitted.statusCode, 201, submitted.body);
      const job = await donor.pop([model]);
      assert.ok(job, 'a job was queued');
      // Time passes on the coordinator's clock, as it does while a GPU computes.
      clock.advance(2000);
      return job;
    };
    const generationOf = async (jobId: string) =>
      (
        await c.app.inject({ url: `/v1/generations/${jobId.split('_')[0]}`, headers: auth(c.userKey) })
      ).json() as { images: { state: string; attempts: number }[] };

    test('a blank result is refused with the reason, the job goes back to the queue and another worker finishes it', async () => {
      const lazy = await Donor.create(c);
      const honest = await Donor.create(c);
      const job = await popOne(lazy, { seed: 11 });
      const refused = await lazy.upload(job, await solidImage(64, 64));
      assert.equal(refused.statusCode, 422);
      assert.equal(refused.json().type, 'result_rejected');
      assert.match(refused.json().detail, /blank/);
      const waiting = await generationOf(job.id);
      assert.equal(waiting.images[0]?.state, 'queued');

      const again = await honest.pop([model]);
      assert.equal(again?.id, job.id, 'the same job, to another worker');
      clock.advance(2000);
      assert.equal((await honest.deliver(again)).statusCode, 200);
      assert.equal((await generationOf(job.id)).images[0]?.state, 'done');

      const rep = (await lazy.reputation()).json();
      assert.equal(rep.state, 'new');
      assert.equal(rep.strikes, 1);
      assert.equal(rep.results.rejected, 1);
      assert.equal(rep.recentEvents[0].kind, 'rejected');
      assert.equal(rep.recentEvents[0].check, 'blank');
      assert.equal(rep.recentEvents[0].jobId, job.id);
      assert.match(rep.recentEvents[0].detail, /blank/);
      const good = (await honest.reputation()).json();
      assert.deepEqual([good.state, good.strikes, good.results.accepted], ['new', 0, 1]);
    });

    test('a blank disguised with a little noise is still blank; pure noise is refused as noise', async () => {
      const donor = await Donor.create(c);
      const disguised = Buffer.alloc(64 * 64 * 3);
      for (let i = 0; i < disguised.length; i++) disguised[i] = 120 + (randomBytes(1)[0]! % 9) - 4;
      const job = await popOne(donor, { seed: 21 });
      const blank = await donor.upload(
        job,
        await sharp(disguised, { raw: { width: 64, height: 64, channels: 3 } })
          .png()
          .toBuffer(),
      );
      assert.equal(blank.statusCode, 422);
      assert.match(blank.json().detail, /blank/);

      const second = await donor.pop([model]);
      assert.ok(second);
      clock.advance(2000);
      const noise = await sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toBuffer();
      const refused = await donor.upload(second, noise);
      assert.equal(refused.statusCode, 422);
      assert.match(refused.json().detail, /noise/);
      const events = (
        await c.app.inject({
          url: `/v1/workers/${donor.workerId}/trust-events`,
          headers: auth(donor.userKey),
        })
      ).json();
      assert.deepEqual(
        events.items
          .filter((e: { kind: string }) => e.kind === 'rejected')
          .map((e: { check: string }) => e.check),
        ['noise', 'blank'],
      );
    });

    test('replays: the same bytes or a near copy of another job are refused; the same parameters may repeat', async () => {
      const first = await Donor.create(c);
      const replayer = await Donor.create(c);
      const original = await popOne(first, { seed: 31, prompt: 'a lighthouse' });
      const picture = await honestPng(original.params);
      assert.equal((await first.upload(original, picture)).statusCode, 200);

      const other = await popOne(replayer, { seed: 32, prompt: 'a lighthouse' });
      const exact = await replayer.upload(other, picture);
      assert.equal(exact.statusCode, 422);
      assert.match(exact.json().detail, /byte for byte/);

      const again = await replayer.pop([model]);
      assert.ok(again);
      clock.advance(2000);
      const brighter = await sharp(picture).linear(1, 1).png().toBuffer();
      const near = await replayer.upload(again, brighter);
      assert.equal(near.statusCode, 422);
      assert.match(near.json().detail, /near copy/);

      // The job it failed twice is done honestly elsewhere.
      const done = await first.pop([model]);
      assert.equal(done?.id, other.id);
      clock.advance(2000);
      assert.equal((await first.deliver(done)).statusCode, 200);
      // Another request with identical parameters: the same picture is the honest answer.
      const twin = await popOne(replayer, { seed: 31, prompt: 'a lighthouse' });
      assert.equal((await replayer.upload(twin, picture)).statusCode, 200);
      const rep = (await replayer.reputation()).json();
      assert.deepEqual([rep.results.rejected, rep.results.accepted, rep.strikes], [2, 1, 2]);
    });

    test('a result faster than any hardware computes it is refused; the same result later is accepted', async () => {
      const donor = await Donor.create(c);
      await submitJobs(c, { model, seed: 41, width: 512, height: 512, steps: 30 });
      const job = await donor.pop([model]);
      assert.ok(job);
      // 512×512 × 30 steps is 7.9 megapixel-steps: at least 39 ms at TRUST_MIN_MS_PER_MPX_STEP=5.
      clock.advance(10);
      const fast = await donor.deliver(job);
      assert.equal(fast.statusCode, 422);
      assert.equal(fast.json().type, 'result_rejected');
      assert.match(fast.json().detail, /arrived 10 ms after the lease began/);
      const retry = await donor.pop([model]);
      assert.equal(retry?.id, job.id);
      clock.advance(5_000);
      assert.equal((await donor.deliver(retry)).statusCode, 200);
      const rep = (await donor.reputation()).json();
      assert.equal(rep.recentEvents.at(-1).check, 'too_fast');
      assert.ok(rep.msPerMegapixelStep > 600 && rep.msPerMegapixelStep < 700, String(rep.msPerMegapixelStep));
    });

    test('two strikes put a worker on probation, four suspend it: its unverified images are withdrawn and its held credits reversed', async () => {
      const donor = await Donor.create(c);
      const goodJobs: string[] = [];
      for (const seed of [51, 52]) {
        const job = await popOne(donor, { seed });
        assert.equal((await donor.deliver(job)).statusCode, 200);
        goodJobs.push(job.id);
      }
      const before = (await donor.reputation()).json();
      assert.equal(before.state, 'new');
      assert.ok(before.heldCredits > 0, 'a new worker earns into its held account');
      const credits = async () =>
        (await c.app.inject({ url: '/v1/me/credits', headers: auth(donor.userKey) })).json()
          .balance as number;
      assert.equal(await credits(), 0);

      const late = await popOne(donor, { seed: 70 });
      const states: string[] = [];
      for (let i = 0; i < 4; i++) {
        const job = await popOne(donor, { seed: 60 + i });
        assert.equal((await donor.upload(job, await solidImage(64, 64, 30 + i))).statusCode, 422);
        states.push((await donor.reputation()).json().state);
      }
      assert.deepEqual(states, ['new', 'probation', 'probation', 'suspended']);
      const rep = (await donor.reputation()).json();
      assert.match(rep.reason, /4 strikes/);
      assert.equal(rep.heldCredits, 0);
      assert.equal(await credits(), 0, 'held credits went back to the platform, not to the owner');
      assert.ok(
        rep.recentEvents.some(
          (e: { kind: string; detail: string }) =>
            e.kind === 'withdrawn' && /2 unverified images/.test(e.detail),
        ),
      );

      // Its withdrawn images' jobs are queued again for other workers (reruns.test.ts follows them).
      const rerun = await c.services.database.db
        .selectFrom('jobs')
        .select(['state', 'reruns', 'result_sha256'])
        .where('id', 'in', goodJobs)
        .execute();
      assert.deepEqual(
        rerun.map((j) => [j.state, Number(j.reruns), j.result_sha256]),
        [
          ['queued', 1, null],
          ['queued', 1, null],
        ],
      );

      // A job it held when it was suspended: the late result is refused and the job goes back, attempt returned.
      const refusedLate = await donor.deliver(late);
      assert.equal(refusedLate.statusCode, 403);
      assert.equal(refusedLate.json().type, 'worker_suspended');
      const back = (await generationOf(late.id)).images[0];
      assert.deepEqual([back?.state, back?.attempts], ['queued', 0]);

      const refused = await donor.popRaw([model]);
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().type, 'worker_suspended');
      assert.match(refused.json().detail, /suspended/);
      const books = (
        await c.app.inject({ url: '/v1/admin/credits/books', headers: auth(c.adminKey) })
      ).json();
      assert.equal(books.balanced, true, JSON.stringify(books.problems));
    });

    test('the reputation is its owner’s: other users get 404, staff may look, bad ids are refused', async () => {
      const donor = await Donor.create(c);
      const stranger = await c.createUser();
      assert.equal((await donor.reputation(stranger.key)).statusCode, 404);
      assert.equal((await donor.reputation(c.adminKey)).statusCode, 200);
      const unknown = await c.app.inject({
        url: '/v1/workers/nope/reputation',
        headers: auth(donor.userKey),
      });
      assert.equal(unknown.statusCode, 404);
      const bad = await c.app.inject({ url: '/v1/workers/a%20b/reputation', headers: auth(donor.userKey) });
      assert.equal(bad.statusCode, 400);
      const events = await c.app.inject({
        url: `/v1/workers/${donor.workerId}/trust-events?limit=1000`,
        headers: auth(donor.userKey),
      });
      assert.equal(events.statusCode, 400);
      const cursor = await c.app.inject({
        url: `/v1/workers/${donor.workerId}/trust-events?cursor=garbage`,
        headers: auth(donor.userKey),
      });
      assert.equal(cursor.statusCode, 400);
      const byWorkerKey = await c.app.inject({
        url: `/v1/workers/${donor.workerId}/reputation`,
        headers: auth(donor.key),
      });
      assert.equal(byWorkerKey.statusCode, 403);
    });
  });
}
