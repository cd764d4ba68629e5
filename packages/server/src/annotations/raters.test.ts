// Raters for moderators through HTTP: the list (filters, keyset pages, emails for admins only) and
// reinstating an excluded rater, whose answers rejoin the aggregates and whose checks start over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { client, finishedGeneration, ratingGold } from './test-fixtures.js';

interface Rater {
  userId: string;
  email?: string;
  status: string;
  answered: { rating: number; total: number };
  gold: { answers: number; agreed: number; share?: number; score: number };
  excludedAt?: string;
  creditsEarned: number;
}

for (const dialect of testDialects()) {
  describe(`annotation raters for moderators (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let honest: { id: string; key: string; email: string };
    let clicker: { id: string; key: string; email: string };
    /** Images 0 and 1 are gold (known rating 8–10); 2 and 3 are ordinary. */
    const images: string[] = [];

    const get = (url: string, key: string) => c.app.inject({ url, headers: auth(key) });
    const list = async (query: string, key = moderator.key) => {
      const res = await get(`/v1/admin/annotations/raters?${query}`, key);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { items: Rater[]; nextCursor?: string };
    };
    const reinstate = (userId: string, payload: object, key = moderator.key) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/admin/annotations/raters/${userId}/reinstate`,
        headers: auth(key),
        payload,
      });
    const ratingOf = async (imageId: string) =>
      (await get(`/v1/annotations/images/${imageId}`, c.adminKey)).json().rating as {
        count: number;
        mean?: number;
      };
    /** Takes every rating task there is and answers each with `rating`. */
    const rateAll = async (key: string, rating: number) => {
      const r = client(c, key);
      for (let task = await r.next('rating'); task; task = await r.next('rating')) {
        const res = await r.answer(task.id, { rating });
        assert.equal(res.statusCode, 200, res.body);
      }
    };

    before(async () => {
      c = await startTestCoordinator({
        dialect,
        env: {
          CREDITS_ANNOTATION_REWARD: '2',
          // Checks first, while there are any: the clicker is excluded after two, before the rest.
          ANNOTATION_GOLD_PERCENT: '100',
          ANNOTATION_MIN_GOLD_ANSWERS: '2',
          ANNOTATION_MIN_AGREEMENT_PERCENT: '60',
          ANNOTATION_HOURLY_CREDIT_CAP: '100000',
        },
      });
      const owner = await c.createUser();
      moderator = await c.createUser('moderator');
      for (let tag = 1; tag <= 4; tag++) {
        const [id] = await finishedGeneration(c, owner.key, `rater image ${tag}`, [{ score: 9, tag }]);
        images.push(id as string);
      }
      for (const imageId of images.slice(0, 2)) await ratingGold(c, moderator.key, imageId);
      honest = await c.createUser();
      clicker = await c.createUser();
      await rateAll(honest.key, 9);
      await rateAll(clicker.key, 1);
    });
    after(() => c.shutdown());

    test('lists excluded and earning raters with their answers, checks and credits; emails for admins only', async () => {
      const excluded = await list('status=excluded');
      assert.deepEqual(
        excluded.items.map((r) => r.userId),
        [clicker.id],
      );
      const [out] = excluded.items as [Rater];
      assert.equal(out.status, 'excluded');
      assert.equal(out.email, undefined, 'moderators see user ids, not emails');
      assert.deepEqual(out.answered, { rating: 4, pairwise: 0, flag: 0, total: 4 });
      assert.deepEqual(out.gold, { answers: 2, agreed: 0, share: 0, score: 0.25 });
      assert.ok(out.excludedAt && Date.parse(out.excludedAt) > 0);
      // The two checks earned (the second is the one that excluded them); nothing after.
      assert.equal(out.creditsEarned, 4);

      const earning = await list('status=earning');
      assert.deepEqual(
        earning.items.map((r) => r.userId),
        [honest.id],
      );
      const [good] = earning.items as [Rater];
      assert.equal(good.status, 'trusted');
      assert.deepEqual(good.gold, { answers: 2, agreed: 2, share: 1, score: 0.75 });
      assert.equal(good.excludedAt, undefined);
      assert.equal(good.creditsEarned, 8);

      const asAdmin = await list('status=all', c.adminKey);
      const emails = new Map(asAdmin.items.map((r) => [r.userId, r.email]));
      assert.equal(emails.get(clicker.id), clicker.email);
      assert.equal(emails.get(honest.id), honest.email);
    });

    test('pages with a cursor, each rater once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const res = await list(`status=all&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...res.items.map((r) => r.userId));
        cursor = res.nextCursor;
        if (!cursor) break;
      }
      assert.deepEqual([...seen].sort(), [clicker.id, honest.id].sort());
      assert.equal(cursor, undefined);
      const bad = await get('/v1/admin/annotations/raters?cursor=bm90LWEtY3Vyc29y', moderator.key);
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal((await get('/v1/admin/annotations/raters?status=banned', moderator.key)).statusCode, 400);
    });

    test('users cannot list or reinstate raters', async () => {
      assert.equal((await get('/v1/admin/annotations/raters', c.userKey)).statusCode, 403);
      assert.equal((await reinstate(clicker.id, { reason: 'me too' }, honest.key)).statusCode, 403);
      assert.equal((await get('/v1/admin/annotations/raters', '')).statusCode, 401);
    });

    test('reinstating needs a reason and an excluded rater', async () => {
      assert.equal((await reinstate(clicker.id, {})).statusCode, 400);
      assert.equal((await reinstate(clicker.id, { reason: '' })).statusCode, 400);
      assert.equal((await reinstate(clicker.id, { reason: 'x'.repeat(501) })).statusCode, 400);
      const unknown = await reinstate('no-such-user', { reason: 'typo' });
      assert.equal(unknown.statusCode, 404, unknown.body);
      const notExcluded = await reinstate(honest.id, { reason: 'just because' });
      assert.equal(notExcluded.statusCode, 409, notExcluded.body);
      assert.match(notExcluded.json().detail, /not excluded/);
    });

    test('a reinstated rater’s answers rejoin the aggregates, their checks start over, and it is audited', async () => {
      // Before: only the honest rater's 9s count.
      for (const id of images) assert.deepEqual(await ratingOf(id), { count: 1, mean: 9 });

      const res = await reinstate(clicker.id, { reason: 'misread the scale; talked it through' });
      assert.equal(res.statusCode, 200, res.body);
      const back = res.json() as Rater;
      assert.equal(back.userId, clicker.id);
      assert.equal(back.status, 'provisional');
      assert.equal(back.excludedAt, undefined);
      assert.deepEqual(back.gold, { answers: 0, agreed: 0, score: 0.5 });
      assert.equal(back.creditsEarned, 4, 'what they earned stays');

      // After: every image counts the clicker's 1 beside the honest 9.
      for (const id of images) {
        const r = await ratingOf(id);
        assert.equal(r.count, 2);
        assert.equal(r.mean, 5);
      }
      const me = await client(c, clicker.key).me();
      assert.equal(me.agreement.status, 'provisional');
      assert.equal(me.earning.paused, false);

      assert.deepEqual((await list('status=excluded')).items, []);
      assert.deepEqual(
        (await list('status=earning')).items.map((r) => r.userId).sort(),
        [clicker.id, honest.id].sort(),
      );

      const audit = await get(
        `/v1/moderation/audit?action=annotation.rater_reinstate&targetId=${clicker.id}`,
        c.adminKey,
      );
      const [entry, ...more] = audit.json().items;
      assert.equal(more.length, 0);
      assert.equal(entry.actorId, moderator.id);
      assert.equal(entry.targetType, 'user');
      assert.equal(entry.detail.reason, 'misread the scale; talked it through');
      assert.equal(entry.detail.goldAnswers, 2);
      assert.equal(entry.detail.goldAgreed, 0);

      // Twice is a conflict, not a second audit entry.
      assert.equal((await reinstate(clicker.id, { reason: 'again' })).statusCode, 409);
    });
  });
}
