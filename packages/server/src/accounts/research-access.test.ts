// The research stage end to end through HTTP: apply → confirm the email from the mail the SMTP server
// received → a moderator approves (or rejects with a reason) → the applicant generates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { startTestSmtpServer, type TestSmtpServer } from '../test-support/smtp-server.js';
import { signInWeb } from '../test-support/web-session.js';

const application = {
  password: 'correct horse battery staple',
  displayName: 'Ada Researcher',
  affiliation: 'Example University',
  occupation: 'researcher',
  intendedUse: 'Studying how people describe images with prompts.',
};
const prompt = { prompt: 'a lighthouse at dusk', model: 'sd-1.5' };

for (const dialect of testDialects()) {
  describe(`research access (${dialect})`, () => {
    let c: TestCoordinator;
    let smtp: TestSmtpServer;
    let moderator: { key: string; id: string };
    before(async () => {
      smtp = await startTestSmtpServer();
      c = await startTestCoordinator({ dialect, env: { SMTP_URL: smtp.url } });
      moderator = await c.createUser('moderator');
    });
    after(async () => {
      await c.shutdown();
      await smtp.close();
    });

    const signUp = (payload: object) => c.app.inject({ method: 'POST', url: '/v1/auth/sign-up', payload });

    test('the access stage is research by default and says how to get in', async () => {
      const res = await c.app.inject({ url: '/v1/access' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().stage, 'research');
      assert.match(res.json().signUp, /apply/);
    });

    test('an application without who and why is refused, naming each missing field', async () => {
      const res = await signUp({ email: 'incomplete@example.org', password: application.password });
      assert.equal(res.statusCode, 400);
      const paths = (res.json().errors as { path: string }[]).map((e) => e.path).sort();
      assert.deepEqual(paths, ['/affiliation', '/displayName', '/intendedUse', '/occupation']);
    });

    test('apply → confirm email → approved → generate, with a mail at each step and an audit entry', async () => {
      const email = 'Ada@Example.org';
      const res = await signUp({ email, ...application });
      assert.equal(res.statusCode, 201, res.body);
      const { user, stage, next } = res.json();
      assert.equal(stage, 'research');
      assert.equal(user.email, 'ada@example.org', 'emails are stored lower-cased');
      assert.equal(user.access, 'pending');
      assert.equal(user.emailVerified, false);
      assert.match(next, /moderator/);

      const web = await signInWeb(c.app, 'ada@example.org', application.password);
      const gen = (headers: Record<string, string>) =>
        c.app.inject({ method: 'POST', url: '/v1/generations', headers, payload: prompt });
      const noCsrf = await gen(web.headers({ csrf: false }));
      assert.equal(noCsrf.statusCode, 403);
      assert.equal(noCsrf.json().type, 'csrf_failed');
      const unverified = await gen(web.headers());
      assert.equal(unverified.statusCode, 403);
      assert.equal(unverified.json().type, 'access_required');
      assert.match(unverified.json().detail, /Confirm your email/);

      // Not listed for moderators before the email is confirmed.
      const early = await c.app.inject({ url: '/v1/moderation/applications', headers: auth(moderator.key) });
      assert.equal(early.json().items.length, 0);

      const mail = await smtp.waitFor('ada@example.org', 'Confirm your email');
      const verified = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/verify-email',
        payload: { token: smtp.tokenIn(mail) },
      });
      assert.equal(verified.statusCode, 200, verified.body);
      assert.equal(verified.json().emailVerified, true);
      await smtp.waitFor('ada@example.org', 'application');
      const again = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/verify-email',
        payload: { token: smtp.tokenIn(mail) },
      });
      assert.equal(again.statusCode, 400, 'a link works once');
      assert.equal(again.json().type, 'invalid_token');

      const pending = await gen(web.headers());
      assert.equal(pending.statusCode, 403);
      assert.match(pending.json().detail, /waiting for a moderator/);

      const forUsers = await c.app.inject({ url: '/v1/moderation/applications', headers: auth(c.userKey) });
      assert.equal(forUsers.statusCode, 403, 'users cannot read applications');
      const list = await c.app.inject({ url: '/v1/moderation/applications', headers: auth(moderator.key) });
      assert.equal(list.statusCode, 200);
      const item = (list.json().items as { user: { id: string }; affiliation: string }[]).find(
        (a) => a.user.id === user.id,
      );
      assert.equal(item?.affiliation, 'Example University');

      const approve = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/applications/${user.id}/decision`,
        headers: auth(moderator.key),
        payload: { decision: 'approve' },
      });
      assert.equal(approve.statusCode, 200, approve.body);
      assert.equal(approve.json().user.access, 'approved');
      await smtp.waitFor('ada@example.org', 'approved');
      const twice = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/applications/${user.id}/decision`,
        headers: auth(moderator.key),
        payload: { decision: 'reject', reason: 'changed my mind' },
      });
      assert.equal(twice.statusCode, 409, 'a decided application cannot be decided again');

      const allowed = await gen(web.headers());
      assert.equal(allowed.statusCode, 201, allowed.body);

      const audit = await c.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('target_id', '=', user.id)
        .execute();
      assert.deepEqual(
        audit.map((a) => [a.action, a.actor_id]),
        [['application.approve', moderator.id]],
      );
    });

    test('a rejection needs a reason, and the applicant receives it', async () => {
      const res = await signUp({ email: 'bob@example.org', ...application });
      const { user } = res.json();
      const mail = await smtp.waitFor('bob@example.org', 'Confirm your email');
      await c.app.inject({
        method: 'POST',
        url: '/v1/auth/verify-email',
        payload: { token: smtp.tokenIn(mail) },
      });
      const decide = (payload: object) =>
        c.app.inject({
          method: 'POST',
          url: `/v1/moderation/applications/${user.id}/decision`,
          headers: auth(moderator.key),
          payload,
        });
      const bare = await decide({ decision: 'reject' });
      assert.equal(bare.statusCode, 400);
      assert.equal(bare.json().errors[0].path, '/reason');
      const rejected = await decide({ decision: 'reject', reason: 'We could not confirm the affiliation.' });
      assert.equal(rejected.statusCode, 200);
      const notice = await smtp.waitFor('bob@example.org', 'application');
      assert.match(notice.text, /could not confirm the affiliation/);
      const web = await signInWeb(c.app, 'bob@example.org', application.password);
      const gen = await c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: web.headers(),
        payload: prompt,
      });
      assert.equal(gen.statusCode, 403);
      assert.match(gen.json().detail, /not approved/);
    });

    test('bad input gets clear 4xx answers', async () => {
      const cases: [object, number, string][] = [
        [{ ...application, email: 'not-an-email' }, 400, '/email'],
        [{ ...application, email: 'short@example.org', password: 'short' }, 400, '/password'],
        [{ ...application, email: 'long@example.org', intendedUse: 'x'.repeat(2001) }, 400, '/intendedUse'],
        [{ ...application, email: 'role@example.org', occupation: 'wizard' }, 400, '/occupation'],
        [{ ...application, email: 'extra@example.org', role: 'admin' }, 400, ''],
      ];
      for (const [payload, status, path] of cases) {
        const res = await signUp(payload);
        assert.equal(res.statusCode, status, JSON.stringify(payload));
        if (path) assert.ok(JSON.stringify(res.json()).includes(path), res.body);
      }
      const dup = await signUp({ email: 'ada@example.org', ...application });
      assert.equal(dup.statusCode, 409);
      const unknown = await c.app.inject({
        method: 'POST',
        url: '/v1/moderation/applications/nosuchuser/decision',
        headers: auth(moderator.key),
        payload: { decision: 'approve' },
      });
      assert.equal(unknown.statusCode, 404);
      const badToken = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/verify-email',
        payload: { token: 'x'.repeat(43) },
      });
      assert.equal(badToken.statusCode, 400);
      assert.equal(badToken.json().type, 'invalid_token');
    });
  });
}
