// Model fingerprints through HTTP on both databases: admins pin a model's weights (audited), workers with
// other weights get no jobs of it, trusted workers' weights become known, and the owner sees where its
// copy stands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { Donor, FINGERPRINT, startTrustCoordinator, submitJobs } from './testing.js';

const PINNED = 'c'.repeat(64);

for (const dialect of testDialects()) {
  describe(`model fingerprints (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, { TRUST_VERIFIED_TO_TRUST: '1' }));
    });
    after(() => c.shutdown());

    const put = (model: string, fingerprints: unknown, key = c.adminKey) =>
      c.app.inject({
        method: 'PUT',
        url: `/v1/admin/models/${model}/fingerprints`,
        headers: auth(key),
        payload: { fingerprints },
      });

    test('an admin pins a model: only workers with those weights get its jobs; the change is audited', async () => {
      const model = `pin-${randomBytes(3).toString('hex')}`;
      const pinned = await put(model, [PINNED]);
      assert.equal(pinned.statusCode, 200, pinned.body);
      assert.equal(pinned.json().pinned, true);
      assert.deepEqual(
        pinned.json().fingerprints.map((f: { sha256: string; source: string }) => [f.sha256, f.source]),
        [[PINNED, 'admin']],
      );
      assert.equal((await submitJobs(c, { model, seed: 1 })).statusCode, 201);

      const other = await Donor.create(c, { fingerprint: 'd'.repeat(64) });
      const refused = await other.popRaw([model]);
      assert.equal(refused.statusCode, 422);
      assert.equal(refused.json().type, 'fingerprint_refused');
      assert.match(refused.json().detail, new RegExp(model));
      const none = await Donor.create(c, { fingerprint: null });
      assert.equal(
        (await none.popRaw([model])).json().type,
        'fingerprint_refused',
        'no fingerprint: refused too',
      );
      // A worker serving a pinned and an unpinned model keeps the unpinned one.
      const mixed = await other.popRaw([model, 'free-model']);
      assert.equal(mixed.statusCode, 200, mixed.body);
      assert.equal(mixed.json().job, null);
      const rep = (await other.reputation()).json();
      const byModel = Object.fromEntries(
        rep.fingerprints.map((f: { model: string; status: string }) => [f.model, f.status]),
      );
      assert.equal(byModel[model], 'refused');

      const right = await Donor.create(c, { fingerprint: PINNED });
      const job = await right.pop([model]);
      assert.ok(job, 'the pinned weights get the job');
      assert.equal(
        (await right.reputation()).json().fingerprints.find((f: { model: string }) => f.model === model)
          .status,
        'pinned',
      );

      const audit = await c.services.database.db
        .selectFrom('audit_log')
        .select(['action', 'target_id', 'detail'])
        .where('action', '=', 'model.fingerprints')
        .where('target_id', '=', `model-fingerprints:${model}`)
        .execute();
      assert.equal(audit.length, 1);
      assert.deepEqual(JSON.parse(audit[0]!.detail).after, [PINNED]);

      const unpinned = await put(model, []);
      assert.equal(unpinned.json().pinned, false);
      assert.equal((await other.popRaw([model])).statusCode, 200, 'unpinned: any weights again');
    });

    test('the weights a trusted worker reports become known', async () => {
      const model = `known-${randomBytes(3).toString('hex')}`;
      const a = await Donor.create(c);
      const b = await Donor.create(c);
      await submitJobs(c, { model, seed: 5 });
      const job = await a.pop([model]);
      assert.ok(job);
      clock.advance(2000);
      assert.equal((await a.deliver(job)).statusCode, 200);
      const replica = await b.pop([model]);
      assert.ok(replica);
      clock.advance(2000);
      assert.equal((await b.deliver(replica)).statusCode, 200);
      assert.equal((await a.reputation()).json().state, 'trusted');
      const known = (
        await c.app.inject({ url: `/v1/admin/models/${model}/fingerprints`, headers: auth(c.adminKey) })
      ).json();
      assert.deepEqual(known, {
        model,
        pinned: false,
        fingerprints: [
          { sha256: FINGERPRINT, source: 'trusted_worker', addedAt: known.fingerprints[0].addedAt },
        ],
      });
      const status = (await a.reputation())
        .json()
        .fingerprints.find((f: { model: string }) => f.model === model);
      assert.equal(status.status, 'known');
      const stranger = await Donor.create(c, { fingerprint: 'e'.repeat(64) });
      await stranger.pop([model]);
      const unknown = (await stranger.reputation())
        .json()
        .fingerprints.find((f: { model: string }) => f.model === model);
      assert.equal(unknown.status, 'unknown');
    });

    test('only admins pin, and only well-formed SHA-256 lists', async () => {
      const user = await c.createUser();
      const moderator = await c.createUser('moderator');
      assert.equal((await put('m', [PINNED], user.key)).statusCode, 403);
      assert.equal((await put('m', [PINNED], moderator.key)).statusCode, 403);
      assert.equal((await put('m', ['not-a-hash'])).statusCode, 400);
      assert.equal((await put('m', [PINNED.toUpperCase()])).statusCode, 400);
      assert.equal((await put('m', [PINNED, PINNED])).statusCode, 400);
      assert.equal(
        (
          await put(
            'm',
            Array.from({ length: 17 }, (_, i) => i.toString(16).padStart(64, '0')),
          )
        ).statusCode,
        400,
      );
      assert.equal((await put('Bad Model', [PINNED])).statusCode, 400);
      const extra = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/models/m/fingerprints',
        headers: auth(c.adminKey),
        payload: { fingerprints: [], note: 'x' },
      });
      assert.equal(extra.statusCode, 400);
      const worker = await Donor.create(c);
      const badReport = await c.app.inject({
        method: 'POST',
        url: '/v1/workers/pop',
        headers: auth(worker.key),
        payload: {
          backend: 'test-pattern',
          models: ['m'],
          maxPixels: 4096,
          waitSeconds: 0,
          fingerprints: [{ model: 'm', sha256: 'xyz' }],
        },
      });
      assert.equal(badReport.statusCode, 400);
    });
  });
}
