import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { sql } from 'kysely';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { makeImages } from '../test-support/images.js';
import { submit } from '../test-support/worker-client.js';
import { imageIsPublic, isPublicImage, publicImages } from '../moderation/visibility.js';
import { thumbKey } from './thumbnails.js';

interface Item {
  id: string;
  prompt: string;
  aestheticScore?: number;
}

for (const dialect of testDialects()) {
  describe(`public images and the gallery (${dialect})`, () => {
    let c: TestCoordinator;
    let moderator: { id: string; key: string };
    let stranger: { id: string; key: string };
    /** Five images, oldest first, each its own generation. */
    const made: string[] = [];
    before(async () => {
      // Every reading of the clock is a new millisecond, so "newest first" is exact.
      let t = Date.now();
      // Images are public at once (no NSFW classifier in these tests: see safety/).
      c = await startTestCoordinator({ dialect, clock: { now: () => ++t }, env: { NSFW_CLASSIFIER: 'off' } });
      moderator = await c.createUser('moderator');
      stranger = await c.createUser();
      const prompts = [
        'Red fox in snow',
        'a red barn at noon',
        'blue whale, 100% real',
        'green_field under sky',
        'a fox and a hound',
      ];
      for (const [i, prompt] of prompts.entries()) {
        made.push(...(await makeImages(c, c.userKey, { prompt, seed: i + 1 })).imageIds);
      }
    });
    after(() => c.shutdown());

    const get = (url: string, key?: string, headers: Record<string, string> = {}) =>
      c.app.inject({ url, headers: { ...(key ? auth(key) : {}), ...headers } });
    const ids = (res: { json(): { items: Item[] } }) => res.json().items.map((i) => i.id);

    test('lists public images newest first; the cursor walks every page without gaps', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await get(`/v1/images?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        seen.push(...ids(res));
        cursor = res.json().nextCursor;
      } while (cursor);
      assert.deepEqual(seen, [...made].reverse());
      const first = (await get('/v1/images?limit=1')).json().items[0];
      assert.equal(first.prompt, 'a fox and a hound');
      assert.equal(first.url, `/v1/images/${first.id}/file`);
      assert.equal(first.thumbUrl, `/v1/images/${first.id}/thumb`);
      assert.equal(first.width, 64);
    });

    test('images finished in the same millisecond follow by id, and no page skips or repeats one', async () => {
      const db = c.services.database.db;
      const middle = [made[1], made[2], made[3]] as string[];
      const original = await db
        .selectFrom('jobs')
        .select(['id', 'finished_at'])
        .where('id', 'in', middle)
        .execute();
      const tie = original.find((j) => j.id === made[2])!.finished_at as number;
      await db.updateTable('jobs').set({ finished_at: tie }).where('id', 'in', middle).execute();
      try {
        const expected = [made[4], ...[...middle].sort().reverse(), made[0]];
        for (const limit of [1, 2]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const res = await get(`/v1/images?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
            assert.equal(res.statusCode, 200, res.body);
            seen.push(...ids(res));
            cursor = res.json().nextCursor;
          } while (cursor);
          assert.deepEqual(seen, expected, `limit ${limit}`);
        }
      } finally {
        for (const job of original)
          await db
            .updateTable('jobs')
            .set({ finished_at: job.finished_at })
            .where('id', '=', job.id)
            .execute();
      }
    });

    test('searches prompts: every word, case-insensitively, LIKE wildcards taken literally', async () => {
      assert.deepEqual(ids(await get('/v1/images?q=fox')), [made[4], made[0]]);
      assert.deepEqual(ids(await get('/v1/images?q=RED%20fox')), [made[0]]);
      assert.deepEqual(ids(await get('/v1/images?q=100%25')), [made[2]]);
      assert.deepEqual(ids(await get('/v1/images?q=%25')), [made[2]]);
      assert.deepEqual(ids(await get('/v1/images?q=n_o')), []);
      assert.deepEqual(ids(await get('/v1/images?q=green_field')), [made[3]]);
      assert.deepEqual(ids(await get('/v1/images?q=zebra')), []);
    });

    test('sorts by aesthetic score, unscored images last, with a cursor across the boundary', async () => {
      const db = c.services.database.db;
      const scores: [string, number][] = [
        [made[1] as string, 6.5],
        [made[3] as string, 7.25],
        [made[0] as string, 6.5],
      ];
      for (const [image_id, aesthetic_score] of scores) {
        await db
          .insertInto('image_scores')
          .values({ image_id, aesthetic_score, model: 'laion-v2', scored_at: Date.now() })
          .execute();
      }
      // Ties on score are ordered by id (descending); the unscored follow, newest first.
      const tied = [made[1] as string, made[0] as string].sort().reverse();
      const expected = [made[3], ...tied, made[4], made[2]];
      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const res = await get(
            `/v1/images?sort=aesthetic&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
          );
          assert.equal(res.statusCode, 200, res.body);
          seen.push(...ids(res));
          cursor = res.json().nextCursor;
        } while (cursor);
        assert.deepEqual(seen, expected, `limit ${limit}`);
      }
      assert.deepEqual(ids(await get('/v1/images?sort=aesthetic&q=fox')), [made[0], made[4]]);
      const top = (await get('/v1/images?sort=aesthetic&limit=1')).json().items[0];
      assert.equal(top.aestheticScore, 7.25);
    });

    test('bad gallery queries get 400', async () => {
      for (const query of [
        'sort=best',
        'limit=0',
        'limit=101',
        'limit=ten',
        'cursor=notacursor',
        `q=${'x'.repeat(201)}`,
        // A recent-order cursor does not fit the aesthetic order, nor one from another run.
        `sort=aesthetic&cursor=${Buffer.from(JSON.stringify([1, 'x'])).toString('base64url')}`,
        `sort=aesthetic&cursor=${Buffer.from(JSON.stringify(['x', 1, 'x'])).toString('base64url')}`,
      ]) {
        const res = await get(`/v1/images?${query}`);
        assert.equal(res.statusCode, 400, query);
        assert.equal(res.json().type, 'validation_failed');
      }
    });

    test('one image: its parameters, no owner email, rating aggregates when annotated', async () => {
      const id = made[0] as string;
      const res = await get(`/v1/images/${id}`);
      assert.equal(res.statusCode, 200, res.body);
      const image = res.json();
      assert.equal(image.visibility, 'public');
      assert.deepEqual(image.params, {
        prompt: 'Red fox in snow',
        negativePrompt: '',
        model: image.params.model,
        width: 64,
        height: 64,
        steps: 10,
        guidanceScale: 7,
        sampler: 'euler_a',
        seed: 1,
      });
      assert.match(image.sha256, /^[0-9a-f]{64}$/);
      assert.equal(image.rating, undefined);
      assert.doesNotMatch(res.body, /@example\.org/);
      assert.doesNotMatch(res.body, new RegExp(c.userId));

      const g = await c.services.database.db
        .selectFrom('jobs')
        .select(['generation_id', 'finished_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      // Ratings 5, 6, 7, 8: mean 6.5, population standard deviation √1.25.
      await c.services.database.db
        .insertInto('annotation_images')
        .values({
          image_id: id,
          generation_id: g.generation_id,
          owner_id: c.userId,
          prompt_key: 'k',
          finished_at: g.finished_at ?? 0,
          rating_count: 4,
          rating_sum: 26,
          rating_sumsq: 174,
          pair_wins: 3,
          pair_losses: 1,
          pair_ties: 2,
        })
        .execute();
      const rated = (await get(`/v1/images/${id}`)).json();
      assert.equal(rated.rating.count, 4);
      assert.equal(rated.rating.mean, 6.5);
      assert.ok(Math.abs(rated.rating.stddev - Math.sqrt(1.25)) < 1e-9, String(rated.rating.stddev));
      assert.deepEqual(rated.rating.pairwise, { wins: 3, losses: 1, ties: 2 });

      assert.equal((await get('/v1/images/nosuch_0')).statusCode, 404);
      assert.equal((await get('/v1/images/bad%20id')).statusCode, 400);
      const queued = (await submit(c, c.userKey, { model: 'never-served' })).json();
      assert.equal((await get(`/v1/images/${queued.id}_0`)).statusCode, 404, 'unfinished jobs are no images');
    });

    test('the PNG and the WebP thumbnail, with long caching and ETags', async () => {
      const id = made[1] as string;
      const sha = (await get(`/v1/images/${id}`)).json().sha256 as string;
      const file = await get(`/v1/images/${id}/file`);
      assert.equal(file.statusCode, 200);
      assert.equal(file.headers['content-type'], 'image/png');
      assert.equal(file.headers.etag, `"${sha}"`);
      assert.equal(file.headers['cache-control'], 'public, max-age=31536000, s-maxage=600');
      assert.equal((await sharp(file.rawPayload).metadata()).width, 64);
      const notModified = await get(`/v1/images/${id}/file`, undefined, { 'if-none-match': `"${sha}"` });
      assert.equal(notModified.statusCode, 304);
      assert.equal(notModified.rawPayload.length, 0);
      const changed = await get(`/v1/images/${id}/file`, undefined, { 'if-none-match': '"other"' });
      assert.equal(changed.statusCode, 200);

      assert.equal(await c.services.blobs.has(thumbKey(sha)), false);
      const thumb = await get(`/v1/images/${id}/thumb`);
      assert.equal(thumb.statusCode, 200, thumb.body);
      assert.equal(thumb.headers['content-type'], 'image/webp');
      const meta = await sharp(thumb.rawPayload).metadata();
      assert.equal(meta.format, 'webp');
      assert.equal(meta.width, 64, 'small images are not enlarged');
      assert.equal(await c.services.blobs.has(thumbKey(sha)), true, 'made once, then kept by hash');
      const etag = thumb.headers.etag as string;
      assert.equal(
        (await get(`/v1/images/${id}/thumb`, undefined, { 'if-none-match': etag })).statusCode,
        304,
      );
      const again = await get(`/v1/images/${id}/thumb`);
      assert.deepEqual(again.rawPayload, thumb.rawPayload);
      assert.equal((await get('/v1/images/nosuch_0/thumb')).statusCode, 404);
    });

    test('hidden and withdrawn images leave the gallery; only owners and staff still reach them', async () => {
      const { imageIds } = await makeImages(c, stranger.key, { prompt: 'withdrawn later', n: 2 });
      const [w1, w2] = imageIds as [string, string];
      const hiddenId = made[2] as string;
      const db = c.services.database.db;
      assert.equal(await imageIsPublic(db, w1), true);

      await c.app.inject({
        method: 'POST',
        url: `/v1/moderation/images/${hiddenId}/hide`,
        headers: auth(moderator.key),
        payload: { reason: 'test take-down' },
      });
      await db
        .updateTable('users')
        .set({ dataset_consent: 'withdrawn' })
        .where('id', '=', stranger.id)
        .execute();

      const gallery = ids(await get('/v1/images?limit=100'));
      for (const gone of [hiddenId, w1, w2])
        assert.ok(!gallery.includes(gone), `${gone} is not in the gallery`);
      assert.equal(gallery.length, 4);

      const cases: [string, string | undefined, number, string?][] = [
        [hiddenId, undefined, 404],
        [hiddenId, stranger.key, 404],
        [hiddenId, c.userKey, 200, 'hidden'],
        [hiddenId, moderator.key, 200, 'hidden'],
        [hiddenId, c.adminKey, 200, 'hidden'],
        [w1, undefined, 404],
        [w1, c.userKey, 404],
        [w1, stranger.key, 200, 'withdrawn'],
        [w1, moderator.key, 200, 'withdrawn'],
      ];
      for (const [id, key, status, visibility] of cases) {
        const detail = await get(`/v1/images/${id}`, key);
        assert.equal(detail.statusCode, status, `${id} detail as ${key ?? 'anonymous'}`);
        if (visibility) assert.equal(detail.json().visibility, visibility);
        const file = await get(`/v1/images/${id}/file`, key);
        assert.equal(file.statusCode, status, `${id} file as ${key ?? 'anonymous'}`);
        if (status === 200) assert.equal(file.headers['cache-control'], 'private, no-store');
        assert.equal((await get(`/v1/images/${id}/thumb`, key)).statusCode, status);
      }
      // A bad credential on a public route does not unlock anything.
      assert.equal((await get(`/v1/images/${hiddenId}/file`, 'dfk_not-a-real-key')).statusCode, 404);

      // The one rule, as other domains use it: a query of its own, a point check, a correlated condition.
      const publicIds = (await publicImages(db).select('public_job.id').execute()).map((r) => r.id);
      assert.deepEqual(new Set(publicIds), new Set(gallery));
      assert.equal(await imageIsPublic(db, hiddenId), false);
      assert.equal(await imageIsPublic(db, w2), false);
      assert.equal(await imageIsPublic(db, made[0] as string), true);
      const viaJobs = await db
        .selectFrom('jobs')
        .select('jobs.id')
        .where('jobs.state', '=', 'done')
        .where(isPublicImage(db, sql.ref('jobs.id')))
        .execute();
      assert.deepEqual(new Set(viaJobs.map((r) => r.id)), new Set(gallery));

      await db
        .updateTable('users')
        .set({ dataset_consent: 'pseudonymous' })
        .where('id', '=', stranger.id)
        .execute();
      assert.equal((await get(`/v1/images/${w1}/file`)).statusCode, 200, 'consent given back: public again');
    });
  });
}
