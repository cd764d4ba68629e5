// The prompt filter at hand-out: a rule an admin adds stops what was queued before it, at no cost to the
// worker, and the requester learns which rule did it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, submit } from '../test-support/worker-client.js';

for (const dialect of testDialects()) {
  describe(`prompt filter at hand-out (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect, env: { TRUST_VERIFY: 'off' } });
    });
    after(() => c.shutdown());

    test('a job queued before a rule is withdrawn, not generated; the worker gets the next clean one', async () => {
      const banned = (
        await submit(c, c.userKey, { model: 'gate', prompt: 'a red dragon', negativePrompt: 'blur' })
      ).json();
      const negative = (
        await submit(c, c.userKey, { model: 'gate', prompt: 'a castle', negativePrompt: 'no dragon' })
      ).json();
      const clean = (await submit(c, c.userKey, { model: 'gate', prompt: 'a lighthouse' })).json();
      // The rule change also starts a re-evaluation that fails the queued jobs on its own, in the
      // background (safety/reevaluation.ts, tested there). Stopped here, so that the hand-out is what
      // stops them: on PostgreSQL a running re-evaluation holds their rows, the claim skips them (SKIP
      // LOCKED), and the generations read below could still be queued until its page commits.
      await c.services.safety.reevaluations.stop();
      const rules = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
        payload: { words: ['dragon'], patterns: [] },
      });
      assert.equal(rules.statusCode, 200, rules.body);
      // New submissions are refused at the door, as before.
      assert.equal((await submit(c, c.userKey, { model: 'gate', prompt: 'dragon' })).statusCode, 422);

      const key = await registerWorker(c, c.userKey, 'gated');
      const job = (await pop(c, key, { models: ['gate'] })).json().job;
      assert.equal(job.id, clean.images[0].jobId, 'both older jobs were passed over');
      for (const [g, field] of [
        [banned, 'prompt'],
        [negative, 'negative prompt'],
      ] as const) {
        const read = (
          await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) })
        ).json();
        assert.equal(read.status, 'failed');
        assert.match(
          read.images[0].error,
          new RegExp(
            `^Withdrawn before generation: .*The ${field} contains "dragon", which matches the blocked word "dragon"`,
          ),
        );
      }
      const workerId = (await c.app.inject({ url: '/v1/workers/me/why-idle', headers: auth(key) })).json()
        .workerId;
      const worker = (await c.app.inject({ url: '/v1/workers', headers: auth(c.userKey) }))
        .json()
        .items.find((w: { id: string }) => w.id === workerId);
      assert.equal(worker.jobsFailed, 0, 'not the worker’s fault');
    });
  });
}
