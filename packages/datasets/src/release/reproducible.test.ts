// Same inputs, same release time, same salt → the same bytes in every file; and each release says what
// changed since the previous one.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeRelease } from './release.js';
import { fixtureOptions, imageId, makeFixture, tempDir } from '../test-support/fixtures.js';
import { readParquet } from '../test-support/read-back.js';

async function filesOf(folder: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files = new Map<string, Buffer>();
  for (const e of entries.filter((x) => x.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(e.parentPath, e.name);
    files.set(path.slice(folder.length + 1), await readFile(path));
  }
  return files;
}

test('running the same release twice gives byte-identical files (rows one by one or in pages)', async (t) => {
  const out = await tempDir(t);
  const fixture = makeFixture({ count: 35 });
  // Generators, as a database cursor would feed them, read once per release: the first run row by row,
  // the second in pages of 7 (as a paged query yields them).
  const pages = <T>(rows: T[]): T[][] =>
    Array.from({ length: Math.ceil(rows.length / 7) }, (_, i) => rows.slice(i * 7, i * 7 + 7));
  const run = (outDir: string, paged: boolean) =>
    writeRelease(
      fixtureOptions(fixture, outDir, {
        images: (async function* () {
          yield* paged ? pages(fixture.images) : fixture.images;
        })(),
        ratings: (async function* () {
          yield* paged ? pages(fixture.ratings) : fixture.ratings;
        })(),
        preferences: paged ? pages(fixture.preferences) : fixture.preferences,
        readConcurrency: 3,
      }),
    );
  const first = await run(join(out, 'a'), false);
  const second = await run(join(out, 'b'), true);
  const a = await filesOf(first.path);
  const b = await filesOf(second.path);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  assert.ok(a.size >= 11, 'every kind of file is compared');
  for (const [path, bytes] of a) assert.ok(bytes.equals(b.get(path)!), `${path} differs between runs`);
  assert.equal(first.manifestSha256, second.manifestSha256);

  // Another salt (another release name on the server) gives other pseudonyms for the same people.
  const third = await writeRelease(
    fixtureOptions(fixture, join(out, 'c'), { salt: 'another salt, also long enough' }),
  );
  const creators = async (folder: string) =>
    (await readParquet(join(folder, 'metadata.parquet'))).map((r) => r.creator as string);
  const [x, y] = [await creators(first.path), await creators(third.path)];
  assert.equal(new Set(x).size, 3);
  assert.equal(new Set(y).size, 3);
  assert.equal(x.filter((p) => y.includes(p)).length, 0, 'pseudonyms are unlinkable across salts');
});

test('a release lists what was added and removed since the previous one, given its folder or manifest', async (t) => {
  const out = await tempDir(t);
  const first = makeFixture({ count: 20 });
  const r1 = await writeRelease(fixtureOptions(first, out, { name: 'r1' }));
  // Since r1: images 3, 4 and 15 were withdrawn or taken down, images 20–23 are new.
  const second = makeFixture({ count: 24, keep: (i) => ![3, 4, 15].includes(i) });
  const r2 = await writeRelease(fixtureOptions(second, out, { name: 'r2', previous: r1.path }));
  const changes = await readParquet(join(r2.path, 'changes.parquet'));
  assert.deepEqual(
    changes,
    [
      { id: imageId(15), change: 'removed' },
      { id: imageId(20), change: 'added' },
      { id: imageId(21), change: 'added' },
      { id: imageId(22), change: 'added' },
      { id: imageId(23), change: 'added' },
      { id: imageId(3), change: 'removed' },
      { id: imageId(4), change: 'removed' },
    ].sort((p, q) => (p.id < q.id ? -1 : 1)),
  );
  assert.equal(r2.manifest.previous, 'r1');
  assert.deepEqual(
    [r2.manifest.counts.added, r2.manifest.counts.removed, r2.manifest.counts.images],
    [4, 3, 21],
  );
  const card = await readFile(join(r2.path, 'README.md'), 'utf8');
  assert.match(card, /Previous release: `r1`/);
  assert.match(card, /\| images added since the previous release \| 4 \|/);
  assert.match(card, /\| images removed since the previous release \| 3 \|/);
  // The removed images are gone from every table of the new release, not only marked.
  const ids = (await readParquet(join(r2.path, 'metadata.parquet'))).map((r) => r.id);
  for (const gone of [3, 4, 15]) assert.ok(!ids.includes(imageId(gone)));

  // Pointing at the manifest file works the same; an unchanged release has no changes.
  const r3 = await writeRelease(
    fixtureOptions(second, out, { name: 'r3', previous: join(r2.path, 'manifest.json') }),
  );
  assert.deepEqual(await readParquet(join(r3.path, 'changes.parquet')), []);
  assert.equal(r3.manifest.previous, 'r2');
});
