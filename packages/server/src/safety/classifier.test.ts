// The NSFW classifier on real images: nsfwjs's bundled MobileNetV2 on the WebAssembly backend, in its
// thread, behind a real coordinator. Nothing here fakes the classifier: a hide is forced by an admin
// setting the threshold below what the real model scored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects, createTestDatabase, tempDir } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { classified, deliverDrawings, ownerView } from './test-fixtures.js';

const CLASSIFIER_ON = { NSFW_CLASSIFIER: 'nsfwjs' };

for (const dialect of testDialects()) {
  describe(`NSFW classifier (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    before(async () => {
      c = await startTestCoordinator({ dialect, env: CLASSIFIER_ON });
      moderator = await c.createUser('moderator');
    });
    after(() => c.shutdown());

    const get = (url: string, key?: string) => c.app.inject({ url, headers: key ? auth(key) : {} });
    const setThresholds = (key: string, payload: object) =>
      c.app.inject({ method: 'PUT', url: '/v1/admin/safety/thresholds', headers: auth(key), payload });

    test('a neutral drawing is classified, its verdict stored, and only then public', async () => {
      const { generationId, imageIds } = await deliverDrawings(c, c.userKey, 2, 1);
      const images = await classified(c, c.userKey, generationId);
      for (const image of images) {
        const nsfw = image.nsfw!;
        assert.equal(nsfw.state, 'classified');
        assert.ok(nsfw.score !== undefined && nsfw.score < 0.2, `score ${nsfw.score}`);
        assert.equal(nsfw.hidden, false);
        assert.equal(nsfw.blur, false);
      }
      // Public now: the anonymous gallery and image page show it.
      const gallery = (await get('/v1/images?limit=100')).json().items as { id: string }[];
      for (const id of imageIds) {
        assert.ok(
          gallery.some((i) => i.id === id),
          'in the gallery',
        );
        assert.equal((await get(`/v1/images/${id}`)).statusCode, 200);
      }
      const settings = (await get('/v1/moderation/safety', moderator.key)).json();
      assert.equal(settings.classifier, 'nsfwjs/MobileNetV2 (wasm)');
      assert.equal(settings.hideAbove, 0.8);
      assert.equal(settings.pending, 0);
    });

    test('an admin lowers the threshold below the real score: the next image is hidden and says why', async () => {
      const firstGeneration = (await deliverDrawings(c, c.userKey, 1, 10)).generationId;
      const first = await classified(c, c.userKey, firstGeneration);
      const score = first[0]!.nsfw!.score!;
      assert.equal(first[0]!.nsfw!.blur, false);
      assert.ok(score > 0);
      // Half of what the model gives this kind of picture: the next drawing scores above it.
      const res = await setThresholds(c.adminKey, { hideAbove: score / 2, blurAbove: score / 4 });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().hideAbove, score / 2);

      const { generationId, imageIds } = await deliverDrawings(c, c.userKey, 1, 10);
      const [image] = await classified(c, c.userKey, generationId);
      const nsfw = image!.nsfw!;
      assert.ok(nsfw.score! >= score / 2, `${nsfw.score} vs ${score / 2}`);
      assert.equal(nsfw.hidden, true);
      assert.equal(nsfw.hiddenBy, 'classifier');
      assert.equal(nsfw.blur, true);
      assert.match(nsfw.reason!, /^nsfw_classifier: scored \d\.\d\d for sexual content \(hide threshold/);
      const id = imageIds[0]!;
      assert.equal((await get(`/v1/images/${id}`)).statusCode, 404, 'not public');
      assert.ok(
        !((await get('/v1/images?limit=100')).json().items as { id: string }[]).some((i) => i.id === id),
      );
      // Moderators see it among hidden images, and the audit log names the classifier and the threshold.
      const hidden = (await get('/v1/moderation/hidden-images', moderator.key)).json().items as {
        image: { id: string };
        reason: string;
      }[];
      assert.ok(hidden.some((h) => h.image.id === id && h.reason.startsWith('nsfw_classifier')));
      const audit = (await get(`/v1/moderation/audit?targetId=${id}`, moderator.key)).json().items;
      assert.equal(audit[0].action, 'image.hide');
      assert.equal(audit[0].actorId, undefined);
      assert.equal(audit[0].detail.by, 'classifier');
      const settingsAudit = (
        await get('/v1/moderation/audit?action=settings.safety_thresholds', moderator.key)
      ).json();
      assert.equal(settingsAudit.items[0].detail.to.hideAbove, score / 2);

      // Blurring follows the threshold at once; hiding reaches images classified before through the
      // background re-evaluation of their stored scores (reevaluation.test.ts), and leaves with it.
      await c.services.safety.reevaluations.idle();
      const [before] = await ownerView(c, c.userKey, firstGeneration);
      assert.equal(before!.nsfw!.blur, true);
      assert.equal(before!.nsfw!.hidden, true);
      await setThresholds(c.adminKey, { hideAbove: 0.8, blurAbove: 0.5 });
      await c.services.safety.reevaluations.idle();
      assert.equal((await ownerView(c, c.userKey, firstGeneration))[0]!.nsfw!.hidden, false);
    });

    test('thresholds: admins only, blur never above hide, numbers in [0, 1]', async () => {
      assert.equal((await setThresholds(moderator.key, { hideAbove: 0.5, blurAbove: 0.2 })).statusCode, 403);
      assert.equal((await setThresholds(c.userKey, { hideAbove: 0.5, blurAbove: 0.2 })).statusCode, 403);
      const inverted = await setThresholds(c.adminKey, { hideAbove: 0.3, blurAbove: 0.6 });
      assert.equal(inverted.statusCode, 400);
      assert.equal(inverted.json().errors[0].path, 'body/blurAbove');
      for (const bad of [
        { hideAbove: 1.5, blurAbove: 0.1 },
        { hideAbove: '0.5', blurAbove: 0.1 },
        { hideAbove: 0.5 },
        { hideAbove: 0.5, blurAbove: 0.1, x: 1 },
      ]) {
        assert.equal((await setThresholds(c.adminKey, bad)).statusCode, 400, JSON.stringify(bad));
      }
      assert.equal((await get('/v1/moderation/safety', c.userKey)).statusCode, 403);
    });
  });

  describe(`NSFW classifier across a restart (${dialect})`, () => {
    test('until the classifier has run the image is not public; a pending image is classified after a restart', async () => {
      const database = await createTestDatabase(dialect);
      const dataDir = tempDir();
      const a = await startTestCoordinator({ dialect, database, dataDir, env: CLASSIFIER_ON });
      // This coordinator's scanner stops before the image arrives, so the image stays pending with it.
      await a.services.safety.stop();
      const { generationId, imageIds } = await deliverDrawings(a, a.userKey, 1, 20);
      const id = imageIds[0]!;
      const [pending] = await ownerView(a, a.userKey, generationId);
      assert.equal(pending!.nsfw!.state, 'pending');
      assert.equal(pending!.nsfw!.blur, true, 'nobody has looked at it: blurred');
      assert.equal((await a.app.inject({ url: `/v1/images/${id}` })).statusCode, 404);
      assert.ok(
        !((await a.app.inject({ url: '/v1/images' })).json().items as { id: string }[]).some(
          (i) => i.id === id,
        ),
      );
      // The owner still gets their file.
      assert.equal(
        (await a.app.inject({ url: `/v1/generations/${generationId}/images/0`, headers: auth(a.userKey) }))
          .statusCode,
        200,
      );
      await a.shutdown();

      const b = await startTestCoordinator({ dialect, database, dataDir, env: CLASSIFIER_ON });
      try {
        const [image] = await classified(b, b.userKey, generationId);
        assert.equal(image!.nsfw!.state, 'classified');
        assert.equal((await b.app.inject({ url: `/v1/images/${id}` })).statusCode, 200);
      } finally {
        await b.shutdown();
        await database.drop();
      }
    });

    test('with NSFW_CLASSIFIER=off images are public at once, unchecked, and not blurred', async () => {
      const c = await startTestCoordinator({ dialect, env: { NSFW_CLASSIFIER: 'off' } });
      try {
        const { generationId, imageIds } = await deliverDrawings(c, c.userKey, 1, 30);
        const [image] = await ownerView(c, c.userKey, generationId);
        assert.deepEqual(image!.nsfw, { state: 'unchecked', blur: false, hidden: false });
        assert.equal((await c.app.inject({ url: `/v1/images/${imageIds[0]}` })).statusCode, 200);
        const settings = (
          await c.app.inject({ url: '/v1/moderation/safety', headers: auth(c.adminKey) })
        ).json();
        assert.equal(settings.classifier, 'off');
      } finally {
        await c.shutdown();
      }
    });
  });
}
