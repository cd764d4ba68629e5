// Quality control end to end: gold items, a random clicker caught and excluded while honest raters keep
// earning, aggregates checked against values computed here, and the hourly earnings cap.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { assertClose, client, finishedGeneration, seeded, stats, type Task } from './test-fixtures.js';

for (const dialect of testDialects()) {
  describe(`annotation quality control (${dialect})`, () => {
    let c: TestCoordinator;
    let owner: { id: string; key: string };
    const REWARD = 2;
    const IMAGES = 24;
    const GOLD = 10;
    /** tag → { id, score } for the rating images; tags 1..IMAGES, true score 1..10. */
    const images = new Map<number, { id: string; score: number }>();
    const goldTags = new Set<number>();
    let cats: string[] = [];

    before(async () => {
      c = await startTestCoordinator({
        dialect,
        env: {
          CREDITS_ANNOTATION_REWARD: String(REWARD),
          ANNOTATION_GOLD_PERCENT: '30',
          ANNOTATION_MIN_GOLD_ANSWERS: '4',
          ANNOTATION_MIN_AGREEMENT_PERCENT: '60',
          ANNOTATION_HOURLY_CREDIT_CAP: '100000',
          ANNOTATION_MAX_OPEN_TASKS: '1000',
        },
      });
      owner = await c.createUser();
      // One prompt per image, so these only make rating (and flag) tasks.
      for (let tag = 1; tag <= IMAGES; tag++) {
        const score = ((tag * 7) % 10) + 1;
        const [id] = await finishedGeneration(c, owner.key, `rated image ${tag}`, [{ score, tag }]);
        images.set(tag, { id: id as string, score });
      }
      // Gold: the known answer of tags 1..GOLD is exactly their score.
      const moderator = await c.createUser('moderator');
      for (let tag = 1; tag <= GOLD; tag++) {
        const img = images.get(tag) as { id: string; score: number };
        const res = await c.app.inject({
          method: 'POST',
          url: '/v1/admin/annotations/gold',
          headers: auth(moderator.key),
          payload: { kind: 'rating', imageId: img.id, ratingMin: img.score, ratingMax: img.score },
        });
        assert.equal(res.statusCode, 201, res.body);
        goldTags.add(tag);
      }
      // The one pair of the same prompt (the only pairwise task there is); tag 201 is the better cat.
      cats = await finishedGeneration(c, owner.key, 'a pair of cats', [
        { score: 9, tag: 201 },
        { score: 2, tag: 202 },
      ]);
    });
    after(() => c.shutdown());

    /** Answers the pair and every flag task with `prefer(tags shown)` and `flag(tag)`; returns what it said. */
    async function pairAndFlags(
      key: string,
      prefer: (first: number, second: number) => 'first' | 'second' | 'tie',
      flag: (tag: number) => string[],
    ) {
      const r = client(c, key);
      const pair = (await r.next('pairwise')) as Task;
      const [x, y] = await r.look(pair);
      const preference = prefer(x?.tag ?? 0, y?.tag ?? 0);
      assert.equal((await r.answer(pair.id, { preference })).statusCode, 200);
      const winner = preference === 'tie' ? undefined : preference === 'first' ? x?.tag : y?.tag;
      const flags = new Map<number, string[]>();
      for (let t = await r.next('flag'); t; t = await r.next('flag')) {
        const [shown] = await r.look(t);
        const chosen = flag(shown?.tag ?? 0);
        assert.equal((await r.answer(t.id, { flags: chosen })).statusCode, 200);
        flags.set(shown?.tag ?? 0, chosen);
      }
      return { winner, flags };
    }

    /** What each rater answered, by image tag. */
    const given = new Map<string, Map<number, number>>();

    /** Takes every rating task there is for this rater and answers it with `rate(shown score, tag)`. */
    async function rateEverything(name: string, key: string, rate: (score: number, tag: number) => number) {
      const r = client(c, key);
      const answers = new Map<number, number>();
      given.set(name, answers);
      const responses: { creditsEarned: number; earning: { paused: boolean; reason?: string } }[] = [];
      for (let task = await r.next('rating'); task; task = await r.next('rating')) {
        const [shown] = await r.look(task as Task);
        assert.ok(shown);
        const rating = rate(shown.score, shown.tag);
        const res = await r.answer((task as Task).id, { rating });
        assert.equal(res.statusCode, 200, res.body);
        answers.set(shown.tag, rating);
        responses.push(res.json());
      }
      return { r, responses };
    }

    test('a random clicker is caught by gold items, stops earning and leaves the aggregates; honest raters keep earning', async () => {
      // Two honest raters answer what they see; the second is one point more generous on images that
      // are not checks (people differ), so the aggregates have a spread.
      const honest = await c.createUser();
      const generous = await c.createUser();
      const clicker = await c.createUser();
      // First the pair and the flags, which only quality control's recomputation can take back out.
      const random = seeded(20261126);
      const flagNames = ['nsfw', 'broken', 'offensive', 'does_not_match_prompt'];
      const said = [
        await pairAndFlags(
          honest.key,
          (f) => (f === 201 ? 'first' : 'second'),
          () => [],
        ),
        await pairAndFlags(
          generous.key,
          (f) => (f === 201 ? 'first' : 'second'),
          (tag) => (tag % 5 === 0 ? ['nsfw'] : []),
        ),
        await pairAndFlags(
          clicker.key,
          () => (['first', 'second', 'tie'] as const)[Math.floor(random() * 3)] ?? 'tie',
          () => flagNames.filter(() => random() < 0.5),
        ),
      ];
      const h = await rateEverything('honest', honest.key, (score) => score);
      const g = await rateEverything('generous', generous.key, (score, tag) =>
        goldTags.has(tag) ? score : Math.min(10, score + 1),
      );
      const x = await rateEverything('clicker', clicker.key, () => 1 + Math.floor(random() * 10));

      // Every image (the two cats too) was rated by each; with the pair and the flags, ANSWERS answers each.
      const RATED = IMAGES + 2;
      const ANSWERS = 1 + 2 * RATED;
      for (const run of [h, g, x]) assert.equal(run.responses.length, RATED);
      // Honest raters: every check agreed, every answer earned.
      for (const run of [h, g]) {
        const me = await run.r.me();
        assert.equal(me.agreement.status, 'trusted');
        assert.equal(me.agreement.score, (GOLD + 1) / (GOLD + 2));
        assert.equal(me.earning.paused, false);
        assert.equal(me.creditsEarned, REWARD * ANSWERS);
        assert.equal((await run.r.credits()).earnedFromAnnotations, REWARD * ANSWERS);
        assert.ok(run.responses.every((a) => a.creditsEarned === REWARD && !a.earning.paused));
      }
      // The clicker: excluded, and from the answer that excluded it on, paused and earning nothing.
      const me = await x.r.me();
      assert.equal(me.agreement.status, 'excluded');
      assert.ok(me.agreement.score < 0.6);
      assert.equal(me.earning.paused, true);
      assert.equal(me.earning.reason, 'low_agreement');
      assert.equal(me.answered.rating, RATED, 'its answers are still accepted');
      const caughtAt = x.responses.findIndex((a) => a.earning.paused);
      assert.ok(caughtAt >= 0);
      assert.ok(x.responses.slice(caughtAt).every((a) => a.earning.reason === 'low_agreement'));
      assert.ok(x.responses.slice(caughtAt + 1).every((a) => a.creditsEarned === 0));
      const earned = x.responses.reduce((a, r) => a + r.creditsEarned, 0);
      assert.equal(earned, REWARD * (caughtAt + 1));
      // Its pair and flags came before any check, and earned.
      assert.equal(me.creditsEarned, REWARD * (1 + RATED) + earned);
      assert.equal((await x.r.credits()).earnedFromAnnotations, REWARD * (1 + RATED) + earned);

      // Its rows are kept, marked excluded.
      const rows = await c.services.database.db
        .selectFrom('annotation_tasks')
        .select(['excluded', 'rating'])
        .where('user_id', '=', clicker.id)
        .where('answered_at', 'is not', null)
        .execute();
      assert.equal(rows.length, ANSWERS);
      assert.ok(rows.every((row) => row.excluded === 1));

      // Every image's aggregates are the honest raters' answers only, computed independently here.
      for (const [tag, img] of images) {
        const res = await c.app.inject({ url: `/v1/annotations/images/${img.id}`, headers: auth(owner.key) });
        assert.equal(res.statusCode, 200);
        const got = res.json().rating;
        const want = stats([given.get('honest')?.get(tag), given.get('generous')?.get(tag)] as number[]);
        assert.equal(got.count, want.count, `tag ${tag}`);
        assertClose(got.mean, want.mean, `mean of tag ${tag}`);
        assertClose(got.stddev, want.stddev, `stddev of tag ${tag}`);
      }

      // The pair and the flags: only the two raters in good standing count.
      const [cat1, cat2] = cats as [string, string];
      const statsOf = async (id: string) =>
        (await c.app.inject({ url: `/v1/annotations/images/${id}`, headers: auth(owner.key) })).json();
      assert.deepEqual((await statsOf(cat1)).pairwise, { wins: 2, losses: 0, ties: 0 });
      assert.deepEqual((await statsOf(cat2)).pairwise, { wins: 0, losses: 2, ties: 0 });
      const counted = said.slice(0, 2);
      assert.ok(counted.every((s) => s.winner === 201));
      const tagsAndIds: [number, string][] = [...images].map(([tag, img]) => [tag, img.id]);
      tagsAndIds.push([201, cat1], [202, cat2]);
      for (const [tag, id] of tagsAndIds) {
        const want = { answers: 0, nsfw: 0, broken: 0, offensive: 0, does_not_match_prompt: 0 };
        for (const s of counted) {
          const flags = s.flags.get(tag);
          assert.ok(flags, `tag ${tag} was not shown for flags`);
          want.answers++;
          for (const f of flags) want[f as keyof typeof want]++;
        }
        assert.deepEqual((await statsOf(id)).flags, want, `flags of tag ${tag}`);
      }

      // The gold list tells moderators how each check fared: both honest raters agreed with all.
      const list = await c.app.inject({
        url: '/v1/admin/annotations/gold?kind=rating',
        headers: auth(c.adminKey),
      });
      assert.equal(list.statusCode, 200);
      const items = list.json().items as { answers: number; agreed: number }[];
      assert.equal(items.length, GOLD);
      assert.equal(
        items.reduce((a, i) => a + i.answers, 0),
        3 * GOLD,
      );
      assert.ok(items.every((i) => i.agreed >= 2));
    });

    test('gold items: validation, duplicates, pairs checked by image whatever the order shown, retirement', async () => {
      const moderator = await c.createUser('moderator');
      const post = (key: string, payload: unknown) =>
        c.app.inject({
          method: 'POST',
          url: '/v1/admin/annotations/gold',
          headers: auth(key),
          payload: payload as object,
        });
      const a = images.get(GOLD + 1)?.id as string;
      const [p1, p2] = cats;
      const bad: [unknown, number][] = [
        [{ kind: 'rating', imageId: a, ratingMin: 0, ratingMax: 3 }, 400],
        [{ kind: 'rating', imageId: a, ratingMin: 8, ratingMax: 3 }, 400],
        [{ kind: 'rating', imageId: a }, 400],
        [{ kind: 'bogus', imageId: a }, 400],
        [{ kind: 'flag', imageId: a, flags: {} }, 400],
        [{ kind: 'flag', imageId: a, flags: { ugly: true } }, 400],
        [{ kind: 'pairwise', imageIds: [p1, p1], preferred: p1 }, 400],
        [{ kind: 'pairwise', imageIds: [p1, a], preferred: p1 }, 400],
        [{ kind: 'pairwise', imageIds: [p1, p2], preferred: a }, 400],
        [{ kind: 'rating', imageId: 'no-such-image', ratingMin: 1, ratingMax: 2 }, 404],
      ];
      for (const [payload, status] of bad) {
        const res = await post(moderator.key, payload);
        assert.equal(res.statusCode, status, `${JSON.stringify(payload)} → ${res.body}`);
        assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      }
      assert.equal(
        (await post(owner.key, { kind: 'rating', imageId: a, ratingMin: 1, ratingMax: 2 })).statusCode,
        403,
      );

      const flag = await post(moderator.key, {
        kind: 'flag',
        imageId: a,
        flags: { broken: true, nsfw: false },
      });
      assert.equal(flag.statusCode, 201, flag.body);
      assert.deepEqual(flag.json().flags, { nsfw: false, broken: true });
      // Its author is never checked against their own answer: their flag task on that image is no check.
      const self = client(c, moderator.key);
      for (let t = await self.next('flag'); t; t = await self.next('flag')) {
        assert.equal((await self.answer(t.id, { flags: [] })).statusCode, 200);
      }
      const flagItems = (
        await c.app.inject({ url: '/v1/admin/annotations/gold?kind=flag', headers: auth(moderator.key) })
      ).json().items;
      assert.equal(flagItems[0].answers, 0);
      assert.equal((await self.me()).answered.flag, images.size + 2);
      const again = await post(moderator.key, { kind: 'flag', imageId: a, flags: { offensive: true } });
      assert.equal(again.statusCode, 409);
      const pair = await post(moderator.key, { kind: 'pairwise', imageIds: [p2, p1], preferred: p1 });
      assert.equal(pair.statusCode, 201, pair.body);
      assert.equal(pair.json().preferred, p1);
      const audit = await c.services.database.db
        .selectFrom('audit_log')
        .select('action')
        .where('actor_id', '=', moderator.id)
        .execute();
      assert.equal(audit.filter((e) => e.action === 'annotation.gold_create').length, 2);

      // Raters who pick the cat tagged 201 agree, whichever side it is shown on; others do not.
      for (const pick of ['right', 'wrong', 'right', 'wrong']) {
        const r = client(c, (await c.createUser()).key);
        const task = (await r.next('pairwise')) as Task;
        const [first] = await r.look(task);
        const better = first?.tag === 201 ? 'first' : 'second';
        const worse = better === 'first' ? 'second' : 'first';
        const res = await r.answer(task.id, { preference: pick === 'right' ? better : worse });
        assert.equal(res.statusCode, 200);
      }
      const listed = (
        await c.app.inject({ url: '/v1/admin/annotations/gold?kind=pairwise', headers: auth(moderator.key) })
      ).json().items[0];
      assert.deepEqual({ answers: listed.answers, agreed: listed.agreed }, { answers: 4, agreed: 2 });

      // Retired: no longer handed out (no other pair exists, so no pairwise task at all).
      const retired = await c.app.inject({
        method: 'DELETE',
        url: `/v1/admin/annotations/gold/${pair.json().id}`,
        headers: auth(moderator.key),
      });
      assert.equal(retired.statusCode, 200);
      assert.ok(retired.json().retiredAt);
      // Pairwise tasks still come from the pool (the pair is an ordinary pair now), without the check.
      const r = client(c, (await c.createUser()).key);
      const task = (await r.next('pairwise')) as Task;
      assert.equal((await r.answer(task.id, { preference: 'tie' })).statusCode, 200);
      const after = (
        await c.app.inject({ url: '/v1/admin/annotations/gold?kind=pairwise', headers: auth(moderator.key) })
      ).json().items[0];
      assert.equal(after.answers, 4);
      assert.equal(
        (
          await c.app.inject({
            method: 'DELETE',
            url: '/v1/admin/annotations/gold/nope',
            headers: auth(moderator.key),
          })
        ).statusCode,
        404,
      );
    });
  });

  describe(`annotation earnings pacing (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock();
      c = await startTestCoordinator({
        dialect,
        clock,
        env: {
          CREDITS_ANNOTATION_REWARD: '2',
          ANNOTATION_HOURLY_CREDIT_CAP: '5',
          ANNOTATION_GOLD_PERCENT: '0',
        },
      });
      const owner = await c.createUser();
      for (let tag = 1; tag <= 8; tag++)
        await finishedGeneration(c, owner.key, `paced ${tag}`, [{ score: 5, tag }]);
    });
    after(() => c.shutdown());

    test('past the hourly cap answers are accepted but earn nothing, and say so; an hour later they earn again', async () => {
      const r = client(c, (await c.createUser()).key);
      const answer = async () => {
        const task = (await r.next('rating')) as Task;
        const res = await r.answer(task.id, { rating: 6 });
        assert.equal(res.statusCode, 200, res.body);
        return res.json();
      };
      const started = clock.now();
      const first = await answer();
      assert.deepEqual([first.creditsEarned, first.earning.paused], [2, false]);
      clock.advance(60_000);
      assert.equal((await answer()).creditsEarned, 2);
      clock.advance(60_000);
      const third = await answer(); // 1 credit left under the cap of 5
      assert.equal(third.creditsEarned, 1);
      assert.equal(third.earning.paused, true);
      assert.equal(third.earning.reason, 'hourly_cap');
      assert.equal(third.earning.resumesAt, new Date(started + 3_600_000).toISOString());
      const fourth = await answer();
      assert.equal(fourth.creditsEarned, 0);
      assert.equal(fourth.accepted, true);
      assert.match(fourth.earning.detail, /earn nothing/);
      const me = await r.me();
      assert.deepEqual(
        [me.creditsEarned, me.creditsLastHour, me.hourlyCap, me.earning.reason],
        [5, 5, 5, 'hourly_cap'],
      );
      assert.equal(me.answered.rating, 4);
      // An hour after the first answer, its 2 credits leave the window: earning resumes, up to the cap.
      clock.advance(3_600_000 - 120_000 + 1);
      const fifth = await answer();
      assert.equal(fifth.creditsEarned, 2);
      assert.equal((await r.credits()).earnedFromAnnotations, 7);
    });
  });
}
