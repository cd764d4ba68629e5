// The ledger's own API through HTTP and through the exported service: grants, awards, summaries,
// history, authorization and bad input, on SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';

for (const dialect of testDialects()) {
  describe(`credits ledger (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect });
    });
    after(() => c.shutdown());

    const grant = (body: object, headers: Record<string, string> = {}, key = c.adminKey) =>
      c.app.inject({
        method: 'POST',
        url: '/v1/admin/credits/grants',
        headers: { ...auth(key), ...headers },
        payload: body,
      });
    const summary = async (key: string) =>
      (await c.app.inject({ url: '/v1/me/credits', headers: auth(key) })).json();
    const history = async (key: string, query = '') =>
      (await c.app.inject({ url: `/v1/me/credits/history${query}`, headers: auth(key) })).json();

    test('an admin grant credits the user once per Idempotency-Key and is audited', async () => {
      const u = await c.createUser();
      const first = await grant({ userId: u.id, amount: 50, memo: 'welcome' }, { 'idempotency-key': 'g-1' });
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(first.json().balance, 50);
      const again = await grant({ userId: u.id, amount: 50, memo: 'welcome' }, { 'idempotency-key': 'g-1' });
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json().transferId, first.json().transferId);
      const reused = await grant({ userId: u.id, amount: 60, memo: 'welcome' }, { 'idempotency-key': 'g-1' });
      assert.equal(reused.statusCode, 422);
      assert.equal(reused.json().type, 'idempotency_conflict');
      // Without a key every request is a grant of its own.
      assert.equal((await grant({ userId: u.id, amount: 5, memo: 'more' })).statusCode, 201);
      const s = await summary(u.key);
      assert.deepEqual(s, {
        userId: u.id,
        balance: 55,
        reserved: 0,
        earnedFromWorkers: 0,
        earnedFromAnnotations: 0,
        granted: 55,
        spent: 0,
      });
      const audit = await c.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'credits.grant')
        .where('target_id', '=', u.id)
        .execute();
      assert.equal(audit.length, 2);
      assert.equal(JSON.parse(audit[0]!.detail).transferId !== undefined, true);
    });

    test('a negative grant takes credits back but never below zero', async () => {
      const u = await c.createUser();
      await grant({ userId: u.id, amount: 10, memo: 'start' });
      const ok = await grant({ userId: u.id, amount: -4, memo: 'mistake' });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(ok.json().balance, 6);
      const refused = await grant({ userId: u.id, amount: -7, memo: 'too much' });
      assert.equal(refused.statusCode, 402);
      assert.equal(refused.json().type, 'insufficient_credits');
      assert.match(refused.json().detail, /has 6/);
      assert.equal((await summary(u.key)).balance, 6);
    });

    test('grants: admin only, unknown users 404, bad input 400', async () => {
      const u = await c.createUser();
      const moderator = await c.createUser('moderator');
      assert.equal((await grant({ userId: u.id, amount: 5, memo: 'x' }, {}, u.key)).statusCode, 403);
      assert.equal((await grant({ userId: u.id, amount: 5, memo: 'x' }, {}, moderator.key)).statusCode, 403);
      const missing = await grant({ userId: 'nobody', amount: 5, memo: 'x' });
      assert.equal(missing.statusCode, 404);
      const bad: [object, string][] = [
        [{ userId: u.id, amount: 0, memo: 'zero' }, 'zero'],
        [{ userId: u.id, amount: '5', memo: 'x' }, '/amount'],
        [{ userId: u.id, amount: 1.5, memo: 'x' }, '/amount'],
        [{ userId: u.id, amount: 2e9, memo: 'x' }, '/amount'],
        [{ userId: u.id, amount: 5, memo: 'x'.repeat(501) }, '/memo'],
        [{ userId: u.id, amount: 5, memo: '' }, '/memo'],
        [{ userId: u.id, amount: 5 }, 'memo'],
        [{ userId: u.id, amount: 5, memo: 'x', extra: 1 }, 'body'],
        [{ userId: 'bad id!', amount: 5, memo: 'x' }, '/userId'],
      ];
      for (const [body, hint] of bad) {
        const res = await grant(body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.equal(res.json().type, 'validation_failed');
        assert.ok(res.json().detail.includes(hint) || hint === 'zero', res.json().detail);
      }
      assert.equal((await summary(u.key)).balance, 0);
    });

    test('awards post once per reference, whoever retries', async () => {
      const u = await c.createUser();
      const { credits, database } = c.services;
      const award = () =>
        database.db.transaction().execute((trx) =>
          credits.award(trx, {
            userId: u.id,
            amount: 3,
            kind: 'annotation',
            reference: { type: 'rating', id: 'r1' },
          }),
        );
      const first = await award();
      assert.equal(first.posted, true);
      const [a, b] = await Promise.all([award(), award()]);
      assert.equal(a.posted, false);
      assert.equal(b.posted, false);
      assert.equal(a.transferId, first.transferId);
      const zero = await database.db.transaction().execute((trx) =>
        credits.award(trx, {
          userId: u.id,
          amount: 0,
          kind: 'annotation',
          reference: { type: 'rating', id: 'r2' },
        }),
      );
      assert.deepEqual(zero, { transferId: null, posted: false });
      const s = await summary(u.key);
      assert.equal(s.balance, 3);
      assert.equal(s.earnedFromAnnotations, 3);
      // An award rolled back with its transaction leaves nothing behind.
      await assert.rejects(
        database.db.transaction().execute(async (trx) => {
          await credits.award(trx, {
            userId: u.id,
            amount: 3,
            kind: 'annotation',
            reference: { type: 'rating', id: 'r3' },
          });
          throw new Error('the annotation was refused after all');
        }),
      );
      assert.equal((await summary(u.key)).balance, 3);
    });

    test('history: newest first, every movement, cursor pages without overlap', async () => {
      const u = await c.createUser();
      for (let i = 1; i <= 5; i++) await grant({ userId: u.id, amount: i, memo: `grant ${i}` });
      const page1 = await history(u.key, '?limit=2');
      assert.equal(page1.items.length, 2);
      assert.ok(page1.nextCursor);
      const page2 = await history(u.key, `?limit=2&cursor=${page1.nextCursor}`);
      const page3 = await history(u.key, `?limit=2&cursor=${page2.nextCursor}`);
      const all = [...page1.items, ...page2.items, ...page3.items];
      assert.equal(all.length, 5);
      assert.equal(page3.nextCursor, undefined);
      assert.equal(new Set(all.map((m: { id: string }) => m.id)).size, 5);
      assert.deepEqual(all.map((m: { amount: number }) => m.amount).sort(), [1, 2, 3, 4, 5]);
      for (const m of all) {
        assert.equal(m.kind, 'grant');
        assert.equal(m.reserved, 0);
        assert.match(m.memo, /^grant \d$/);
      }
      const times = all.map((m: { createdAt: string }) => m.createdAt);
      assert.deepEqual(times, [...times].sort().reverse());
      const bad = await c.app.inject({ url: '/v1/me/credits/history?cursor=nope', headers: auth(u.key) });
      assert.equal(bad.statusCode, 400);
      const tooMany = await c.app.inject({ url: '/v1/me/credits/history?limit=101', headers: auth(u.key) });
      assert.equal(tooMany.statusCode, 400);
    });

    test('users see only their own credits; admins read anyone’s', async () => {
      const a = await c.createUser();
      const b = await c.createUser();
      await grant({ userId: a.id, amount: 7, memo: 'for a' });
      assert.equal((await summary(b.key)).balance, 0);
      assert.equal((await history(b.key)).items.length, 0);
      const asUser = await c.app.inject({ url: `/v1/admin/users/${a.id}/credits`, headers: auth(b.key) });
      assert.equal(asUser.statusCode, 403);
      const asAdmin = await c.app.inject({
        url: `/v1/admin/users/${a.id}/credits`,
        headers: auth(c.adminKey),
      });
      assert.equal(asAdmin.statusCode, 200);
      assert.equal(asAdmin.json().balance, 7);
      const hist = await c.app.inject({
        url: `/v1/admin/users/${a.id}/credits/history`,
        headers: auth(c.adminKey),
      });
      assert.equal(hist.json().items.length, 1);
      const unknown = await c.app.inject({
        url: '/v1/admin/users/nobody/credits',
        headers: auth(c.adminKey),
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal((await c.app.inject({ url: '/v1/me/credits' })).statusCode, 401);
    });

    test('the trial balance: admins only, balanced after grants and awards', async () => {
      const books = await c.app.inject({ url: '/v1/admin/credits/books', headers: auth(c.adminKey) });
      assert.equal(books.statusCode, 200);
      const b = books.json();
      assert.deepEqual(b.problems, []);
      assert.equal(b.balanced, true);
      assert.equal(b.total, 0);
      assert.ok(b.transfers > 0);
      assert.equal(b.users + b.escrow + b.other, -b.platform);
      assert.equal(
        (await c.app.inject({ url: '/v1/admin/credits/books', headers: auth(c.userKey) })).statusCode,
        403,
      );
    });

    test('a quote prices by pixels × steps and says whether the stage charges', async () => {
      const q = async (query: string) =>
        (await c.app.inject({ url: `/v1/credits/quote?${query}`, headers: auth(c.userKey) })).json();
      const reference = await q('width=512&height=512&steps=25&n=1');
      assert.deepEqual(
        {
          perImage: reference.perImage,
          total: reference.total,
          charged: reference.charged,
          stage: reference.stage,
        },
        { perImage: 10, total: 10, charged: false, stage: 'research' },
      );
      assert.equal((await q('width=1024&height=1024&steps=25&n=2')).total, 80);
      // 64×64 × 10 steps is 1/160 of the reference: rounded up to one credit.
      assert.equal((await q('width=64&height=64&steps=10')).perImage, 1);
      assert.equal((await q('width=512&height=512&steps=26')).perImage, 11);
      const bad = await c.app.inject({ url: '/v1/credits/quote?width=500', headers: auth(c.userKey) });
      assert.equal(bad.statusCode, 400);
    });
  });
}
