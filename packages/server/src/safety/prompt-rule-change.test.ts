// A prompt-filter rule added after prompts were submitted, through HTTP on both databases: finished images
// are hidden and their owners told which rule hid them (not "a moderator"), an appeal counts under that
// rule; images not made yet are not made at all — failed with the rule in words, refunded in full, the
// worker holding one told to drop it at its next heartbeat — and other prompts are untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { heartbeat, pop, registerWorker, submit, upload } from '../test-support/worker-client.js';
import { ownerView, setBlockedWords } from './test-fixtures.js';

const RULE = 'the blocked word "landscape"';

for (const dialect of testDialects()) {
  describe(`a prompt-filter rule added later (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        env: { ACCESS_STAGE: 'open', CREDITS_IMAGE_COST: '1000', CREDITS_WORKER_REWARD: '500' },
      });
      moderator = await c.createUser('moderator');
      const grant = await c.app.inject({
        method: 'POST',
        url: '/v1/admin/credits/grants',
        headers: auth(c.adminKey),
        payload: { userId: c.userId, amount: 100_000, memo: 'requester' },
      });
      assert.equal(grant.statusCode, 201, grant.body);
    });
    after(() => c.shutdown());

    const balance = async () =>
      (await c.app.inject({ url: '/v1/me/credits', headers: auth(c.userKey) })).json().balance as number;
    const generation = async (id: string) =>
      (await c.app.inject({ url: `/v1/generations/${id}`, headers: auth(c.userKey) })).json() as {
        status: string;
        images: { jobId: string; state: string; error?: string }[];
      };
    const submitted = async (prompt: string, n: number) => {
      const res = await submit(c, c.userKey, { prompt, model: 'rule-model', n });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };

    test('finished images are hidden by the rule, images not made yet are failed and refunded', async () => {
      const worker = await registerWorker(c, c.adminKey);
      const take = async () => {
        const job = (await pop(c, worker, { models: ['rule-model'] })).json().job as {
          id: string;
          leaseId: string;
        } | null;
        assert.ok(job);
        return job;
      };
      const finished = await submitted('a misty landscape', 1);
      const done = await take();
      assert.equal(
        (await upload(c, worker, done.id, done.leaseId, await solidPng(64, 64, 3))).statusCode,
        200,
      );

      const before = await balance();
      const waiting = await submitted('a landscape in the rain', 3);
      const cost = before - (await balance());
      assert.ok(cost > 0, 'the requester paid for three images');
      const leased = await take();
      assert.ok(
        (await generation(waiting)).images.some((i) => i.jobId === leased.id),
        'the worker holds one image of the waiting generation',
      );
      const beforeOther = await balance();
      const other = await submitted('a quiet harbour', 1);
      const otherCost = beforeOther - (await balance());

      await setBlockedWords(c, ['landscape']);

      // Not made: failed with the rule in words, every credit back.
      const stopped = await generation(waiting);
      assert.equal(stopped.status, 'failed');
      for (const image of stopped.images) {
        assert.equal(image.state, 'failed');
        assert.match(
          image.error ?? '',
          /^Withdrawn before generation: a content rule added after it was queued refuses it\. The prompt contains "landscape", which matches the blocked word "landscape"/,
        );
      }
      assert.equal(await balance(), before - otherCost, 'the three images refunded in full');
      const history = await c.app.inject({ url: '/v1/me/credits/history', headers: auth(c.userKey) });
      const refunds = (history.json().items as { kind: string; memo?: string }[]).filter(
        (m) => m.kind === 'refund',
      );
      assert.equal(refunds.length, 3, history.body);
      for (const r of refunds)
        assert.match(r.memo ?? '', /content rule added after these images were queued/);
      const books = await c.app.inject({ url: '/v1/admin/credits/books', headers: auth(c.adminKey) });
      assert.equal(books.json().balanced, true, books.body);
      const audit = await c.app.inject({
        url: `/v1/moderation/audit?action=generation.fail&targetId=${waiting}`,
        headers: auth(c.adminKey),
      });
      assert.equal(audit.statusCode, 200, audit.body);
      const [entry] = audit.json().items as { actorId: string; detail: { by: string; jobs: string[] } }[];
      assert.equal(entry?.detail.by, 'prompt_filter');
      assert.equal(entry?.detail.jobs.length, 3);

      // The worker holding one is told to drop it, not blamed; its upload is refused with the reason.
      const beat = await heartbeat(c, worker, leased.id, leased.leaseId);
      assert.equal(beat.statusCode, 200, beat.body);
      assert.equal(beat.json().cancelled, true);
      const late = await upload(c, worker, leased.id, leased.leaseId, await solidPng(64, 64, 4));
      assert.equal(late.statusCode, 409, late.body);
      assert.equal(late.json().type, 'job_cancelled');
      assert.match(late.json().detail, /content rule added after this job was queued/);

      // Other prompts go on.
      assert.equal((await generation(other)).status, 'queued');
      const next = await take();
      assert.equal((await generation(other)).images[0]?.jobId, next.id);

      // The finished image: hidden, its owner told by what rule, and an appeal counted under that rule.
      const [image] = await ownerView(c, c.userKey, finished);
      assert.equal(image?.nsfw?.hiddenBy, 'prompt_filter');
      assert.equal(image?.nsfw?.reason, `prompt_filter: its prompt matches ${RULE}`);
      const appeal = await c.app.inject({
        method: 'POST',
        url: `/v1/images/${done.id}/appeals`,
        headers: auth(c.userKey),
        payload: { note: 'A painting of hills.' },
      });
      assert.equal(appeal.statusCode, 201, appeal.body);
      assert.deepEqual([appeal.json().source, appeal.json().rule], ['prompt_filter', RULE]);
      const decided = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/appeals/${appeal.json().id}/decision`,
        headers: auth(moderator.key),
        payload: { outcome: 'overturned', note: 'Hills are fine.' },
      });
      assert.equal(decided.statusCode, 200, decided.body);
      assert.equal((await ownerView(c, c.userKey, finished))[0]?.nsfw?.hidden, false);
      const stats = await c.app.inject({ url: '/v1/moderation/appeals/stats', headers: auth(moderator.key) });
      assert.deepEqual(
        (stats.json().items as { source: string }[]).filter((i) => i.source === 'prompt_filter'),
        [{ source: 'prompt_filter', rule: RULE, open: 0, upheld: 0, overturned: 1 }],
        'a false positive of this rule, counted',
      );
    });
  });
}
