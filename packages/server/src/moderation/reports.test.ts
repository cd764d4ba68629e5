import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { makeImages } from '../test-support/images.js';
import { submit } from '../test-support/worker-client.js';

for (const dialect of testDialects()) {
  describe(`reports and the moderator queue (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let otherModerator: { id: string; key: string };
    let reporterA: { id: string; key: string };
    let reporterB: { id: string; key: string };
    before(async () => {
      // Every reading of the clock is a new millisecond, so "newest first" orders are exact.
      let t = Date.now();
      // Images are public at once (no NSFW classifier in these tests: see safety/).
      c = await startTestCoordinator({ dialect, clock: { now: () => ++t }, env: { NSFW_CLASSIFIER: 'off' } });
      moderator = await c.createUser('moderator');
      otherModerator = await c.createUser('moderator');
      reporterA = await c.createUser();
      reporterB = await c.createUser();
    });
    after(() => c.shutdown());

    const report = (key: string, imageId: string, payload: object, headers: Record<string, string> = {}) =>
      c.app.inject({
        method: 'POST',
        url: `/v1/images/${imageId}/reports`,
        headers: { ...auth(key), ...headers },
        payload,
      });
    const post = (key: string, url: string, payload: object) =>
      c.app.inject({ method: 'POST', url, headers: auth(key), payload });
    const get = (url: string, key?: string) => c.app.inject({ url, headers: key ? auth(key) : {} });
    const auditOf = async (targetId: string) =>
      (await get(`/v1/moderation/audit?targetId=${targetId}`, moderator.key)).json().items as {
        action: string;
        actorId: string;
        detail: Record<string, unknown>;
      }[];

    test('signed-in users report an image once; retries with a key replay; bad input is refused', async () => {
      const { imageIds } = await makeImages(c, c.userKey, { prompt: 'report me' });
      const id = imageIds[0] as string;
      const first = await report(
        reporterA.key,
        id,
        { reason: 'nsfw', note: 'not for a gallery' },
        {
          'idempotency-key': 'r-1',
        },
      );
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(first.json().state, 'open');
      assert.equal(first.json().imageId, id);
      const replay = await report(
        reporterA.key,
        id,
        { reason: 'nsfw', note: 'not for a gallery' },
        {
          'idempotency-key': 'r-1',
        },
      );
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.json().id, first.json().id);
      assert.equal(replay.headers['idempotent-replayed'], 'true');

      const again = await report(reporterA.key, id, { reason: 'offensive' });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().type, 'conflict');
      assert.equal((await report(reporterB.key, id, { reason: 'offensive' })).statusCode, 201);

      const cases: [object, string][] = [
        [{ reason: 'ugly' }, '/reason'],
        [{}, 'body'],
        [{ reason: 'other', note: 'x'.repeat(1001) }, '/note'],
        [{ reason: 'other', note: 42 }, '/note'],
        [{ reason: 'other', extra: true }, 'body'],
      ];
      for (const [payload, path] of cases) {
        const res = await report(reporterB.key, id, payload);
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        assert.ok(
          res.json().errors.some((e: { path: string }) => e.path.includes(path)),
          res.body,
        );
      }
      assert.equal((await report(reporterA.key, 'nosuchimage_0', { reason: 'other' })).statusCode, 404);
      assert.equal((await report(reporterA.key, 'bad id!', { reason: 'other' })).statusCode, 400);
      const unauthenticated = await c.app.inject({
        method: 'POST',
        url: `/v1/images/${id}/reports`,
        payload: { reason: 'other' },
      });
      assert.equal(unauthenticated.statusCode, 401);
    });

    test('concurrent reports by one user leave exactly one open report', async () => {
      const { imageIds } = await makeImages(c, c.userKey, { prompt: 'double click' });
      const id = imageIds[0] as string;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => report(reporterA.key, id, { reason: 'broken' })),
      );
      assert.deepEqual(answers.map((a) => a.statusCode).sort(), [201, 409, 409, 409, 409, 409]);
      const rows = await c.services.database.db
        .selectFrom('reports')
        .select('id')
        .where('image_id', '=', id)
        .execute();
      assert.equal(rows.length, 1);
    });

    test('an image that is not finished, or not visible to the reporter, cannot be reported', async () => {
      const queued = (await submit(c, c.userKey, { model: 'never-served' })).json();
      const jobId = `${queued.id}_0`;
      assert.equal((await report(reporterA.key, jobId, { reason: 'other' })).statusCode, 404);
      const { imageIds } = await makeImages(c, c.userKey, { prompt: 'taken down before the report' });
      const id = imageIds[0] as string;
      assert.equal(
        (await post(moderator.key, `/v1/moderation/images/${id}/hide`, { reason: 'spam' })).statusCode,
        200,
      );
      assert.equal((await report(reporterA.key, id, { reason: 'other' })).statusCode, 404);
    });

    test('the queue groups open reports by image, longest waiting first, with a cursor', async () => {
      const page1 = await get('/v1/moderation/reports?limit=1', moderator.key);
      assert.equal(page1.statusCode, 200, page1.body);
      const first = page1.json().items[0];
      assert.equal(first.image.prompt, 'report me');
      assert.equal(first.openReports, 2);
      assert.deepEqual(first.reasons, [
        { reason: 'nsfw', count: 1 },
        { reason: 'offensive', count: 1 },
      ]);
      assert.equal(first.reports.length, 2);
      assert.ok(
        first.reports.every((r: { reporterId: string }) =>
          [reporterA.id, reporterB.id].includes(r.reporterId),
        ),
        'moderators see who reported',
      );
      assert.equal(first.image.ownerId, c.userId);
      assert.equal(first.image.hidden, false);
      const page2 = await get(
        `/v1/moderation/reports?limit=1&cursor=${page1.json().nextCursor}`,
        moderator.key,
      );
      assert.equal(page2.json().items[0].image.prompt, 'double click');
      assert.equal((await get('/v1/moderation/reports?cursor=garbage', moderator.key)).statusCode, 400);
      assert.equal((await get('/v1/moderation/reports?limit=500', moderator.key)).statusCode, 400);
    });

    test('dismissing closes every open report on the image; the image stays public; audited', async () => {
      const { imageIds } = await makeImages(c, c.userKey, { prompt: 'harmless' });
      const id = imageIds[0] as string;
      const r1 = (await report(reporterA.key, id, { reason: 'offensive' })).json();
      await report(reporterB.key, id, { reason: 'other' });
      const res = await post(moderator.key, `/v1/moderation/reports/${r1.id}/resolve`, {
        action: 'dismiss',
        reason: 'a lighthouse offends nobody',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().resolved, 2);
      assert.equal(res.json().image.hidden, false);
      assert.equal((await get(`/v1/images/${id}`)).statusCode, 200);
      const again = await post(moderator.key, `/v1/moderation/reports/${r1.id}/resolve`, {
        action: 'hide',
        reason: 'changed my mind',
      });
      assert.equal(again.statusCode, 409);
      const entries = await auditOf(r1.id);
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.action, 'report.resolve');
      assert.equal(entries[0]?.actorId, moderator.id);
      assert.equal(entries[0]?.detail.reportsClosed, 2);
      // A user can report it again later: the one-open-report rule is about open reports.
      assert.equal((await report(reporterA.key, id, { reason: 'offensive' })).statusCode, 201);
    });

    test('report → moderator hides → the image is gone from the gallery and its file for others', async () => {
      const { imageIds } = await makeImages(c, c.userKey, { prompt: 'unacceptable scene' });
      const id = imageIds[0] as string;
      const inGallery = async () =>
        (await get('/v1/images?q=unacceptable')).json().items.some((i: { id: string }) => i.id === id);
      assert.equal(await inGallery(), true);
      const r = (await report(reporterA.key, id, { reason: 'illegal' })).json();
      const res = await post(moderator.key, `/v1/moderation/reports/${r.id}/resolve`, {
        action: 'hide',
        reason: 'breaks the rules',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().image.hidden, true);
      assert.equal(res.json().image.hiddenReason, 'breaks the rules');

      assert.equal(await inGallery(), false);
      for (const key of [undefined, reporterA.key]) {
        assert.equal((await get(`/v1/images/${id}`, key)).statusCode, 404);
        assert.equal((await get(`/v1/images/${id}/file`, key)).statusCode, 404);
        assert.equal((await get(`/v1/images/${id}/thumb`, key)).statusCode, 404);
      }
      const asOwner = await get(`/v1/images/${id}/file`, c.userKey);
      assert.equal(asOwner.statusCode, 200);
      assert.equal(asOwner.headers['cache-control'], 'private, no-store');
      assert.equal((await get(`/v1/images/${id}`, c.userKey)).json().visibility, 'hidden');
      assert.equal((await get(`/v1/images/${id}/file`, otherModerator.key)).statusCode, 200);

      const actions = (await auditOf(id)).map((e) => e.action);
      assert.deepEqual(actions, ['image.hide']);
      assert.deepEqual(
        (await auditOf(r.id)).map((e) => e.action),
        ['report.resolve'],
      );
      const reportRow = await c.services.database.db
        .selectFrom('reports')
        .select(['state', 'resolved_by'])
        .where('id', '=', r.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(reportRow, { state: 'actioned', resolved_by: moderator.id });
    });

    test('hide and unhide directly, with reasons; state conflicts are 409; listing hidden images', async () => {
      const { imageIds } = await makeImages(c, c.userKey, { prompt: 'hide and seek', n: 2 });
      const [a, b] = imageIds as [string, string];
      await report(reporterA.key, a, { reason: 'copyright' });
      const hidden = await post(moderator.key, `/v1/moderation/images/${a}/hide`, {
        reason: 'copyright claim',
      });
      assert.equal(hidden.statusCode, 200, hidden.body);
      assert.equal(
        (
          await c.services.database.db
            .selectFrom('reports')
            .select('state')
            .where('image_id', '=', a)
            .executeTakeFirstOrThrow()
        ).state,
        'actioned',
        'hiding closes the open reports',
      );
      assert.equal(
        (await post(moderator.key, `/v1/moderation/images/${a}/hide`, { reason: 'again' })).statusCode,
        409,
      );
      assert.equal(
        (await post(moderator.key, `/v1/moderation/images/${b}/hide`, { reason: 'second' })).statusCode,
        200,
      );

      const page1 = await get('/v1/moderation/hidden-images?limit=1', moderator.key);
      assert.equal(page1.statusCode, 200);
      assert.equal(page1.json().items[0].image.id, b);
      assert.equal(page1.json().items[0].reason, 'second');
      assert.equal(page1.json().items[0].hiddenBy, moderator.id);
      const page2 = await get(
        `/v1/moderation/hidden-images?limit=1&cursor=${page1.json().nextCursor}`,
        moderator.key,
      );
      assert.equal(page2.json().items[0].image.id, a);

      const unhidden = await post(otherModerator.key, `/v1/moderation/images/${a}/unhide`, {
        reason: 'licence shown',
      });
      assert.equal(unhidden.statusCode, 200);
      assert.equal(unhidden.json().hidden, false);
      assert.equal((await get(`/v1/images/${a}/file`)).statusCode, 200);
      assert.equal(
        (await post(moderator.key, `/v1/moderation/images/${a}/unhide`, { reason: 'x' })).statusCode,
        409,
      );
      const entries = await auditOf(a);
      assert.deepEqual(
        entries.map((e) => [e.action, e.actorId]),
        [
          ['image.unhide', otherModerator.id],
          ['image.hide', moderator.id],
        ],
      );
      assert.equal(entries[0]?.detail.hiddenFor, 'copyright claim');

      for (const payload of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 7 }]) {
        const res = await post(moderator.key, `/v1/moderation/images/${b}/unhide`, payload);
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
      }
      assert.equal(
        (await post(moderator.key, '/v1/moderation/images/nosuch_0/hide', { reason: 'x' })).statusCode,
        404,
      );
      assert.equal(
        (
          await post(moderator.key, '/v1/moderation/reports/nosuch/resolve', {
            action: 'dismiss',
            reason: 'x',
          })
        ).statusCode,
        404,
      );
      const badAction = await post(moderator.key, '/v1/moderation/reports/nosuch/resolve', {
        action: 'delete',
        reason: 'x',
      });
      assert.equal(badAction.statusCode, 400);
    });

    test('moderators cannot act on their own images', async () => {
      const { imageIds } = await makeImages(c, moderator.key, { prompt: 'my own picture' });
      const id = imageIds[0] as string;
      const r = (await report(reporterA.key, id, { reason: 'other' })).json();
      const resolve = await post(moderator.key, `/v1/moderation/reports/${r.id}/resolve`, {
        action: 'dismiss',
        reason: 'mine is fine',
      });
      assert.equal(resolve.statusCode, 403);
      assert.equal(
        (await post(moderator.key, `/v1/moderation/images/${id}/hide`, { reason: 'x' })).statusCode,
        403,
      );
      assert.equal(
        (
          await post(otherModerator.key, `/v1/moderation/reports/${r.id}/resolve`, {
            action: 'dismiss',
            reason: 'ok',
          })
        ).statusCode,
        200,
      );
    });

    test('users cannot reach moderator routes; nobody reaches them without a key', async () => {
      const routes: [string, string, object?][] = [
        ['GET', '/v1/moderation/reports'],
        ['POST', '/v1/moderation/reports/x/resolve', { action: 'dismiss', reason: 'x' }],
        ['POST', '/v1/moderation/images/x_0/hide', { reason: 'x' }],
        ['POST', '/v1/moderation/images/x_0/unhide', { reason: 'x' }],
        ['GET', '/v1/moderation/hidden-images'],
        ['GET', '/v1/moderation/users/x'],
        ['POST', '/v1/moderation/users/x/suspend', { reason: 'x' }],
        ['POST', '/v1/moderation/users/x/unsuspend', { reason: 'x' }],
        ['GET', '/v1/moderation/audit'],
        ['GET', '/v1/moderation/prompt-filter'],
      ];
      for (const [method, url, payload] of routes) {
        const asUser = await c.app.inject({
          method: method as 'GET',
          url,
          headers: auth(reporterA.key),
          payload,
        });
        assert.equal(asUser.statusCode, 403, `${method} ${url}`);
        assert.equal(asUser.json().type, 'forbidden');
        const anonymous = await c.app.inject({ method: method as 'GET', url, payload });
        assert.equal(anonymous.statusCode, 401, `${method} ${url}`);
      }
    });
  });
}
