// An account that stops (a moderator suspends it, its owner deletes it) leaves nothing in the queue,
// through HTTP on SQLite and PostgreSQL: its queued and running images are cancelled and refunded in the
// same transaction, audited, shown as cancelled with the reason; a worker holding one learns it is
// cancelled as after the requester's own cancel; and a submission whose auth check came before the
// suspension queues nothing. Cancels by moderators and accounts made by admins are audited too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import {
  auth,
  grantCredits,
  solidPng,
  startTestCoordinator,
  type TestCoordinator,
} from '../test-support/coordinator.js';
import { heartbeat, pop, registerWorker, upload } from '../test-support/worker-client.js';
import { AppError } from '../errors.js';

// 64×64 × 25 steps at 1000 credits per reference image: 16 credits an image (see credits/charging.test.ts).
const PRICE = 16;
const ENV = { ACCESS_STAGE: 'open', CREDITS_IMAGE_COST: '1000', CREDITS_WORKER_REWARD: '500' };
const REASON = 'card fraud';
const CANCEL_REASON = `Cancelled: the account was suspended (${REASON}).`;

interface Image {
  state: string;
  cancelReason?: string;
}

for (const dialect of testDialects()) {
  describe(`a suspension cancels the user's unfinished images (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let workerKey: string;
    before(async () => {
      c = await startTestCoordinator({ dialect, env: ENV });
      moderator = await c.createUser('moderator');
      workerKey = await registerWorker(c, (await c.createUser()).key, 'donor-gpu');
    });
    after(() => c.shutdown());

    const grant = (userId: string, amount: number) => grantCredits(c, userId, amount);
    const generate = async (key: string, model: string, n: number) => {
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(key),
        payload: { prompt: 'a test', model, width: 64, height: 64, steps: 25, n },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; images: { jobId: string }[] };
    };
    const popJob = async (models: string[]) => {
      const res = await pop(c, workerKey, { models });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().job as { id: string; leaseId: string } | null;
    };
    const popSome = async (models: string[]) => {
      const job = await popJob(models);
      assert.ok(job, 'a job was handed out');
      return job;
    };
    const read = (key: string, url: string) => c.app.inject({ url, headers: auth(key) });
    const moderate = (action: 'suspend' | 'unsuspend', userId: string, reason: string) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/moderation/users/${userId}/${action}`,
        headers: auth(moderator.key),
        payload: { reason },
      });
    const suspendAudit = async (userId: string) =>
      (await read(moderator.key, `/v1/moderation/audit?action=user.suspend&targetId=${userId}`))
        .json()
        .items.map((e: { detail: object }) => e.detail);

    test('queued and leased images are cancelled and refunded with the suspension; finished ones stay', async () => {
      const u = await c.createUser();
      await grant(u.id, 100);
      const a = await generate(u.key, 'susp-a', 3);
      const b = await generate(u.key, 'susp-b', 1);
      // Image 0 of a finishes (settled for good), image 1 is being made, the rest wait in the queue.
      const done = await popSome(['susp-a']);
      assert.equal(done.id, a.images[0]?.jobId);
      assert.equal(
        (await upload(c, workerKey, done.id, done.leaseId, await solidPng(64, 64, 1))).statusCode,
        200,
      );
      const running = await popSome(['susp-a']);
      assert.equal(running.id, a.images[1]?.jobId);
      assert.equal((await heartbeat(c, workerKey, running.id, running.leaseId)).json().cancelled, false);
      // Somebody else's image in the same queue is not touched.
      const other = await c.createUser();
      await grant(other.id, PRICE);
      const o = await generate(other.key, 'susp-a', 1);

      const suspended = await moderate('suspend', u.id, REASON);
      assert.equal(suspended.statusCode, 200, suspended.body);

      // The worker holding image 1 hears "cancelled" as after the requester's cancel, and nothing more.
      const beat = await heartbeat(c, workerKey, running.id, running.leaseId);
      assert.equal(beat.statusCode, 200);
      assert.equal(beat.json().cancelled, true);
      const late = await upload(c, workerKey, running.id, running.leaseId, await solidPng(64, 64, 2));
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().type, 'job_cancelled');
      assert.doesNotMatch(late.body, new RegExp(REASON));
      // The next job handed out is the other user's, never the suspended user's.
      assert.equal((await popJob(['susp-a', 'susp-b']))?.id, o.images[0]?.jobId);
      assert.equal(await popJob(['susp-a', 'susp-b']), null);

      // Staff see the images cancelled with the reason; the credits went back in the same transaction.
      const seenByStaff = (await read(moderator.key, `/v1/generations/${a.id}`)).json();
      assert.equal(seenByStaff.status, 'partial');
      assert.deepEqual(
        seenByStaff.images.map((i: Image) => [i.state, i.cancelReason]),
        [
          ['done', undefined],
          ['cancelled', CANCEL_REASON],
          ['cancelled', CANCEL_REASON],
        ],
      );
      assert.equal((await read(moderator.key, `/v1/generations/${b.id}`)).json().status, 'cancelled');
      const credits = (await read(c.adminKey, `/v1/admin/users/${u.id}/credits`)).json();
      assert.deepEqual(
        { balance: credits.balance, reserved: credits.reserved, spent: credits.spent },
        { balance: 100 - PRICE, reserved: 0, spent: PRICE },
      );
      assert.deepEqual(await suspendAudit(u.id), [
        { reason: REASON, jobsCancelled: 3, creditsRefunded: 3 * PRICE },
      ]);
      const books = (await read(c.adminKey, '/v1/admin/credits/books')).json();
      assert.deepEqual(books.problems, []);

      // Once reinstated, the user reads the same: cancelled, why, and the refunds in their history.
      assert.equal((await moderate('unsuspend', u.id, 'sorted out')).statusCode, 200);
      const mine = (await read(u.key, `/v1/generations/${b.id}`)).json();
      assert.deepEqual(
        mine.images.map((i: Image) => [i.state, i.cancelReason]),
        [['cancelled', CANCEL_REASON]],
      );
      const history = (await read(u.key, '/v1/me/credits/history')).json();
      const refunds = history.items.filter((m: { kind: string }) => m.kind === 'refund');
      assert.equal(refunds.length, 3);
      for (const r of refunds) {
        assert.equal(r.amount, PRICE);
        assert.match(r.memo, /suspended/);
      }
      const mySummary = (await read(u.key, '/v1/me/credits')).json();
      assert.equal(mySummary.balance, 100 - PRICE);

      // A second suspension finds nothing left to cancel, and says so.
      assert.equal((await moderate('suspend', u.id, 'again')).statusCode, 200);
      assert.deepEqual((await suspendAudit(u.id))[0], {
        reason: 'again',
        jobsCancelled: 0,
        creditsRefunded: 0,
      });
    });

    test('deleting the account cancels and refunds its unfinished images', async () => {
      const u = await c.createUser();
      await grant(u.id, 100);
      const g = await generate(u.key, 'stop-del', 2);
      const running = await popSome(['stop-del']);
      const deleted = await c.app.inject({
        method: 'DELETE',
        url: '/v1/me',
        headers: auth(u.key),
        payload: { images: 'withdraw' },
      });
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.equal((await heartbeat(c, workerKey, running.id, running.leaseId)).json().cancelled, true);
      assert.equal(await popJob(['stop-del']), null);
      const seen = (await read(moderator.key, `/v1/generations/${g.id}`)).json();
      assert.deepEqual(
        seen.images.map((i: Image) => [i.state, i.cancelReason]),
        [
          ['cancelled', 'Cancelled: the account was deleted.'],
          ['cancelled', 'Cancelled: the account was deleted.'],
        ],
      );
      // The admin routes no longer know a deleted account; the ledger still does.
      const credits = await c.services.credits.summary(u.id);
      assert.deepEqual(
        { balance: credits.balance, reserved: credits.reserved },
        { balance: 100, reserved: 0 },
      );
      assert.deepEqual((await read(c.adminKey, '/v1/admin/credits/books')).json().problems, []);
      // A submission that passed its auth check before the deletion queues nothing.
      await assert.rejects(
        c.services.generations.create(
          u.id,
          { prompt: 'late', model: 'stop-del', width: 64, height: 64, steps: 25 },
          'k2',
        ),
        (err: unknown) => err instanceof AppError && err.code === 'account_suspended',
      );
    });

    test('the requester’s own cancel says so; a moderator’s says it was a moderator', async () => {
      const u = await c.createUser();
      await grant(u.id, 2 * PRICE);
      const mine = await generate(u.key, 'susp-c', 1);
      const theirs = await generate(u.key, 'susp-c', 1);
      const cancel = (key: string, id: string) =>
        c.app.inject({ method: 'DELETE', url: `/v1/generations/${id}`, headers: auth(key) });
      assert.equal(
        (await cancel(u.key, mine.id)).json().images[0].cancelReason,
        'Cancelled by the requester.',
      );
      assert.equal(
        (await cancel(moderator.key, theirs.id)).json().images[0].cancelReason,
        'Cancelled by a moderator.',
      );
      // The moderator's cancel is a moderator action, in the audit log; the requester's own is not.
      const audit = (await read(moderator.key, `/v1/moderation/audit?action=generation.cancel`)).json();
      assert.deepEqual(
        audit.items
          .filter((e: { targetId: string }) => e.targetId === theirs.id || e.targetId === mine.id)
          .map((e: { actorId: string; targetId: string; detail: object }) => [
            e.actorId,
            e.targetId,
            e.detail,
          ]),
        [[moderator.id, theirs.id, { owner: u.id, jobsCancelled: 1 }]],
      );
    });

    test('an admin making an account through the API is in the audit log', async () => {
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/admin/users',
        headers: auth(c.adminKey),
        payload: { email: 'made-by-admin@example.org', role: 'moderator' },
      });
      assert.equal(res.statusCode, 201, res.body);
      const made = res.json().user as { id: string };
      const audit = (
        await read(moderator.key, `/v1/moderation/audit?action=user.create&targetId=${made.id}`)
      ).json();
      assert.equal(audit.items.length, 1);
      assert.deepEqual(audit.items[0].detail, { role: 'moderator', via: 'api' });
      assert.equal(audit.items[0].actorId, (await read(c.adminKey, '/v1/me')).json().id);
    });

    test('a submission that passed its auth check before the suspension queues nothing', async () => {
      const u = await c.createUser();
      await grant(u.id, PRICE);
      assert.equal((await moderate('suspend', u.id, REASON)).statusCode, 200);
      // The route's auth check ran before the suspension committed; the create then runs after it.
      await assert.rejects(
        c.services.generations.create(
          u.id,
          { prompt: 'late', model: 'susp-d', width: 64, height: 64, steps: 25 },
          'k1',
        ),
        (err: unknown) => err instanceof AppError && err.code === 'account_suspended',
      );
      assert.equal(await popJob(['susp-d']), null);
      const credits = (await read(c.adminKey, `/v1/admin/users/${u.id}/credits`)).json();
      assert.deepEqual(
        { balance: credits.balance, reserved: credits.reserved },
        { balance: PRICE, reserved: 0 },
      );
    });
  });
}

