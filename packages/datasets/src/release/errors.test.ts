// Bad inputs fail with a DatasetError whose code says what and whose message names the file or the row,
// and a failed release leaves nothing behind: no release folder, no partial folder.

import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatasetError, type DatasetErrorCode } from '../errors.js';
import { writeRelease } from './release.js';
import { fixtureOptions, makeFixture, solidPng, tempDir, type Fixture } from '../test-support/fixtures.js';
import type { ReleaseOptions } from '../types.js';

async function rejects(
  options: ReleaseOptions,
  code: DatasetErrorCode,
  message: RegExp,
  file?: string,
): Promise<void> {
  await assert.rejects(writeRelease(options), (error: unknown) => {
    assert.ok(error instanceof DatasetError, `a DatasetError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    if (file !== undefined) assert.equal(error.file, file);
    return true;
  });
  // Nothing half-written: the out folder holds only what was there before.
  const left = await readdir(options.outDir).catch((): string[] => []);
  assert.ok(!left.some((f) => f.includes('partial')), `partial folder left: ${left.join(', ')}`);
  assert.ok(
    !left.includes(options.name) || options.name === 'existing',
    `release folder left: ${left.join(', ')}`,
  );
}

const fixture: Fixture = makeFixture({ count: 14 });

test('an output folder that exists and is not empty is refused before any work', async (t) => {
  const out = await tempDir(t);
  await mkdir(join(out, 'existing'));
  await writeFile(join(out, 'existing', 'keep.txt'), 'mine');
  let read = 0;
  await rejects(
    fixtureOptions(fixture, out, { name: 'existing', readImage: async () => (read++, undefined) }),
    'output_not_empty',
    /existing: the release folder already exists and is not empty/,
    join(out, 'existing'),
  );
  assert.equal(read, 0);
  assert.equal(await readFile(join(out, 'existing', 'keep.txt'), 'utf8'), 'mine');
  // An empty folder is fine (e.g. made by an operator in advance).
  await mkdir(join(out, 'empty'));
  const result = await writeRelease(fixtureOptions(fixture, out, { name: 'empty' }));
  assert.equal(result.manifest.counts.images, 14);
});

test('a missing, malformed or altered previous release names the file at fault', async (t) => {
  const out = await tempDir(t);
  const previous = await writeRelease(fixtureOptions(fixture, out, { name: 'prev' }));
  const opts = (path: string) => fixtureOptions(fixture, out, { name: 'next', previous: path });

  await rejects(opts(join(out, 'nope')), 'previous_missing', /does not exist/, join(out, 'nope'));
  await mkdir(join(out, 'no-manifest'));
  await rejects(
    opts(join(out, 'no-manifest')),
    'previous_missing',
    /no readable manifest/,
    join(out, 'no-manifest', 'manifest.json'),
  );

  const bad = join(out, 'bad');
  await mkdir(bad);
  await writeFile(join(bad, 'manifest.json'), '{"format": "dreamfold-dataset-release", ');
  await rejects(opts(bad), 'previous_malformed', /bad\/manifest\.json: not JSON/, join(bad, 'manifest.json'));
  await writeFile(join(bad, 'manifest.json'), JSON.stringify({ format: 'something-else', files: [] }));
  await rejects(
    opts(bad),
    'previous_malformed',
    /not a release manifest: "format"/,
    join(bad, 'manifest.json'),
  );
  const manifest = JSON.parse(await readFile(join(previous.path, 'manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  await writeFile(
    join(bad, 'manifest.json'),
    JSON.stringify({ ...manifest, files: [{ path: 'metadata.parquet', bytes: 'x' }] }),
  );
  await rejects(opts(bad), 'previous_malformed', /files\[0\] needs path, bytes and a hex sha256/);
  await writeFile(join(bad, 'manifest.json'), JSON.stringify(manifest));
  await rejects(
    opts(bad),
    'previous_corrupt',
    /missing \(listed in the previous manifest\)/,
    join(bad, 'metadata.parquet'),
  );
  await writeFile(join(bad, 'metadata.parquet'), await readFile(join(previous.path, 'changes.parquet')));
  await rejects(opts(bad), 'previous_corrupt', /size or SHA-256 differs/, join(bad, 'metadata.parquet'));
});

test('a missing blob, bytes with another hash and a non-PNG name the image', async (t) => {
  const out = await tempDir(t);
  const victim = fixture.images[12]!;
  const reading = (replace: (sha: string) => Promise<Uint8Array | undefined>) =>
    fixtureOptions(fixture, out, {
      readImage: async (sha) => (sha === victim.sha256 ? replace(sha) : fixture.blobs.get(sha)),
    });
  await rejects(
    reading(async () => undefined),
    'missing_blob',
    new RegExp(`image ${victim.id}: blob ${victim.sha256} does not exist`),
  );
  await rejects(
    reading(async () => {
      throw new Error('ENOENT: no such file');
    }),
    'missing_blob',
    new RegExp(`image ${victim.id}: blob ${victim.sha256} could not be read: ENOENT`),
  );
  await rejects(
    reading(async () => solidPng(3, 3, 99)),
    'blob_mismatch',
    new RegExp(`image ${victim.id}`),
  );
  await rejects(
    reading(async () => Buffer.from('GIF89a not a png')),
    'invalid_image',
    new RegExp(`image ${victim.id}: blob .* is not a PNG`),
  );
});

test('unsorted ids, bad fields and wrong embeddings name the row', async (t) => {
  const out = await tempDir(t);
  const images = [...fixture.images];
  [images[4], images[5]] = [images[5]!, images[4]!];
  await rejects(
    fixtureOptions(fixture, out, { images }),
    'unsorted_input',
    /"img000004" came after "img000005"/,
  );
  const dup = [...fixture.images.slice(0, 3), fixture.images[2]!];
  await rejects(
    fixtureOptions(fixture, out, { images: dup }),
    'unsorted_input',
    /"img000002" came after "img000002"/,
  );

  const broken = (patch: Record<string, unknown>) =>
    fixtureOptions(fixture, out, {
      images: fixture.images.map((im, i) => (i === 6 ? { ...im, ...patch } : im)),
    });
  await rejects(
    broken({ sha256: 'ABC' }),
    'invalid_row',
    /images row img000006: sha256 must be 64 lower-case hex digits/,
  );
  await rejects(broken({ steps: 2.5 }), 'invalid_row', /images row img000006: steps must be an integer/);
  await rejects(broken({ prompt: null }), 'invalid_row', /images row img000006: prompt must be a string/);
  await rejects(
    broken({ guidanceScale: Number.NaN }),
    'invalid_row',
    /guidanceScale must be a finite number/,
  );
  await rejects(
    broken({ flags: { answers: 1, nsfw: 2, broken: 0, offensive: 0, does_not_match_prompt: 0 } }),
    'invalid_row',
    /flags\.nsfw must be an integer in \[0, 1\]/,
  );
  await rejects(broken({ flags: ['nsfw'] }), 'invalid_row', /flags\.answers must be an integer/);
  await rejects(broken({ creatorId: '' }), 'invalid_row', /creatorId must be 1–256 characters/);

  await rejects(
    fixtureOptions(fixture, out, {
      ratings: [{ imageId: 'img000001', raterId: 'u', score: 11, kind: 'Bad Kind' }],
    }),
    'invalid_row',
    /ratings row #0: kind must match/,
  );
  await rejects(
    fixtureOptions(fixture, out, {
      preferences: [
        { imageA: 'img000001', imageB: 'img000002', prompt: 'p', choice: 'left' as 'a', raterId: 'u' },
      ],
    }),
    'invalid_row',
    /preferences row #0: choice must be "a", "b" or "tie"/,
  );
  await rejects(
    fixtureOptions(fixture, out, {
      readEmbedding: async (id) => (id === 'img000003' ? new Float32Array(5) : null),
    }),
    'embedding_dimension',
    /readEmbedding\("img000003"\) returned 5 values; expected 8/,
  );
  await rejects(fixtureOptions(fixture, out, { name: '../escape' }), 'invalid_argument', /release name/);
  await rejects(
    fixtureOptions(fixture, out, { salt: 'short' }),
    'invalid_argument',
    /salt must be at least 16 bytes/,
  );
  await rejects(fixtureOptions(fixture, out, { shardSize: 0 }), 'invalid_argument', /shardSize/);
});

test('an abort signal stops a release and removes its partial folder', async (t) => {
  const out = await tempDir(t);
  const controller = new AbortController();
  const many = makeFixture({ count: 3000 });
  const options = fixtureOptions(many, out, {
    signal: controller.signal,
    readImage: async (sha) => {
      controller.abort(new Error('operator pressed ^C'));
      return many.blobs.get(sha);
    },
  });
  await rejects(options, 'aborted', /release aborted/);
});

test('exclusions and the progress total may still be counted as the release runs; a failed count fails it', async (t) => {
  const out = await tempDir(t);
  // The caller's count (20: rows may differ from an earlier count) and its exclusions, still pending
  // as the release starts; they arrive while the images are staged, before the last one (a timer here
  // raced the staging: on a quiet machine all 14 images were staged first).
  let count!: (n: number) => void;
  const counted = new Promise<number>((resolve) => (count = resolve));
  async function* countedBeforeTheLastImage() {
    for (const [i, image] of fixture.images.entries()) {
      if (i === fixture.images.length - 1) {
        count(20);
        await counted;
      }
      yield image;
    }
  }
  const totals: (number | undefined)[] = [];
  const result = await writeRelease(
    fixtureOptions(fixture, out, {
      name: 'counted',
      images: countedBeforeTheLastImage(),
      expectedImages: counted,
      exclusions: counted.then((n) => [{ reason: 'taken_down', count: n, description: 'Taken down.' }]),
      onProgress: (p) => {
        if (p.phase === 'images') totals.push(p.total);
      },
    }),
  );
  assert.equal(result.manifest.counts.images, 14);
  assert.deepEqual(result.manifest.exclusions, [{ reason: 'taken_down', count: 20 }]);
  assert.match(await readFile(join(result.path, 'README.md'), 'utf8'), /\| `taken_down` \| 20 \|/);
  assert.equal(totals.at(-1), 20);

  // A total that could not be counted only leaves the progress bar without one.
  const untotalled = await writeRelease(
    fixtureOptions(fixture, out, {
      name: 'untotalled',
      expectedImages: Promise.reject(new Error('no count')),
    }),
  );
  assert.equal(untotalled.manifest.counts.images, 14);

  const failed = Promise.reject(new DatasetError('invalid_argument', 'counting failed'));
  await rejects(
    fixtureOptions(fixture, out, { name: 'uncounted', exclusions: failed }),
    'invalid_argument',
    /counting failed/,
  );
});
