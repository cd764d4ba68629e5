// Re-evaluation after a rule change, on both databases, with the real classifier: new thresholds hide or
// show images already classified by their stored scores, new prompt-filter rules hide or show images of
// prompts already submitted; what a moderator decided stays; every change is audited; runs go in keyset
// pages that two runners never apply twice, and an interrupted run resumes where it stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { classified, deliverDrawings, ownerView, setBlockedWords } from './test-fixtures.js';
import { Reevaluations } from './reevaluation.js';

for (const dialect of testDialects()) {
  describe(`re-evaluation after a rule change (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let owner: { id: string; key: string };
    let generationId: string;
    let imageIds: string[];
    before(async () => {
      let t = Date.now();
      c = await startTestCoordinator({
        dialect,
        clock: { now: () => ++t },
        // Nothing is hidden at first: every drawing scores below 1.
        env: { NSFW_CLASSIFIER: 'nsfwjs', NSFW_HIDE_THRESHOLD: '1', NSFW_BLUR_THRESHOLD: '1' },
      });
      moderator = await c.createUser('moderator');
      owner = await c.createUser();
      ({ generationId, imageIds } = await deliverDrawings(c, owner.key, 4, 70));
      const images = await classified(c, owner.key, generationId);
      assert.ok(images.every((i) => i.nsfw!.state === 'classified' && !i.nsfw!.hidden));
    });
    after(() => c.shutdown());

    const hidden = async () =>
      Object.fromEntries(
        (await ownerView(c, owner.key, generationId)).map((i) => [
          i.jobId,
          i.nsfw!.hidden ? i.nsfw!.reason : null,
        ]),
      );
    const audits = async (action: string, imageId: string) => {
      const res = await c.app.inject({
        url: `/v1/moderation/audit?action=${action}&targetId=${imageId}&limit=200`,
        headers: auth(c.adminKey),
      });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as { detail: Record<string, unknown> }[]).filter((e) => e.detail.reevaluation);
    };
    const setThresholds = async (value: number) => {
      const res = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/safety/thresholds',
        headers: auth(c.adminKey),
        payload: { hideAbove: value, blurAbove: value },
      });
      assert.equal(res.statusCode, 200, res.body);
      await c.services.safety.reevaluations.idle();
    };
    const progress = async (kind: string) => {
      const res = await c.app.inject({ url: '/v1/admin/safety/reevaluations', headers: auth(c.adminKey) });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as { kind: string; finishedAt?: string; processed: number }[]).find(
        (r) => r.kind === kind,
      );
    };

    test('lower thresholds hide stored images by their scores; raised again, the classifier hides are lifted but a moderator’s stays', async () => {
      const byModerator = imageIds[0]!;
      const hide = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${byModerator}/hide`,
        headers: auth(moderator.key),
        payload: { reason: 'a moderator decided' },
      });
      assert.equal(hide.statusCode, 200, hide.body);

      await setThresholds(0);
      const after0 = await hidden();
      assert.equal(after0[byModerator], 'a moderator decided');
      for (const id of imageIds.slice(1)) {
        assert.match(after0[id] ?? '', /^nsfw_classifier: scored \d\.\d\d .*hide threshold 0\.00/);
        const [entry] = await audits('image.hide', id);
        assert.equal(entry?.detail.by, 'classifier');
        assert.equal(entry?.detail.threshold, 0);
      }
      const done = await progress('safety_thresholds');
      assert.ok(done?.finishedAt, 'the run finished');
      assert.ok(done.processed >= imageIds.length);

      await setThresholds(1);
      const after1 = await hidden();
      assert.equal(after1[byModerator], 'a moderator decided', 'a moderator’s hide is never lifted');
      for (const id of imageIds.slice(1)) {
        assert.equal(after1[id], null);
        assert.equal((await audits('image.unhide', id)).length, 1);
      }
    });

    test('new prompt-filter rules hide the images of prompts already submitted; dropping them shows them again', async () => {
      await setBlockedWords(c, ['landscape']);
      const screened = await hidden();
      for (const id of imageIds.slice(1))
        assert.equal(screened[id], 'prompt_filter: its prompt matches the blocked word "landscape"');
      assert.equal(screened[imageIds[0]!], 'a moderator decided');
      assert.ok((await progress('prompt_filter'))?.finishedAt);
      // The owner is told which rule hid it, not that a moderator did.
      const view = new Map((await ownerView(c, owner.key, generationId)).map((i) => [i.jobId, i.nsfw]));
      assert.equal(view.get(imageIds[1]!)?.hiddenBy, 'prompt_filter');
      assert.equal(view.get(imageIds[0]!)?.hiddenBy, 'moderator');

      const reset = await c.app.inject({
        method: 'DELETE',
        url: '/v1/admin/prompt-filter',
        headers: auth(c.adminKey),
      });
      assert.equal(reset.statusCode, 200, reset.body);
      await c.services.safety.reevaluations.idle();
      const cleared = await hidden();
      for (const id of imageIds.slice(1)) assert.equal(cleared[id], null);
    });

    test('pages of two: two runners apply each page once, and a fresh runner resumes an interrupted run', async () => {
      const db = c.services.database.db;
      const log = pino({ enabled: false });
      const clock = { now: () => Date.now() };
      const first = new Reevaluations(db, clock, log, c.services.safety.reevaluations.jobs, 2);
      const second = new Reevaluations(db, clock, log, c.services.safety.reevaluations.jobs, 2);
      const before = (await audits('image.hide', imageIds[1]!)).length;
      await first.thresholdsChanged(c.userId, 0);
      await second.resume();
      await Promise.all([first.idle(), second.idle()]);
      for (const id of imageIds.slice(1)) assert.equal((await audits('image.hide', id)).length, before + 1);

      // Interrupted after one page: the row says where it stopped; a new process picks it up from there.
      await db
        .updateTable('reevaluations')
        .set({ after_id: imageIds[2]!, finished_at: null, target: JSON.stringify({ hideAbove: 1 }) })
        .where('kind', '=', 'safety_thresholds')
        .execute();
      const third = new Reevaluations(db, clock, log, c.services.safety.reevaluations.jobs, 2);
      await third.resume();
      await third.idle();
      const shown = await hidden();
      // Keyset order: images at or before the position stay as they were, the rest are shown again.
      const sorted = [...imageIds.slice(1)].sort();
      for (const id of sorted) {
        const past = id > imageIds[2]!;
        assert.equal(shown[id] === null, past, `${id} ${past ? 'after' : 'before'} the position`);
      }
      assert.ok((await progress('safety_thresholds'))?.finishedAt);
    });
  });
}
