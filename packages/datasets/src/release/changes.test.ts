// changes.parquet from the merge of the images with the previous release's ids: right where the removed
// and added ids fall across DuckDB chunks, before the first image and after the last.

import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeRelease } from './release.js';
import { DatasetError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { fixtureOptions, imageId, makeFixture, sha256Hex, tempDir } from '../test-support/fixtures.js';
import { queryParquet, readParquet } from '../test-support/read-back.js';

test('changes across many chunks of previous ids: removed before, between and after the images, added among them', async (t) => {
  const out = await tempDir(t);
  const large = { readEmbedding: async () => null, shardSize: 1000 };
  // r1: images 0–5999 except every seventh; r2: 0–9 gone, a run of 2,500 gone across chunk boundaries,
  // every seventh now present (added), 5990–5999 gone, 6000–6099 new.
  const inFirst = (i: number) => i < 6000 && i % 7 !== 0;
  const inSecond = (i: number) => i >= 10 && !(i >= 1500 && i < 4000) && !(i >= 5990 && i < 6000);
  const first = makeFixture({ count: 6000, keep: inFirst });
  const r1 = await writeRelease(fixtureOptions(first, out, { name: 'r1', ...large }));
  const second = makeFixture({ count: 6100, keep: inSecond });
  const r2 = await writeRelease(fixtureOptions(second, out, { name: 'r2', previous: r1.path, ...large }));

  const expected: { id: string; change: string }[] = [];
  for (let i = 0; i < 6100; i++) {
    if (inFirst(i) && !inSecond(i)) expected.push({ id: imageId(i), change: 'removed' });
    if (!inFirst(i) && inSecond(i)) expected.push({ id: imageId(i), change: 'added' });
  }
  const changes = await readParquet(join(r2.path, 'changes.parquet'));
  assert.equal(changes.length, expected.length);
  assert.deepEqual(changes, expected);
  const removed = expected.filter((c) => c.change === 'removed').length;
  assert.ok(removed > 2048, 'the removed ids span more than one chunk');
  assert.deepEqual(
    [r2.manifest.counts.added, r2.manifest.counts.removed],
    [expected.length - removed, removed],
  );
  // Ratings and preferences naming images of r1 that r2 no longer has are left out of r2.
  const published = new Set((await readParquet(join(r2.path, 'metadata.parquet'))).map((r) => r.id));
  for (const r of await readParquet(join(r2.path, 'ratings.parquet')))
    assert.ok(published.has(r.image_id), `${r.image_id as string} rated but not published`);
  for (const p of await readParquet(join(r2.path, 'preferences.parquet')))
    assert.ok(published.has(p.image_a) && published.has(p.image_b));
  assert.ok(r2.manifest.counts.ratings_left_out > 0 && r2.manifest.counts.preferences_left_out > 0);
});

test('a previous release whose ids are not in order is refused as malformed, naming its metadata', async (t) => {
  const out = await tempDir(t);
  const fixture = makeFixture({ count: 12 });
  const r1 = await writeRelease(fixtureOptions(fixture, out, { name: 'r1' }));
  // Rewrite r1's metadata.parquet in descending id order and make its manifest agree, so only the order
  // is wrong.
  const metadata = join(r1.path, 'metadata.parquet');
  const reordered = join(out, 'reordered.parquet');
  await queryParquet(
    `COPY (SELECT * FROM read_parquet('${metadata}') ORDER BY id DESC) TO '${reordered}' (FORMAT parquet)`,
  );
  await rename(reordered, metadata);
  const manifestPath = join(r1.path, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  const bytes = await readFile(metadata);
  const entry = manifest.files.find((f) => f.path === 'metadata.parquet')!;
  Object.assign(entry, { bytes: bytes.length, sha256: sha256Hex(bytes) });
  await writeFile(manifestPath, JSON.stringify(manifest));

  await assert.rejects(
    writeRelease(fixtureOptions(fixture, out, { name: 'r2', previous: r1.path })),
    (error: unknown) => {
      assert.ok(error instanceof DatasetError);
      assert.equal(error.code, 'previous_malformed');
      assert.match(error.message, /ids are not sorted and unique: "img000010" comes after "img000011"/);
      assert.equal(error.file, metadata);
      return true;
    },
  );
});
