// Changing what an account is: profile and dataset consent, password, email (re-verified), deletion.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { startTestSmtpServer, type TestSmtpServer } from '../test-support/smtp-server.js';
import { signInWeb, type WebSession } from '../test-support/web-session.js';

const password = 'correct horse battery staple';

for (const dialect of testDialects()) {
  describe(`account changes (${dialect})`, () => {
    let c: TestCoordinator;
    let smtp: TestSmtpServer;
    before(async () => {
      smtp = await startTestSmtpServer();
      c = await startTestCoordinator({ dialect, env: { SMTP_URL: smtp.url, ACCESS_STAGE: 'open' } });
    });
    after(async () => {
      await c.shutdown();
      await smtp.close();
    });

    /** Signs up, confirms the email from the mail, signs in. */
    const newAccount = async (email: string): Promise<{ id: string; web: WebSession }> => {
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email, password },
      });
      assert.equal(res.statusCode, 201, res.body);
      const token = smtp.tokenIn(await smtp.waitFor(email, 'Confirm your email'));
      const verified = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/verify-email',
        payload: { token },
      });
      assert.equal(verified.statusCode, 200);
      return { id: res.json().user.id, web: await signInWeb(c.app, email, password) };
    };

    test('profile and dataset consent', async () => {
      const { web } = await newAccount('grace@example.org');
      const res = await c.app.inject({
        method: 'PATCH',
        url: '/v1/me',
        headers: web.headers(),
        payload: { displayName: 'Grace', datasetConsent: 'withdrawn' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().displayName, 'Grace');
      assert.equal(res.json().datasetConsent, 'withdrawn');
      const bad = await c.app.inject({
        method: 'PATCH',
        url: '/v1/me',
        headers: web.headers(),
        payload: { datasetConsent: 'sometimes' },
      });
      assert.equal(bad.statusCode, 400);
    });

    test('changing the password needs the current one and signs out other sessions', async () => {
      const { web } = await newAccount('heidi@example.org');
      const other = await signInWeb(c.app, 'heidi@example.org', password);
      const wrong = await c.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: web.headers(),
        payload: { currentPassword: 'not my password', password: 'the next passphrase' },
      });
      assert.equal(wrong.statusCode, 401);
      const ok = await c.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: web.headers(),
        payload: { currentPassword: password, password: 'the next passphrase' },
      });
      assert.equal(ok.statusCode, 204);
      assert.equal((await c.app.inject({ url: '/v1/auth/session', headers: web.headers() })).statusCode, 200);
      assert.equal(
        (await c.app.inject({ url: '/v1/auth/session', headers: other.headers() })).statusCode,
        401,
      );
    });

    test('changing the email waits for the new address to be confirmed and tells the old one', async () => {
      const { web } = await newAccount('ivan@example.org');
      await newAccount('taken@example.org');
      const change = (email: string, currentPassword = password) =>
        c.app.inject({
          method: 'POST',
          url: '/v1/me/email',
          headers: web.headers(),
          payload: { email, currentPassword },
        });
      assert.equal((await change('taken@example.org')).statusCode, 409);
      assert.equal((await change('ivan2@example.org', 'wrong password')).statusCode, 401);
      assert.equal((await change('ivan2@example.org')).statusCode, 202);
      const notice = await smtp.waitFor('ivan@example.org', 'being changed');
      assert.match(notice.text, /ivan2@example\.org/);
      const me = await c.app.inject({ url: '/v1/me', headers: web.headers() });
      assert.equal(me.json().email, 'ivan@example.org', 'unchanged until confirmed');
      const token = smtp.tokenIn(await smtp.waitFor('ivan2@example.org', 'new email'));
      const confirmed = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/verify-email',
        payload: { token },
      });
      assert.equal(confirmed.statusCode, 200);
      assert.equal(confirmed.json().email, 'ivan2@example.org');
      const oldSignIn = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email: 'ivan@example.org', password },
      });
      assert.equal(oldSignIn.statusCode, 401);
      await signInWeb(c.app, 'ivan2@example.org', password);
    });

    test('deleting an account erases personal data, ends every credential, and honours the image choice', async () => {
      const { id, web } = await newAccount('judy@example.org');
      const key = await c.app.inject({
        method: 'POST',
        url: '/v1/me/api-keys',
        headers: web.headers(),
        payload: { name: 'script' },
      });
      const apiKey = key.json().key as string;
      const wrong = await c.app.inject({
        method: 'DELETE',
        url: '/v1/me',
        headers: web.headers(),
        payload: { currentPassword: 'nope', images: 'withdraw' },
      });
      assert.equal(wrong.statusCode, 401);
      const missingChoice = await c.app.inject({
        method: 'DELETE',
        url: '/v1/me',
        headers: web.headers(),
        payload: { currentPassword: password },
      });
      assert.equal(missingChoice.statusCode, 400);
      const res = await c.app.inject({
        method: 'DELETE',
        url: '/v1/me',
        headers: web.headers(),
        payload: { currentPassword: password, images: 'withdraw' },
      });
      assert.equal(res.statusCode, 204, res.body);
      await smtp.waitFor('judy@example.org', 'deleted');
      assert.equal((await c.app.inject({ url: '/v1/me', headers: auth(apiKey) })).statusCode, 401);
      assert.equal((await c.app.inject({ url: '/v1/auth/session', headers: web.headers() })).statusCode, 401);
      const signIn = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-in',
        payload: { email: 'judy@example.org', password },
      });
      assert.equal(signIn.statusCode, 401);
      const row = await c.services.database.db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.doesNotMatch(JSON.stringify(row), /judy/, 'no trace of the email');
      assert.equal(row.password_hash, null);
      assert.equal(row.dataset_consent, 'withdrawn');
      assert.notEqual(row.deleted_at, null);
      // The address is free again.
      const again = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: 'judy@example.org', password },
      });
      assert.equal(again.statusCode, 201);
    });
  });
}
