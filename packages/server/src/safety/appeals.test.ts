// Appeals against safety decisions, through HTTP: the real classifier hides every image here (the hide
// threshold starts at 0), a moderator hides another; owners appeal; moderators uphold or overturn; the
// outcomes are counted per rule and per classifier score band.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { classified, deliverDrawings, ownerView } from './test-fixtures.js';

for (const dialect of testDialects()) {
  describe(`appeals (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let owner: { id: string; key: string };
    let other: { id: string; key: string };
    let classifierHidden: string[];
    let generationId: string;
    before(async () => {
      let t = Date.now();
      c = await startTestCoordinator({
        dialect,
        clock: { now: () => ++t },
        // Two classifier threads: images are claimed one at a time, so each is judged exactly once.
        env: {
          NSFW_CLASSIFIER: 'nsfwjs',
          NSFW_CLASSIFIER_THREADS: '2',
          NSFW_HIDE_THRESHOLD: '0',
          NSFW_BLUR_THRESHOLD: '0',
        },
      });
      moderator = await c.createUser('moderator');
      owner = await c.createUser();
      other = await c.createUser();
      const made = await deliverDrawings(c, owner.key, 3, 40);
      generationId = made.generationId;
      classifierHidden = made.imageIds;
      const images = await classified(c, owner.key, generationId);
      assert.ok(images.every((i) => i.nsfw!.hidden && i.nsfw!.hiddenBy === 'classifier'));
    });
    after(() => c.shutdown());

    const appeal = (key: string, imageId: string, payload: object, headers: Record<string, string> = {}) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/images/${imageId}/appeals`,
        headers: { ...auth(key), ...headers },
        payload,
      });
    const decide = (key: string, appealId: string, payload: object) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/moderation/appeals/${appealId}/decision`,
        headers: auth(key),
        payload,
      });
    const get = (url: string, key?: string) => c.app.inject({ url, headers: key ? auth(key) : {} });

    test('the owner appeals a classifier hide once; retries replay; others and bad input are refused', async () => {
      const id = classifierHidden[0]!;
      const first = await appeal(
        owner.key,
        id,
        { note: 'It is a landscape drawing.' },
        { 'idempotency-key': 'a-1' },
      );
      assert.equal(first.statusCode, 201, first.body);
      const a = first.json();
      assert.equal(a.source, 'classifier');
      assert.equal(a.rule, 'nsfw_classifier');
      assert.equal(a.state, 'open');
      assert.ok(typeof a.score === 'number');
      const replay = await appeal(
        owner.key,
        id,
        { note: 'It is a landscape drawing.' },
        { 'idempotency-key': 'a-1' },
      );
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.json().id, a.id);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(
        (await appeal(owner.key, id, { note: 'again' })).statusCode,
        409,
        'one open appeal per image',
      );
      // Another user's appeal on it: the image does not exist for them.
      assert.equal((await appeal(other.key, id, { note: 'mine?' })).statusCode, 404);
      assert.equal((await appeal(owner.key, 'no_such_image', { note: 'x' })).statusCode, 404);
      for (const bad of [
        {},
        { note: '' },
        { note: 'x'.repeat(2001) },
        { note: 7 },
        { note: 'x', extra: 1 },
      ]) {
        assert.equal((await appeal(owner.key, id, bad)).statusCode, 400, JSON.stringify(bad));
      }
      // The owner's view carries the appeal; their list has it; nobody else's does.
      const view = await ownerView(c, owner.key, generationId);
      assert.deepEqual(view.find((i) => i.jobId === id)!.nsfw!.appeal, { id: a.id, state: 'open' });
      assert.equal((await get('/v1/me/appeals', owner.key)).json().items[0].id, a.id);
      assert.equal((await get('/v1/me/appeals', other.key)).json().items.length, 0);
    });

    test('a moderator does not decide the appeal about their own image', async () => {
      const mine = await deliverDrawings(c, moderator.key, 1, 80);
      await classified(c, moderator.key, mine.generationId);
      const own = await appeal(moderator.key, mine.imageIds[0]!, { note: 'mine is fine' });
      assert.equal(own.statusCode, 201);
      const res = await decide(moderator.key, own.json().id, { outcome: 'overturned', note: 'mine' });
      assert.equal(res.statusCode, 403);
      const colleague = await c.createUser('moderator');
      assert.equal(
        (await decide(colleague.key, own.json().id, { outcome: 'upheld', note: 'no' })).statusCode,
        200,
      );
    });

    test('an image that is not hidden has nothing to appeal', async () => {
      const id = classifierHidden[2]!;
      const unhide = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${id}/unhide`,
        headers: auth(moderator.key),
        payload: { reason: 'looked at it' },
      });
      assert.equal(unhide.statusCode, 200, unhide.body);
      const res = await appeal(owner.key, id, { note: 'please' });
      assert.equal(res.statusCode, 409);
      assert.match(res.json().detail, /not hidden/);
    });

    test('moderators overturn (the image is public again) or uphold; both are audited and counted', async () => {
      const [overturnId, upholdId] = classifierHidden as [string, string];
      const queue = await get('/v1/moderation/appeals', moderator.key);
      assert.equal(queue.statusCode, 200);
      const open = queue.json().items as { id: string; imageId: string; userId: string; prompt: string }[];
      const toOverturn = open.find((a) => a.imageId === overturnId)!;
      assert.equal(toOverturn.userId, owner.id);
      assert.equal(toOverturn.prompt, 'a landscape drawing');
      assert.equal((await get('/v1/moderation/appeals', owner.key)).statusCode, 403, 'staff only');

      const overturned = await decide(moderator.key, toOverturn.id, {
        outcome: 'overturned',
        note: 'a drawing',
      });
      assert.equal(overturned.statusCode, 200, overturned.body);
      assert.equal(overturned.json().state, 'overturned');
      assert.equal(overturned.json().decisionNote, 'a drawing');
      assert.equal(
        (await decide(moderator.key, toOverturn.id, { outcome: 'upheld', note: 'x' })).statusCode,
        409,
      );
      assert.equal((await get(`/v1/images/${overturnId}`)).statusCode, 200, 'public again');
      const audit = (await get(`/v1/moderation/audit?targetId=${overturnId}`, moderator.key)).json()
        .items as {
        action: string;
        actorId: string;
      }[];
      // Both written in the decision's transaction, at the same moment.
      const decision = audit.slice(0, 2);
      assert.deepEqual(decision.map((e) => e.action).sort(), ['appeal.decide', 'image.unhide']);
      assert.ok(decision.every((e) => e.actorId === moderator.id));

      const second = await appeal(owner.key, upholdId, { note: 'also a drawing' });
      assert.equal(second.statusCode, 201);
      const upheld = await decide(moderator.key, second.json().id, {
        outcome: 'upheld',
        note: 'keep it hidden',
      });
      assert.equal(upheld.json().state, 'upheld');
      assert.equal((await get(`/v1/images/${upholdId}`)).statusCode, 404, 'still hidden');
      for (const bad of [
        { outcome: 'maybe', note: 'x' },
        { outcome: 'upheld' },
        { outcome: 'upheld', note: '' },
      ]) {
        assert.equal((await decide(moderator.key, second.json().id, bad)).statusCode, 400);
      }
      assert.equal(
        (await decide(moderator.key, 'no_such_appeal', { outcome: 'upheld', note: 'x' })).statusCode,
        404,
      );
      assert.equal(
        (await decide(owner.key, second.json().id, { outcome: 'overturned', note: 'x' })).statusCode,
        403,
      );

      // A moderator's hide, appealed and upheld, is counted under its reason.
      const later = await deliverDrawings(c, owner.key, 1, 60);
      const byModerator = later.imageIds[0]!;
      await classified(c, owner.key, later.generationId);
      const unhideFirst = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${byModerator}/unhide`,
        headers: auth(moderator.key),
        payload: { reason: 'the classifier was wrong' },
      });
      // Classified and hidden by the classifier first (threshold 0); unhide, then a moderator hides it.
      assert.equal(unhideFirst.statusCode, 200, unhideFirst.body);
      const hide = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${byModerator}/hide`,
        headers: auth(moderator.key),
        payload: { reason: 'offensive' },
      });
      assert.equal(hide.statusCode, 200, hide.body);
      const modAppeal = await appeal(owner.key, byModerator, { note: 'not offensive' });
      assert.equal(modAppeal.json().source, 'moderator');
      assert.equal(modAppeal.json().rule, 'offensive');
      await decide(moderator.key, modAppeal.json().id, { outcome: 'upheld', note: 'it is' });

      const stats = await get('/v1/moderation/appeals/stats', moderator.key);
      assert.equal(stats.statusCode, 200);
      const s = stats.json();
      assert.deepEqual(
        s.items.find((i: { source: string }) => i.source === 'classifier'),
        { source: 'classifier', rule: 'nsfw_classifier', open: 0, upheld: 2, overturned: 1 },
      );
      assert.deepEqual(
        s.items.find((i: { source: string }) => i.source === 'moderator'),
        { source: 'moderator', rule: 'offensive', open: 0, upheld: 1, overturned: 0 },
      );
      assert.equal(s.classifier.hidden, 5, 'every image here was hidden by the classifier once');
      assert.equal(s.classifier.appealed, 3);
      assert.equal(s.classifier.overturned, 1);
      assert.equal(s.classifier.byScore.length, 10);
      const overturnedScore = overturned.json().score as number;
      const band = s.classifier.byScore[Math.min(9, Math.floor(overturnedScore * 10))];
      assert.equal(band.overturned, 1);
      assert.equal(
        s.classifier.byScore.reduce((a: number, b: { hidden: number }) => a + b.hidden, 0),
        5,
      );
      assert.equal((await get('/v1/moderation/appeals/stats', owner.key)).statusCode, 403);
    });
  });
}
