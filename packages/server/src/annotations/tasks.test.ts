import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { client, finishedGeneration, type Task } from './test-fixtures.js';

for (const dialect of testDialects()) {
  describe(`annotation tasks (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    let owner: { id: string; key: string };
    /** tag → image id, for every image in this coordinator (all owned by `owner`). */
    const byTag = new Map<number, string>();
    // Three prompts: "a red fox" ×3 (3 pairs), "A  RED fox" (same prompt, normalised: 4 images, 6 pairs
    // in all), "a lighthouse" ×2 (1 pair), "a teapot" ×1 (no pair).
    const groups = [
      { prompt: 'a red fox', tags: [1, 2, 3] },
      { prompt: 'A  RED fox ', tags: [4] },
      { prompt: 'a lighthouse', tags: [5, 6] },
      { prompt: 'a teapot', tags: [7] },
    ];
    const IMAGES = 7;
    const PAIRS = 6 + 1;

    before(async () => {
      clock = new ManualClock();
      c = await startTestCoordinator({
        dialect,
        clock,
        env: {
          ANNOTATION_GOLD_PERCENT: '0',
          ANNOTATION_TASK_TTL_SECONDS: '600',
          CREDITS_ANNOTATION_REWARD: '2',
        },
      });
      owner = await c.createUser();
      for (const g of groups) {
        const ids = await finishedGeneration(
          c,
          owner.key,
          g.prompt,
          g.tags.map((tag) => ({ score: 5, tag })),
        );
        g.tags.forEach((tag, i) => byTag.set(tag, ids[i] as string));
      }
    });
    after(() => c.shutdown());

    test('hands out a rating task with its image and takes one answer, which earns credits', async () => {
      const rater = await c.createUser();
      const r = client(c, rater.key);
      const task = (await r.next('rating')) as Task;
      assert.equal(task.kind, 'rating');
      assert.equal(task.images.length, 1);
      assert.deepEqual(task.images[0] && { w: task.images[0].width, h: task.images[0].height }, {
        w: 64,
        h: 64,
      });
      assert.ok(groups.some((g) => g.prompt === task.prompt));
      const [shown] = await r.look(task);
      assert.ok(shown && byTag.has(shown.tag));
      const res = await r.answer(task.id, { rating: 7 });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.accepted, true);
      assert.equal(body.creditsEarned, 2);
      assert.equal(body.earning.paused, false);
      const me = await r.me();
      assert.equal(me.answered.rating, 1);
      assert.equal(me.creditsEarned, 2);
      assert.equal(me.agreement.status, 'provisional');
      // The ledger holds what the answer reported.
      assert.equal((await r.credits()).earnedFromAnnotations, 2);
      // The owner sees the image's aggregates; the rater (not staff, not owner) gets 404.
      const imageId = byTag.get(shown.tag) as string;
      const stats = await c.app.inject({
        url: `/v1/annotations/images/${imageId}`,
        headers: auth(owner.key),
      });
      assert.equal(stats.statusCode, 200);
      assert.deepEqual(stats.json().rating, { count: 1, mean: 7 });
      const peek = await c.app.inject({ url: `/v1/annotations/images/${imageId}`, headers: auth(rater.key) });
      assert.equal(peek.statusCode, 404);
    });

    test('pairwise tasks show two images of the same (normalised) prompt, each pair once', async () => {
      const r = client(c, (await c.createUser()).key);
      const seen = new Set<string>();
      const expected = new Map<number, { wins: number; losses: number; ties: number }>();
      for (;;) {
        const task = await r.next('pairwise');
        if (!task) break;
        assert.equal(task.images.length, 2);
        const [x, y] = await r.look(task);
        assert.ok(x && y && x.tag !== y.tag);
        const group = (tag: number) => (tag <= 4 ? 'fox' : tag <= 6 ? 'lighthouse' : 'teapot');
        assert.equal(group(x.tag), group(y.tag), `${x.tag} and ${y.tag} do not share a prompt`);
        const key = [x.tag, y.tag].sort().join(':');
        assert.ok(!seen.has(key), `pair ${key} handed out twice`);
        seen.add(key);
        // Prefer the higher tag, whichever side it is on; every third pair is a tie.
        const preference = seen.size % 3 === 0 ? 'tie' : x.tag > y.tag ? 'first' : 'second';
        const res = await r.answer(task.id, { preference });
        assert.equal(res.statusCode, 200, res.body);
        for (const [me, other] of [
          [x.tag, y.tag],
          [y.tag, x.tag],
        ] as const) {
          const e = expected.get(me) ?? { wins: 0, losses: 0, ties: 0 };
          if (preference === 'tie') e.ties++;
          else if (me > other) e.wins++;
          else e.losses++;
          expected.set(me, e);
        }
      }
      assert.equal(seen.size, PAIRS);
      assert.equal((await r.me()).answered.pairwise, PAIRS);
      // Each image's wins, losses and ties, against what was answered above.
      for (const [tag, id] of byTag) {
        const stats = (
          await c.app.inject({ url: `/v1/annotations/images/${id}`, headers: auth(owner.key) })
        ).json();
        assert.deepEqual(stats.pairwise, expected.get(tag) ?? { wins: 0, losses: 0, ties: 0 }, `tag ${tag}`);
      }
    });

    test('flag tasks take several flags or none, and count each flag on the image', async () => {
      const r = client(c, (await c.createUser()).key);
      const answers = new Map<number, string[]>();
      for (;;) {
        const task = await r.next('flag');
        if (!task) break;
        const [shown] = await r.look(task);
        const flags = shown && shown.tag % 2 === 0 ? ['nsfw', 'does_not_match_prompt'] : [];
        answers.set(shown?.tag ?? -1, flags);
        assert.equal((await r.answer(task.id, { flags })).statusCode, 200);
      }
      assert.equal(answers.size, IMAGES);
      const stats = (
        await c.app.inject({ url: `/v1/annotations/images/${byTag.get(2)}`, headers: auth(c.adminKey) })
      ).json();
      assert.deepEqual(stats.flags, {
        answers: 1,
        nsfw: 1,
        broken: 0,
        offensive: 0,
        does_not_match_prompt: 1,
      });
    });

    test('a user never gets their own images, nor the same image twice, nor a hidden one', async () => {
      for (const kind of ['rating', 'pairwise', 'flag']) {
        assert.equal(await client(c, owner.key).next(kind), null, `owner got a ${kind} task of their own`);
      }
      // Hide one image: a new rater sees every other image exactly once, skipped tasks included.
      const hidden = byTag.get(3) as string;
      const hide = await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${hidden}/hide`,
        headers: auth(c.adminKey),
        payload: { reason: 'test take-down' },
      });
      assert.equal(hide.statusCode, 200, hide.body);
      const r = client(c, (await c.createUser()).key);
      const tags: number[] = [];
      for (let i = 0; ; i++) {
        const task = await r.next('rating');
        if (!task) break;
        const [shown] = await r.look(task);
        tags.push(shown?.tag ?? -1);
        // Every other task is left unanswered: skipping does not bring an image back.
        if (i % 2 === 0) assert.equal((await r.answer(task.id, { rating: 5 })).statusCode, 200);
      }
      assert.deepEqual(
        tags.sort((a, b) => a - b),
        [1, 2, 4, 5, 6, 7],
      );
      // Its task's image is gone too for whoever holds one.
      const holder = client(c, (await c.createUser()).key);
      let held: Task | null = null;
      for (;;) {
        const task = await holder.next('rating');
        if (!task) break;
        const [shown] = await holder.look(task);
        if (shown?.tag === 2) held = task;
      }
      assert.ok(held);
      await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${byTag.get(2)}/hide`,
        headers: auth(c.adminKey),
        payload: { reason: 'second take-down' },
      });
      assert.equal((await holder.image(held.images[0]?.url as string)).statusCode, 404);
      for (const tag of [2, 3]) {
        await c.app.inject({
          method: 'POST',
          url: `/v1/moderation/images/${byTag.get(tag)}/unhide`,
          headers: auth(c.adminKey),
          payload: { reason: 'restored' },
        });
      }
    });

    test('bad answers get clear 4xx errors', async () => {
      const r = client(c, (await c.createUser()).key);
      const rating = (await r.next('rating')) as Task;
      const pairwise = (await r.next('pairwise')) as Task;
      const expectProblem = async (payload: unknown, status: number, type: string, taskId = rating.id) => {
        const res = await r.answer(taskId, payload);
        assert.equal(res.statusCode, status, `${JSON.stringify(payload)} → ${res.body}`);
        assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
        assert.equal(res.json().type, type);
        return res.json();
      };
      for (const bad of [
        { rating: 0 },
        { rating: 11 },
        { rating: 'x' },
        { rating: 5.5 },
        {},
        { rating: 5, flags: [] },
      ]) {
        await expectProblem(bad, 400, 'validation_failed');
      }
      await expectProblem({ flags: ['ugly'] }, 400, 'validation_failed');
      await expectProblem({ flags: ['nsfw', 'nsfw'] }, 400, 'validation_failed');
      await expectProblem({ preference: 'left' }, 400, 'validation_failed', pairwise.id);
      const wrongKind = await expectProblem({ preference: 'first' }, 400, 'validation_failed');
      assert.match(wrongKind.detail, /rating task/);
      await expectProblem({ rating: 5 }, 404, 'not_found', 'no-such-task');
      await expectProblem({ rating: 5 }, 400, 'validation_failed', 'bad id!');
      // Another user's task does not exist for you.
      const other = client(c, (await c.createUser()).key);
      const theirs = (await other.next('rating')) as Task;
      await expectProblem({ rating: 5 }, 404, 'not_found', theirs.id);
      assert.equal((await r.image(theirs.images[0]?.url as string)).statusCode, 404);
      assert.equal((await r.image(`/v1/annotations/${rating.id}/images/1`)).statusCode, 404);
      assert.equal((await r.image(`/v1/annotations/${rating.id}/images/2`)).statusCode, 400);
      assert.equal((await r.nextRaw('ratings')).statusCode, 400);
      assert.equal((await r.nextRaw('')).statusCode, 400);
      // One answer per task; a retry with the same Idempotency-Key gets the first answer back.
      const first = await r.answer(rating.id, { rating: 4 }, { 'idempotency-key': 'once' });
      assert.equal(first.statusCode, 200);
      const retry = await r.answer(rating.id, { rating: 4 }, { 'idempotency-key': 'once' });
      assert.equal(retry.statusCode, 200);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.deepEqual(retry.json(), first.json());
      await expectProblem({ rating: 9 }, 409, 'annotation_answered');
      const reused = await r.answer(rating.id, { rating: 9 }, { 'idempotency-key': 'once' });
      assert.equal(reused.statusCode, 422);
      assert.equal((await r.me()).answered.rating, 1);
      // The key on another task: that answer would be stored, but the key's insert fails and undoes it.
      const another = (await r.next('rating')) as Task;
      const elsewhere = await r.answer(another.id, { rating: 6 }, { 'idempotency-key': 'once' });
      assert.equal(elsewhere.statusCode, 422);
      assert.equal(elsewhere.json().type, 'idempotency_conflict');
      const untouched = await r.me();
      assert.deepEqual([untouched.answered.rating, untouched.creditsEarned], [1, first.json().creditsEarned]);
      assert.equal((await r.answer(another.id, { rating: 6 })).statusCode, 200);
      // Expired: the clock moves past the task's deadline.
      clock.advance(601_000);
      await expectProblem({ preference: 'tie' }, 410, 'annotation_expired', pairwise.id);
    });

    test('concurrent answers to one task: exactly one is stored', async () => {
      const r = client(c, (await c.createUser()).key);
      const task = (await r.next('rating')) as Task;
      const results = await Promise.all([3, 4, 5, 6, 7, 8].map((rating) => r.answer(task.id, { rating })));
      assert.deepEqual(results.map((x) => x.statusCode).sort(), [200, 409, 409, 409, 409, 409]);
      const me = await r.me();
      assert.equal(me.answered.rating, 1);
      assert.equal(me.creditsEarned, 2);
    });

    test('concurrent answers (written together on SQLite) each stand or fall alone; a retried key answers once', async () => {
      const r = client(c, (await c.createUser()).key);
      const tasks: Task[] = [];
      for (const kind of ['rating', 'rating', 'rating', 'flag']) tasks.push((await r.next(kind)) as Task);
      const [a, b, d, f] = tasks as [Task, Task, Task, Task];
      const results = await Promise.all([
        r.answer(a.id, { rating: 2 }, { 'idempotency-key': 'same' }),
        r.answer(a.id, { rating: 2 }, { 'idempotency-key': 'same' }),
        r.answer(d.id, { preference: 'tie' }), // wrong kind: refused, alone
        r.answer(b.id, { rating: 9 }),
        r.answer(f.id, { flags: ['broken'] }),
        r.answer('no-such-task', { rating: 1 }),
      ]);
      assert.deepEqual(
        results.map((x) => x.statusCode),
        [200, 200, 400, 200, 200, 404],
      );
      assert.deepEqual(results[1]?.json(), results[0]?.json());
      const me = await r.me();
      assert.deepEqual([me.answered.rating, me.answered.flag, me.creditsEarned], [2, 1, 6]);
      assert.equal((await r.credits()).earnedFromAnnotations, 6);
    });

    test('/v1/me/annotations counts open tasks; an unverified user takes none', async () => {
      const u = await c.createUser();
      const r = client(c, u.key);
      const held: Task[] = [];
      for (const kind of ['rating', 'flag'])
        for (let t = await r.next(kind); t; t = await r.next(kind)) held.push(t);
      assert.equal(held.length, 2 * IMAGES);
      assert.equal((await r.me()).openTasks, 2 * IMAGES);
      assert.equal((await r.answer(held[0]?.id as string, { rating: 3 })).statusCode, 200);
      assert.equal((await r.me()).openTasks, 2 * IMAGES - 1);
      const unverified = await c.createUser();
      await c.services.database.db
        .updateTable('users')
        .set({ email_verified_at: null })
        .where('id', '=', unverified.id)
        .execute();
      const res = await client(c, unverified.key).nextRaw('rating');
      assert.equal(res.statusCode, 403, res.body);
    });
  });

  describe(`annotation task limits (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect, env: { ANNOTATION_MAX_OPEN_TASKS: '2' } });
      const owner = await c.createUser();
      await finishedGeneration(
        c,
        owner.key,
        'limits',
        [1, 2, 3, 4].map((tag) => ({ score: 5, tag })),
      );
    });
    after(() => c.shutdown());

    test('past ANNOTATION_MAX_OPEN_TASKS a new task is refused until one is answered', async () => {
      const r = client(c, (await c.createUser()).key);
      const a = (await r.next('rating')) as Task;
      assert.ok(await r.next('flag'));
      const refused = await r.nextRaw('rating');
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().type, 'too_many_open_tasks');
      assert.equal((await r.answer(a.id, { rating: 6 })).statusCode, 200);
      assert.ok(await r.next('rating'));
    });
  });
}
