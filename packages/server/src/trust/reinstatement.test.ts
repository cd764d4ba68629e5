// Reinstating a suspended worker through HTTP on both databases: only moderators, with a reason the owner
// reads, audited; the worker comes back on probation (every result checked, not trusted), its owner reads
// each state change with its reason and is mailed (a real SMTP server), since the worker's daemon stopped
// when it was suspended.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, type TestCoordinator } from '../test-support/coordinator.js';
import { startTestSmtpServer, type TestSmtpServer } from '../test-support/smtp-server.js';
import { Donor, solidImage, startTrustCoordinator, submitJobs, suspendWithBlanks } from './testing.js';

for (const dialect of testDialects()) {
  describe(`reinstating a suspended worker (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let moderator: { id: string; key: string };
    let smtp: TestSmtpServer;
    before(async () => {
      smtp = await startTestSmtpServer();
      ({ c, clock } = await startTrustCoordinator(dialect, { SMTP_URL: smtp.url }));
      moderator = await c.createUser('moderator');
    });
    after(async () => {
      await c.shutdown();
      await smtp.close();
    });

    const reinstate = (workerId: string, key: string, payload: unknown = { reason: 'Driver bug, fixed.' }) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/moderation/workers/${workerId}/reinstate`,
        headers: auth(key),
        payload: payload as Record<string, unknown>,
      });

    test('a moderator reinstates with a reason: on probation, checked on every result, audited, explained to the owner', async () => {
      const owner = await c.createUser();
      const donor = await Donor.create(c, { owner });
      await suspendWithBlanks(c, clock, donor, 'reinstate-a');
      assert.equal((await donor.popRaw(['reinstate-a'])).statusCode, 403);
      clock.advance(60_000);

      assert.equal((await reinstate(donor.workerId, donor.userKey)).statusCode, 403, 'owners cannot');
      assert.equal(
        (await reinstate(donor.workerId, moderator.key, {})).statusCode,
        400,
        'a reason is required',
      );
      assert.equal((await reinstate('w_missing', moderator.key)).statusCode, 404);

      const res = await reinstate(donor.workerId, moderator.key, {
        reason: 'Driver bug, fixed by the donor.',
      });
      assert.equal(res.statusCode, 200, res.body);
      const rep = res.json();
      assert.equal(rep.state, 'probation');
      assert.equal(rep.replicationPercent, 100, 'every result is checked again');
      assert.equal(rep.strikes, 2);
      assert.match(rep.reason, /^Reinstated by a moderator: Driver bug, fixed by the donor\./);

      const mail = await smtp.waitFor(owner.email, 'reinstated');
      assert.match(mail.subject, /Your Dreamfold worker "donor" is reinstated/);
      assert.match(mail.text, /Driver bug, fixed by the donor\./);
      assert.match(mail.text, /on probation/);
      assert.match(mail.text, /start it again/);
      assert.equal(
        smtp.mails.filter((m) => m.to === owner.email).length,
        1,
        'one mail: the suspension itself is not mailed',
      );

      const again = await reinstate(donor.workerId, moderator.key);
      assert.equal(again.statusCode, 409);
      assert.match(again.json().detail, /not suspended \(it is probation\)/);

      // The worker is served again, and its owner sees the same standing.
      const pop = await donor.popRaw(['reinstate-a']);
      assert.equal(pop.statusCode, 200, pop.body);
      assert.equal((await donor.reputation()).json().state, 'probation');

      const audit = await c.app.inject({
        url: `/v1/moderation/audit?action=worker.reinstate&targetId=${donor.workerId}`,
        headers: auth(c.adminKey),
      });
      assert.equal(audit.statusCode, 200, audit.body);
      const [entry] = audit.json().items;
      assert.equal(entry.actorId, moderator.id);
      assert.equal(entry.detail.reason, 'Driver bug, fixed by the donor.');
      assert.match(entry.detail.suspendedFor, /4 strikes/);

      // The history of states, newest first, each with its reason.
      const history = await c.app.inject({
        url: `/v1/workers/${donor.workerId}/trust-events?kind=state_changed`,
        headers: auth(donor.userKey),
      });
      assert.equal(history.statusCode, 200, history.body);
      const items = history.json().items as { kind: string; state: string; detail: string }[];
      assert.deepEqual(
        items.map((e) => e.state),
        ['probation', 'suspended', 'probation'],
      );
      assert.ok(items.every((e) => e.kind === 'state_changed'));
      assert.match(items[0]!.detail, /Reinstated by a moderator/);
      assert.match(items[1]!.detail, /4 strikes/);
    });

    test('a reinstated worker is suspended again after two more bad results, not four', async () => {
      const donor = await Donor.create(c);
      await suspendWithBlanks(c, clock, donor, 'reinstate-b');
      assert.equal((await reinstate(donor.workerId, moderator.key)).statusCode, 200);
      const states: string[] = [];
      for (let i = 0; i < 2; i++) {
        assert.equal((await submitJobs(c, { model: 'reinstate-b', seed: 8100 + i })).statusCode, 201);
        const job = await donor.pop(['reinstate-b']);
        assert.ok(job);
        clock.advance(2000);
        assert.equal((await donor.upload(job, await solidImage(64, 64, 60 + i))).statusCode, 422);
        states.push((await donor.reputation()).json().state);
      }
      assert.deepEqual(states, ['probation', 'suspended']);
    });

    test('only a suspended worker can be reinstated', async () => {
      const donor = await Donor.create(c);
      const res = await reinstate(donor.workerId, moderator.key);
      assert.equal(res.statusCode, 409);
      assert.match(res.json().detail, /it is new/);
    });
  });
}