// Several replicas share one PostgreSQL database; each caches key lookups for a few seconds, so another
// replica may still let a just-suspended user in. The queuing transaction's own check refuses them.
if (testDialects().includes('postgres')) {
  describe('a suspension on one replica, a submission on another (postgres)', () => {
    let a: TestCoordinator;
    let b: TestCoordinator;
    before(async () => {
      a = await startTestCoordinator({ dialect: 'postgres', env: ENV });
      b = await startTestCoordinator({ dialect: 'postgres', env: ENV, database: a.database });
    });
    after(async () => {
      await b.shutdown();
      await a.shutdown();
    });

    test('replica B’s cached key lets the request in; nothing is queued', async () => {
      const moderator = await a.createUser('moderator');
      const u = await a.createUser();
      await grantCredits(a, u.id, PRICE);
      // Replica B looks the key up and remembers it.
      assert.equal((await b.app.inject({ url: '/v1/me', headers: auth(u.key) })).statusCode, 200);
      const suspended = await a.app.inject({
        method: 'POST',
        url: `/v1/moderation/users/${u.id}/suspend`,
        headers: auth(moderator.key),
        payload: { reason: REASON },
      });
      assert.equal(suspended.statusCode, 200, suspended.body);
      const res = await b.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(u.key),
        payload: { prompt: 'late', model: 'susp-e', width: 64, height: 64, steps: 25 },
      });
      // 401 if B's cache entry expired meanwhile (the auth check refused); 403 from the transaction's check.
      assert.ok([401, 403].includes(res.statusCode), res.body);
      const queued = await a.services.database.db
        .selectFrom('jobs')
        .select('id')
        .where('user_id', '=', u.id)
        .execute();
      assert.deepEqual(queued, []);
    });
  });
}
