// The open stage end to end through HTTP, across accounts, credits, annotations and the worker protocol:
// sign up → confirm the email from the mail the SMTP server received → generating is refused for lack of
// credits → rate images to earn them → generate → a donor's worker makes the images → the requester paid,
// the donor earned, and a retried request changed nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { startTestSmtpServer, type TestSmtpServer } from '../test-support/smtp-server.js';
import { signInWeb } from '../test-support/web-session.js';
import { pop, registerWorker, upload } from '../test-support/worker-client.js';

const password = 'correct horse battery staple';
const small = { model: 'sd-1.5', width: 64, height: 64, steps: 10 };

/** A smooth gradient: what an honest model's output looks like to any blank/noise check. */
function gradientPng(width: number, height: number, shift: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 4 + shift) % 256;
      raw[i + 1] = (y * 4 + shift * 2) % 256;
      raw[i + 2] = (x + y + shift * 3) % 256;
    }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

for (const dialect of testDialects()) {
  describe(`open stage end to end (${dialect})`, () => {
    let c: TestCoordinator;
    let smtp: TestSmtpServer;
    let workerKey: string;
    before(async () => {
      smtp = await startTestSmtpServer();
      c = await startTestCoordinator({
        dialect,
        env: { SMTP_URL: smtp.url, ACCESS_STAGE: 'open', ANNOTATION_GOLD_PERCENT: '0' },
      });
      // The donor is the fixture user: it runs a worker.
      workerKey = await registerWorker(c, c.userKey, 'donor-gpu');
    });
    after(async () => {
      await c.shutdown();
      await smtp.close();
    });

    /** Pops and finishes every queued job with the donor's worker. */
    const workUntilIdle = async () => {
      for (let i = 0; ; i++) {
        const res = await pop(c, workerKey);
        const job = res.json().job as { id: string; leaseId: string } | null;
        if (!job) return i;
        const done = await upload(c, workerKey, job.id, job.leaseId, await gradientPng(64, 64, i));
        assert.equal(done.statusCode, 200, done.body);
      }
    };
    const credits = async (headers: Record<string, string>) => {
      const res = await c.app.inject({ url: '/v1/me/credits', headers });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as {
        balance: number;
        reserved: number;
        spent: number;
        earnedFromWorkers: number;
        earnedFromAnnotations: number;
      };
    };

    test('a newcomer earns credits by rating, spends them, and a donor is paid', async () => {
      // Someone has generated before: an admin grants a seed account credits, and its images get made.
      const seed = await c.createUser('user');
      const grant = await c.app.inject({
        method: 'POST',
        url: '/v1/admin/credits/grants',
        headers: { ...auth(c.adminKey), 'idempotency-key': 'seed-grant' },
        payload: { userId: seed.id, amount: 10, memo: 'seed images for the test' },
      });
      assert.equal(grant.statusCode, 201, grant.body);
      const seeded = await c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(seed.key),
        payload: { ...small, prompt: 'a lighthouse at dusk', n: 3 },
      });
      assert.equal(seeded.statusCode, 201, seeded.body);
      assert.equal(await workUntilIdle(), 3);
      const donorAfterSeed = await credits(auth(c.userKey));
      assert.equal(donorAfterSeed.earnedFromWorkers, 3, 'one credit per 64×64×10-step image');

      // A newcomer signs up with just an email and a password, and confirms the email.
      const signUp = await c.app.inject({
        method: 'POST',
        url: '/v1/auth/sign-up',
        payload: { email: 'newcomer@example.org', password },
      });
      assert.equal(signUp.statusCode, 201, signUp.body);
      assert.equal(signUp.json().stage, 'open');
      const token = smtp.tokenIn(await smtp.waitFor('newcomer@example.org', 'Confirm your email'));
      assert.equal(
        (await c.app.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode,
        200,
      );
      const web = await signInWeb(c.app, 'newcomer@example.org', password);
      const generate = (key: string) =>
        c.app.inject({
          method: 'POST',
          url: '/v1/generations',
          headers: { ...web.headers(), 'idempotency-key': key },
          payload: { ...small, prompt: 'a red fox in snow', n: 2 },
        });

      const broke = await generate('first-try');
      assert.equal(broke.statusCode, 402, broke.body);
      assert.equal(broke.json().type, 'insufficient_credits');
      assert.match(broke.json().detail, /rat/i, 'the error says how to earn credits');

      // Two ratings of other people's images earn 2 credits each.
      for (let i = 0; i < 2; i++) {
        const next = await c.app.inject({ url: '/v1/annotations/next?kind=rating', headers: web.headers() });
        assert.equal(next.statusCode, 200, next.body);
        const task = next.json().task as { id: string; images: { url: string }[] };
        assert.ok(task, 'there are images to rate');
        const image = await c.app.inject({ url: task.images[0]!.url, headers: web.headers() });
        assert.equal(image.statusCode, 200);
        const answer = await c.app.inject({
          method: 'POST',
          url: `/v1/annotations/${task.id}`,
          headers: web.headers(),
          payload: { rating: 7 },
        });
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(answer.json().creditsEarned, 2);
      }
      assert.deepEqual(
        [(await credits(web.headers())).balance, (await credits(web.headers())).earnedFromAnnotations],
        [4, 4],
      );

      const paid = await generate('second-try');
      assert.equal(paid.statusCode, 201, paid.body);
      const replay = await generate('second-try');
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.json().id, paid.json().id, 'a retry returns the first answer');
      const reserved = await credits(web.headers());
      assert.deepEqual([reserved.balance, reserved.reserved], [2, 2], 'charged once, held in escrow');

      assert.equal(await workUntilIdle(), 2);
      const settled = await credits(web.headers());
      assert.deepEqual([settled.balance, settled.reserved, settled.spent], [2, 0, 2]);
      assert.equal((await credits(auth(c.userKey))).earnedFromWorkers, 5, 'the donor earned for every image');

      const history = await c.app.inject({ url: '/v1/me/credits/history', headers: web.headers() });
      const kinds = (history.json().items as { kind: string }[]).map((m) => m.kind);
      assert.ok(kinds.length >= 4, JSON.stringify(kinds));
    });
  });
}
