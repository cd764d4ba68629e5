import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';

for (const dialect of testDialects()) {
  describe(`generations API (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect });
    });
    after(() => c.shutdown());

    const create = (key: string, body: object, headers: Record<string, string> = {}) =>
      c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: { ...auth(key), ...headers },
        payload: body,
      });

    test('creates one queued job per image with defaults filled in', async () => {
      const res = await create(c.userKey, {
        prompt: 'a lighthouse at dusk',
        model: 'sd-1.5',
        n: 3,
        seed: 42,
      });
      assert.equal(res.statusCode, 201);
      const g = res.json();
      assert.equal(g.status, 'queued');
      assert.equal(g.images.length, 3);
      assert.deepEqual(
        g.images.map((i: { seed: number }) => i.seed),
        [42, 43, 44],
      );
      assert.equal(g.params.width, 512);
      assert.equal(g.params.sampler, 'euler_a');
      const read = await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(c.userKey) });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json().queuePosition, 0);
    });

    test('rejects out-of-bounds parameters with field-level problem details', async () => {
      const cases: [object, string][] = [
        [{ prompt: '', model: 'sd-1.5' }, '/prompt'],
        [{ prompt: 'x', model: 'sd-1.5', width: 500 }, '/width'],
        [{ prompt: 'x', model: 'sd-1.5', steps: 0 }, '/steps'],
        [{ prompt: 'x', model: 'sd-1.5', n: 5 }, '/n'],
        [{ prompt: 'x', model: 'sd-1.5', sampler: 'plms' }, '/sampler'],
        [{ prompt: 'x', model: 'SD 1.5' }, '/model'],
        [{ prompt: 'x', model: 'sd-1.5', guidanceScale: 31 }, '/guidanceScale'],
        [{ prompt: 'x'.repeat(2001), model: 'sd-1.5' }, '/prompt'],
        [{ prompt: 'x', model: 'sd-1.5', extra: true }, 'body'],
      ];
      for (const [body, path] of cases) {
        const res = await create(c.userKey, body);
        assert.equal(res.statusCode, 400, JSON.stringify(body));
        assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
        const problem = res.json();
        assert.equal(problem.type, 'validation_failed');
        assert.ok(
          problem.errors.some((e: { path: string }) => e.path.includes(path)),
          `${JSON.stringify(body)} → ${JSON.stringify(problem.errors)}`,
        );
        assert.equal(problem.stack, undefined);
      }
      const tooBig = await create(c.userKey, { prompt: 'x', model: 'sd-1.5', width: 2048, height: 2048 });
      assert.equal(tooBig.statusCode, 422);
      assert.equal(tooBig.json().type, 'limit_exceeded');
    });

    test('an Idempotency-Key retry returns the first answer and queues nothing new', async () => {
      const body = { prompt: 'idempotent', model: 'sd-1.5', n: 2 };
      const first = await create(c.userKey, body, { 'idempotency-key': 'k-1' });
      const second = await create(c.userKey, body, { 'idempotency-key': 'k-1' });
      assert.equal(first.statusCode, 201);
      assert.equal(second.statusCode, 201);
      assert.equal(second.json().id, first.json().id);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      const rows = await c.services.database.db
        .selectFrom('generations')
        .select('id')
        .where('prompt', '=', 'idempotent')
        .execute();
      assert.equal(rows.length, 1);
      const different = await create(c.userKey, { ...body, n: 1 }, { 'idempotency-key': 'k-1' });
      assert.equal(different.statusCode, 422);
      assert.equal(different.json().type, 'idempotency_conflict');
    });

    test('concurrent retries with one key create exactly one generation', async () => {
      const body = { prompt: 'concurrent idempotent', model: 'sd-1.5' };
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => create(c.userKey, body, { 'idempotency-key': 'k-concurrent' })),
      );
      assert.ok(answers.every((a) => a.statusCode === 201));
      assert.equal(new Set(answers.map((a) => a.json().id)).size, 1);
    });

    test('lists newest first with an opaque cursor', async () => {
      const keyRes = await c.app.inject({
        method: 'POST',
        url: '/v1/admin/users',
        headers: auth(c.adminKey),
        payload: { email: 'lister@example.org' },
      });
      const key = keyRes.json().key as string;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await create(key, { prompt: `p${i}`, model: 'sd-1.5' })).json().id);
      const page1 = (await c.app.inject({ url: '/v1/generations?limit=2', headers: auth(key) })).json();
      assert.equal(page1.items.length, 2);
      const page2 = (
        await c.app.inject({ url: `/v1/generations?limit=2&cursor=${page1.nextCursor}`, headers: auth(key) })
      ).json();
      const page3 = (
        await c.app.inject({ url: `/v1/generations?limit=2&cursor=${page2.nextCursor}`, headers: auth(key) })
      ).json();
      const seen = [...page1.items, ...page2.items, ...page3.items].map((g: { id: string }) => g.id);
      assert.deepEqual(new Set(seen), new Set(ids));
      assert.equal(page3.items.length, 1);
      assert.equal(page3.nextCursor, undefined);
      const bad = await c.app.inject({ url: '/v1/generations?cursor=garbage', headers: auth(key) });
      assert.equal(bad.statusCode, 400);
    });

    test('cancel stops what has not finished; another user can neither read nor cancel', async () => {
      const g = (await create(c.userKey, { prompt: 'to cancel', model: 'sd-1.5', n: 2 })).json();
      const other = (
        await c.app.inject({
          method: 'POST',
          url: '/v1/admin/users',
          headers: auth(c.adminKey),
          payload: { email: 'mallory@example.org' },
        })
      ).json().key as string;
      const peek = await c.app.inject({ url: `/v1/generations/${g.id}`, headers: auth(other) });
      assert.equal(peek.statusCode, 404);
      const steal = await c.app.inject({
        method: 'DELETE',
        url: `/v1/generations/${g.id}`,
        headers: auth(other),
      });
      assert.equal(steal.statusCode, 404);
      const events = await c.app.inject({ url: `/v1/generations/${g.id}/events`, headers: auth(other) });
      assert.equal(events.statusCode, 404);
      const cancelled = await c.app.inject({
        method: 'DELETE',
        url: `/v1/generations/${g.id}`,
        headers: auth(c.userKey),
      });
      assert.equal(cancelled.statusCode, 200);
      assert.equal(cancelled.json().status, 'cancelled');
      assert.ok(cancelled.json().images.every((i: { state: string }) => i.state === 'cancelled'));
    });
  });
}
