// The HTTP side of releases: the public list and downloads (only manifest paths, byte ranges, immutable
// caching), and the admin schedule run by the coordinator's timer on a manual clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../clock.js';
import { testDialects } from '../test-support/databases.js';
import { auth, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { makeImages } from '../test-support/images.js';
import { parseRange } from './routes.js';

test('byte ranges: one range within the file, else the whole file or 416', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-5', 100), { start: 95, end: 99 });
  assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), null);
  assert.equal(parseRange('bytes=9-3', 100), null);
  assert.equal(parseRange(undefined, 100), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange('lines=1-2', 100), undefined);
});

for (const dialect of testDialects()) {
  describe(`dataset routes (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;

    before(async () => {
      clock = new ManualClock(Date.UTC(2026, 3, 10, 8));
      c = await startTestCoordinator({ dialect, clock });
      await makeImages(c, c.userKey, { prompt: 'a paper boat', n: 3, seed: 5 });
    });
    after(() => c.shutdown());

    test('releases are listed publicly, newest first, and their files download only by manifest path', async () => {
      const first = await c.services.datasets.release({ name: 'r-a' });
      clock.advance(60_000);
      const second = await c.services.datasets.release({ name: 'r-b' });

      const list = await c.app.inject({ url: '/v1/datasets' });
      assert.equal(list.statusCode, 200);
      const items = list.json().items as {
        name: string;
        previous: string | null;
        counts: { images: number };
        manifestSha256: string;
        filesUrl: string;
      }[];
      assert.deepEqual(
        items.map((i) => [i.name, i.previous, i.counts.images, i.filesUrl]),
        [
          ['r-b', 'r-a', 3, '/v1/datasets/r-b'],
          ['r-a', null, 3, '/v1/datasets/r-a'],
        ],
      );
      assert.equal(items[0]!.manifestSha256, second.manifestSha256);
      const page = await c.app.inject({ url: '/v1/datasets?limit=1' });
      const next = await c.app.inject({ url: `/v1/datasets?limit=1&cursor=${page.json().nextCursor}` });
      assert.deepEqual(
        next.json().items.map((i: { name: string }) => i.name),
        ['r-a'],
      );

      // Files: exactly the bytes on disk, with the manifest's hash as ETag.
      const manifestRes = await c.app.inject({ url: '/v1/datasets/r-a/manifest.json' });
      assert.equal(manifestRes.statusCode, 200);
      assert.equal(manifestRes.headers['content-type'], 'application/json');
      assert.equal(manifestRes.headers.etag, `"${first.manifestSha256}"`);
      assert.equal(manifestRes.body, await readFile(join(first.path, 'manifest.json'), 'utf8'));
      const shard = first.manifest.files.find((f) => f.path === 'shards/00000.tar')!;
      const tar = await c.app.inject({ url: '/v1/datasets/r-a/shards/00000.tar' });
      assert.equal(tar.statusCode, 200);
      assert.equal(tar.headers['content-type'], 'application/x-tar');
      assert.equal(tar.headers['content-length'], String(shard.bytes));
      assert.equal(tar.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(tar.headers.etag, `"${shard.sha256}"`);
      const onDisk = await readFile(join(first.path, 'shards', '00000.tar'));
      assert.ok(tar.rawPayload.equals(onDisk));
      const part = await c.app.inject({
        url: '/v1/datasets/r-a/shards/00000.tar',
        headers: { range: 'bytes=512-1023' },
      });
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers['content-range'], `bytes 512-1023/${shard.bytes}`);
      assert.ok(part.rawPayload.equals(onDisk.subarray(512, 1024)));
      const beyond = await c.app.inject({
        url: '/v1/datasets/r-a/README.md',
        headers: { range: `bytes=999999-` },
      });
      assert.equal(beyond.statusCode, 416);
      assert.equal(beyond.json().type, 'range_not_satisfiable');

      // Anything the manifest does not list is not there, whatever the path says.
      for (const path of [
        '/v1/datasets/r-a/..%2F..%2Ftest.db',
        '/v1/datasets/r-a/../r-b/manifest.json.bak',
        '/v1/datasets/r-a/.work/images.csv',
        '/v1/datasets/r-a/shards/',
        '/v1/datasets/r-a/shards%2F00000.tar%00',
        '/v1/datasets/nope/manifest.json',
      ]) {
        const res = await c.app.inject({ url: path });
        assert.ok([400, 404].includes(res.statusCode), `${path}: ${res.statusCode}`);
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      }
    });

    test('an admin schedules releases; the coordinator makes them when due, one per slot', async () => {
      const put = (key: string, intervalHours: number | null) =>
        c.app.inject({
          method: 'PUT',
          url: '/v1/admin/datasets/schedule',
          headers: auth(key),
          payload: { intervalHours },
        });
      assert.equal((await put(c.userKey, 24)).statusCode, 403);
      assert.equal(
        (
          await c.app.inject({
            method: 'PUT',
            url: '/v1/admin/datasets/schedule',
            payload: { intervalHours: 1 },
          })
        ).statusCode,
        401,
      );
      assert.equal((await put(c.adminKey, 0)).statusCode, 400);
      const set = await put(c.adminKey, 24);
      assert.equal(set.statusCode, 200);
      assert.deepEqual(set.json(), {
        intervalHours: 24,
        nextAt: new Date(clock.now() + 24 * 3_600_000).toISOString(),
      });
      const got = await c.app.inject({ url: '/v1/admin/datasets/schedule', headers: auth(c.adminKey) });
      assert.deepEqual(got.json(), set.json());

      assert.equal(await c.services.datasets.tick(), undefined, 'not due yet');
      clock.advance(24 * 3_600_000);
      const made = await c.services.datasets.tick();
      assert.ok(made);
      assert.equal(made.name, `dreamfold-${new Date(clock.now()).toISOString().slice(0, 10)}`);
      assert.equal(made.previous, 'r-b');
      assert.equal(await c.services.datasets.tick(), undefined, 'the slot moved on');
      clock.advance(24 * 3_600_000);
      const again = await c.services.datasets.tick();
      assert.equal(again?.name, `dreamfold-${new Date(clock.now()).toISOString().slice(0, 10)}`);

      const off = await put(c.adminKey, null);
      assert.deepEqual(off.json(), { intervalHours: null, nextAt: null });
      clock.advance(48 * 3_600_000);
      assert.equal(await c.services.datasets.tick(), undefined);
      const names = (await c.app.inject({ url: '/v1/datasets' }))
        .json()
        .items.map((i: { name: string }) => i.name);
      assert.equal(names.length, 4);
    });
  });
}
