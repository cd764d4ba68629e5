// Sign-in, sessions, CSRF, lockout, per-IP limits and password reset, through HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { startTestSmtpServer, type TestSmtpServer } from '../test-support/smtp-server.js';
import { signInWeb } from '../test-support/web-session.js';

const password = 'correct horse battery staple';

for (const dialect of testDialects()) {
  describe(`sign-in and sessions (${dialect})`, () => {
    let c: TestCoordinator;
    let smtp: TestSmtpServer;
    const clock = new ManualClock(Date.UTC(2026, 10, 1));
    before(async () => {
      smtp = await startTestSmtpServer();
      c = await startTestCoordinator({
        dialect,
        clock,
        env: {
          SMTP_URL: smtp.url,
          ACCESS_STAGE: 'open',
          SIGN_IN_MAX_FAILURES: '3',
          SIGN_IN_LOCK_MINUTES: '10',
        },
      });
    });
    after(async () => {
      await c.shutdown();
      await smtp.close();
    });

    const signUp = async (email: string) => {
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email, password },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().user.id as string;
    };
    const signIn = (email: string, pw: string) =>
      c.app.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password: pw } });

    test('sign-in sets an HttpOnly SameSite cookie; the session reads back, and sign-out ends it', async () => {
      await signUp('carol@example.org');
      const res = await signIn('CAROL@example.org', password);
      assert.equal(res.statusCode, 200, res.body);
      const cookie = [res.headers['set-cookie']].flat().join(';');
      assert.match(cookie, /df_session=dfs_/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.doesNotMatch(res.body, /dfs_/, 'the session token never appears in a body');
      const web = await signInWeb(c.app, 'carol@example.org', password);
      const session = await c.app.inject({ url: '/v1/auth/session', headers: web.headers({ csrf: false }) });
      assert.equal(session.statusCode, 200);
      assert.equal(session.json().user.email, 'carol@example.org');
      assert.equal(session.json().csrfToken, web.csrfToken);

      const noCsrf = await c.app.inject({
        method: 'POST',
        url: '/v1/me/api-keys',
        headers: web.headers({ csrf: false }),
        payload: { name: 'x' },
      });
      assert.equal(noCsrf.statusCode, 403);
      assert.equal(noCsrf.json().type, 'csrf_failed');
      const wrongCsrf = await c.app.inject({
        method: 'POST',
        url: '/v1/me/api-keys',
        headers: { ...web.headers(), 'x-csrf-token': 'forged' },
        payload: { name: 'x' },
      });
      assert.equal(wrongCsrf.statusCode, 403);
      const ok = await c.app.inject({
        method: 'POST',
        url: '/v1/me/api-keys',
        headers: web.headers(),
        payload: { name: 'laptop' },
      });
      assert.equal(ok.statusCode, 201);

      const out = await c.app.inject({ method: 'POST', url: '/v1/auth/sign-out', headers: web.headers() });
      assert.equal(out.statusCode, 204);
      const gone = await c.app.inject({ url: '/v1/auth/session', headers: web.headers() });
      assert.equal(gone.statusCode, 401);
    });

    test('sessions expire after SESSION_DAYS without use', async () => {
      const web = await signInWeb(c.app, 'carol@example.org', password);
      clock.advance(15 * 24 * 3600 * 1000);
      const res = await c.app.inject({ url: '/v1/auth/session', headers: web.headers() });
      assert.equal(res.statusCode, 401);
    });

    test('wrong passwords lock the account for a while; unknown emails get the same answer', async () => {
      await signUp('dave@example.org');
      const unknown = await signIn('nobody@example.org', 'whatever-password');
      assert.equal(unknown.statusCode, 401);
      assert.equal(unknown.json().type, 'invalid_credentials');
      for (let i = 0; i < 3; i++) {
        const res = await signIn('dave@example.org', 'wrong password!');
        assert.equal(res.statusCode, 401);
        assert.equal(
          res.json().detail,
          unknown.json().detail,
          'the same words whether or not the email exists',
        );
      }
      const locked = await signIn('dave@example.org', password);
      assert.equal(locked.statusCode, 429);
      assert.equal(locked.json().type, 'account_locked');
      assert.match(locked.json().detail, /10 minutes/);
      clock.advance(10 * 60 * 1000 + 1);
      const after = await signIn('dave@example.org', password);
      assert.equal(after.statusCode, 200, 'the lock lifts by itself');
    });

    test('password reset: the same answer for unknown emails, a single-use link, every session ends', async () => {
      const id = await signUp('erin@example.org');
      const old = await signInWeb(c.app, 'erin@example.org', password);
      const unknown = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'nobody@example.org' },
      });
      assert.equal(unknown.statusCode, 202);
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'erin@example.org' },
      });
      assert.equal(res.statusCode, 202);
      assert.equal(smtp.mails.filter((m) => m.to === 'nobody@example.org').length, 0);
      const mail = await smtp.waitFor('erin@example.org', 'Reset');
      const token = smtp.tokenIn(mail);
      const weak = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset/confirm',
        payload: { token, password: 'short' },
      });
      assert.equal(weak.statusCode, 400);
      const done = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset/confirm',
        payload: { token, password: 'a brand new passphrase' },
      });
      assert.equal(done.statusCode, 204);
      const reuse = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset/confirm',
        payload: { token, password: 'another new passphrase' },
      });
      assert.equal(reuse.statusCode, 400);
      assert.equal((await c.app.inject({ url: '/v1/auth/session', headers: old.headers() })).statusCode, 401);
      assert.equal((await signIn('erin@example.org', password)).statusCode, 401);
      assert.equal((await signIn('erin@example.org', 'a brand new passphrase')).statusCode, 200);
      const expired = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset',
        payload: { email: 'erin@example.org' },
      });
      assert.equal(expired.statusCode, 202);
      const late = smtp.tokenIn(await smtp.waitFor('erin@example.org', 'Reset'));
      assert.notEqual(late, token);
      clock.advance(61 * 60 * 1000);
      const tooLate = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/password-reset/confirm',
        payload: { token: late, password: 'yet another passphrase' },
      });
      assert.equal(tooLate.statusCode, 400, 'reset links expire after an hour');
      assert.ok(id);
    });

    test('suspended users cannot sign in, and their open sessions stop working', async () => {
      const id = await signUp('frank@example.org');
      const web = await signInWeb(c.app, 'frank@example.org', password);
      await c.services.database.db
        .updateTable('users')
        .set({ suspended_at: clock.now(), suspension_reason: 'spam' })
        .where('id', '=', id)
        .execute();
      const res = await signIn('frank@example.org', password);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().type, 'account_suspended');
      assert.match(res.json().detail, /spam/);
      assert.equal((await c.app.inject({ url: '/v1/auth/session', headers: web.headers() })).statusCode, 401);
    });
  });

  describe(`sign-in rate limit (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect, env: { SIGN_IN_RATE_PER_MINUTE: '3' } });
    });
    after(() => c.shutdown());

    test('more than SIGN_IN_RATE_PER_MINUTE attempts from one address get 429', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await c.app.inject({
          method: 'POST',
          url: '/v1/auth/sign-in',
          payload: { email: 'x@example.org', password: 'whatever-password' },
        });
        codes.push(res.statusCode);
      }
      assert.deepEqual(codes, [401, 401, 401, 429]);
    });
  });
}
