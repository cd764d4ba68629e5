// Adaptive replication through HTTP on both databases: second opinions from other accounts with the same
// weights, agreement, a disagreement settled by a third worker, held earnings, and replicas that never
// become images or cost the requester anything.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { ownerView } from '../safety/test-fixtures.js';
import {
  Donor,
  honestPng,
  startCreditedTrustCoordinator,
  submitJobs,
  take as takeJob,
  verificationOf,
  type Assignment,
} from './testing.js';

// 64×64 × 25 steps is 1/64 of the reference image: 1000/64 → 16 credits an image; a worker earns 500/64 → 8.
const PRICE = 16;
const EARNED = 8;

for (const dialect of testDialects()) {
  describe(`adaptive replication (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let model = 'm0';
    before(async () => {
      ({ c, clock } = await startCreditedTrustCoordinator(dialect));
    });
    after(() => c.shutdown());
    beforeEach(() => {
      model = `m-${randomBytes(4).toString('hex')}`;
    });

    const submit = async (seed: number) => {
      const res = await submitJobs(c, { model, seed, steps: 25 });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string };
    };
    const take = (donor: Donor): Promise<Assignment> => takeJob(clock, donor, model);
    const balance = async (key: string) =>
      (await c.app.inject({ url: '/v1/me/credits', headers: auth(key) })).json().balance as number;
    const verification = (jobId: string) => verificationOf(c, jobId);
    /** A donor with a verified record: five results confirmed by a partner, on a model of their own. */
    let trustedDonors = 0;
    const trustedDonor = async () => {
      trustedDonors++;
      const donor = await Donor.create(c);
      const partner = await Donor.create(c);
      const own = `trusted-${randomBytes(4).toString('hex')}`;
      for (let i = 0; i < 5; i++) {
        // Seeds of its own too: the same picture for another model's job would be a replay.
        await submitJobs(c, { model: own, seed: 900 + 10 * trustedDonors + i, steps: 25 });
        for (const d of [donor, partner]) {
          const job = await d.pop([own]);
          assert.ok(job);
          clock.advance(2000);
          assert.equal((await d.deliver(job)).statusCode, 200);
        }
      }
      assert.equal((await donor.reputation()).json().state, 'trusted');
      return donor;
    };
    const hiddenReason = async (jobId: string) =>
      (
        await c.services.database.db
          .selectFrom('hidden_images')
          .select('reason')
          .where('image_id', '=', jobId)
          .executeTakeFirst()
      )?.reason;
    const wrongPng = (job: Assignment) => honestPng({ ...job.params, seed: job.params.seed + 1000 });

    test('another account with the same weights re-runs a new worker’s result; agreement verifies both', async () => {
      const before = await balance(c.userKey);
      const a = await Donor.create(c);
      const sameOwner = await Donor.create(c, { owner: { id: a.userId, key: a.userKey } });
      const otherWeights = await Donor.create(c, { fingerprint: 'b'.repeat(64) });
      const b = await Donor.create(c);
      const g = await submit(101);
      const job = await take(a);
      assert.equal((await a.deliver(job)).statusCode, 200);
      assert.match((await hiddenReason(job.id)) ?? '', /waiting for another worker to confirm/);
      const [held] = await ownerView(c, c.userKey, g.id);
      assert.equal(held?.nsfw?.hiddenBy, 'verification', 'its owner reads what hid it: not a moderator');
      assert.match(held?.nsfw?.reason ?? '', /^verification: waiting for another worker to confirm/);

      assert.equal(await sameOwner.pop([model]), null, 'never the same account');
      assert.equal(await otherWeights.pop([model]), null, 'never other weights');
      const replica = await take(b);
      assert.match(replica.id, /^rep_/);
      assert.deepEqual(replica.params, job.params, 'same parameters, same seed');
      const delivered = await b.deliver(replica);
      assert.equal(delivered.statusCode, 200, delivered.body);
      assert.equal(delivered.json().url, '');

      const generation = (
        await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })
      ).json();
      assert.equal(generation.images.length, 1, 'a replica is never an image');
      assert.equal(generation.status, 'done');
      assert.equal(before - (await balance(c.userKey)), PRICE, 'the requester paid for one image, not two');
      assert.equal((await verification(job.id))?.state, 'verified');
      assert.equal(await hiddenReason(job.id), undefined, 'confirmed: shown in the gallery');
      for (const donor of [a, b]) {
        const rep = (await donor.reputation()).json();
        assert.deepEqual([rep.state, rep.results.verified, rep.strikes], ['new', 1, 0]);
        assert.equal(rep.heldCredits, EARNED, 'new workers earn into their held account');
        assert.ok(rep.recentEvents.some((e: { kind: string }) => e.kind === 'verified'));
      }
      assert.equal(await balance(a.userKey), 0);
    });

    test('five verified results in a row make a worker trusted: its held credits are paid to its owner', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      for (let i = 0; i < 5; i++) {
        await submit(200 + i);
        const job = await take(a);
        assert.equal((await a.deliver(job)).statusCode, 200);
        const replica = await take(b);
        assert.match(replica.id, /^rep_/);
        assert.equal((await b.deliver(replica)).statusCode, 200);
      }
      for (const donor of [a, b]) {
        const rep = (await donor.reputation()).json();
        assert.equal(rep.state, 'trusted');
        assert.match(rep.reason, /5 results in a row/);
        assert.equal(rep.heldCredits, 0);
        assert.equal(await balance(donor.userKey), 5 * EARNED);
        assert.ok(rep.replicationPercent <= 100 && rep.replicationPercent >= 5);
      }
      const history = (
        await c.app.inject({ url: '/v1/me/credits/history', headers: auth(a.userKey) })
      ).json();
      assert.ok(
        history.items.some(
          (m: { kind: string; amount: number }) => m.kind === 'worker_earning' && m.amount === 5 * EARNED,
        ),
      );
    });

    test('once a trusted worker with the same weights is around, second opinions wait for trusted workers', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      for (let i = 0; i < 5; i++) {
        await submit(250 + i);
        assert.equal((await a.deliver(await take(a))).statusCode, 200);
        assert.equal((await b.deliver(await take(b))).statusCode, 200);
      }
      assert.equal((await a.reputation()).json().state, 'trusted');
      const newcomer = await Donor.create(c);
      const another = await Donor.create(c);
      await submit(260);
      assert.equal((await newcomer.deliver(await take(newcomer))).statusCode, 200);
      assert.equal(await another.pop([model]), null, 'not for a newcomer: it might share the shortcut');
      const replica = await take(a);
      assert.match(replica.id, /^rep_/);
      assert.equal((await a.deliver(replica)).statusCode, 200);
      assert.equal((await newcomer.reputation()).json().results.verified, 1);
    });

    test('a disagreement goes to a third account; the outvoted original is withdrawn, struck and unpaid', async () => {
      const wrong = await Donor.create(c);
      const b = await Donor.create(c);
      const d = await trustedDonor();
      const g = await submit(301);
      const job = await take(wrong);
      assert.equal((await wrong.upload(job, await wrongPng(job))).statusCode, 200, 'plausible, so accepted');
      assert.equal((await wrong.reputation()).json().heldCredits, EARNED);

      const first = await take(b);
      assert.equal((await b.deliver(first)).statusCode, 200);
      assert.equal((await verification(job.id))?.state, 'pending');
      assert.equal(await b.pop([model]), null, 'the tiebreak goes to a third account');
      const newcomer = await Donor.create(c);
      assert.equal(await newcomer.pop([model]), null, 'and to a trusted one');
      const third = await take(d);
      assert.match(third.id, /^rep_/);
      assert.equal((await d.deliver(third)).statusCode, 200);

      assert.equal((await verification(job.id))?.state, 'overturned');
      const rep = (await wrong.reputation()).json();
      assert.equal(rep.state, 'probation');
      assert.equal(rep.strikes, 2);
      assert.equal(rep.results.overturned, 1);
      assert.equal(rep.heldCredits, 0, 'its earning for the overturned result was reversed');
      assert.equal(rep.replicationPercent, 100);
      assert.ok(
        rep.recentEvents.some(
          (e: { kind: string; check?: string }) => e.kind === 'overturned' && e.check === 'disagreement',
        ),
      );
      assert.equal((await b.reputation()).json().results.verified, 1);
      assert.equal((await d.reputation()).json().results.verified, 6);
      // The outvoted picture is gone and the job queued again (same seed) for the picture the others
      // agreed on, which the requester gets without paying twice.
      const image = async () =>
        (await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })).json().images[0];
      assert.equal((await image()).state, 'queued');
      const paid = await balance(c.userKey);
      const rerun = await take(d);
      assert.deepEqual([rerun.id, rerun.params], [job.id, job.params]);
      assert.equal((await d.deliver(rerun)).statusCode, 200);
      assert.equal((await image()).state, 'done');
      assert.equal(await balance(c.userKey), paid);
      const books = (
        await c.app.inject({ url: '/v1/admin/credits/books', headers: auth(c.adminKey) })
      ).json();
      assert.equal(books.balanced, true, JSON.stringify(books.problems));
    });

    test('a replica worker outvoted by the original and a third worker is the one struck', async () => {
      const a = await Donor.create(c);
      const liar = await Donor.create(c);
      const d = await trustedDonor();
      await submit(401);
      const job = await take(a);
      assert.equal((await a.deliver(job)).statusCode, 200);
      const replica = await take(liar);
      assert.equal((await liar.upload(replica, await wrongPng(replica))).statusCode, 200);
      const third = await take(d);
      assert.equal((await d.deliver(third)).statusCode, 200);
      assert.equal((await verification(job.id))?.state, 'verified');
      const rep = (await liar.reputation()).json();
      assert.deepEqual([rep.state, rep.results.overturned, rep.heldCredits], ['probation', 1, 0]);
      assert.equal((await a.reputation()).json().results.verified, 1);
      assert.equal((await d.reputation()).json().results.verified, 6);
    });

    test('a replica whose lease runs out goes to the next worker; one nobody takes in time is dropped without blame', async () => {
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      const e = await Donor.create(c);
      await submit(501);
      const job = await take(a);
      assert.equal((await a.deliver(job)).statusCode, 200);
      const replica = await take(b);
      clock.advance(61_000);
      await c.services.leases.expire();
      const late = await b.deliver(replica);
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().type, 'lease_lost');
      const again = await take(e);
      assert.equal(again.id, replica.id);
      const released = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${again.id}/release`,
        headers: auth(e.key),
        payload: { leaseId: again.leaseId },
      });
      assert.equal(released.statusCode, 200, released.body);
      assert.equal(released.json().state, 'queued');

      clock.advance(86_400_000 + 1000);
      await c.services.leases.expire();
      assert.equal((await verification(job.id))?.state, 'abandoned');
      assert.equal(await e.pop([model]), null);
      for (const donor of [a, b, e]) assert.equal((await donor.reputation()).json().strikes, 0);
    });
  });
}
