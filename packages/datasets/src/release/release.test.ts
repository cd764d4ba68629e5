// A release read back as a researcher would (DuckDB for Parquet, tar-stream for shards, the .npy
// reader of @dreamfold/aesthetics) and compared field by field with what went in.

import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { NpyReader, float16ToFloat32, float32ToFloat16 } from '@dreamfold/aesthetics';
import {
  METADATA_COLUMNS,
  PREFERENCE_COLUMNS,
  RATING_COLUMNS,
  CHANGE_COLUMNS,
  LAION_COLUMNS,
} from '../columns.js';
import { Pseudonymizer } from '../pseudonym.js';
import { sha256 } from '../hash.js';
import { writeRelease } from './release.js';
import {
  EMBEDDING_DIM,
  fixtureOptions,
  makeFixture,
  tempDir,
  type Fixture,
} from '../test-support/fixtures.js';
import { parquetSchema, queryParquet, readParquet, readTar } from '../test-support/read-back.js';
import type { ReleaseImage } from '../types.js';

const SALT = 'a test salt of sixteen bytes or more';

/** What the rating / pairwise columns must hold, computed here independently of DuckDB. */
function expectedAggregates(fixture: Fixture, published: Set<string>) {
  const ratings = new Map<string, number[]>();
  for (const r of fixture.ratings) {
    if (!published.has(r.imageId) || r.kind !== 'aesthetic') continue;
    ratings.set(r.imageId, [...(ratings.get(r.imageId) ?? []), r.score]);
  }
  const pairwise = new Map<string, { wins: number; losses: number; ties: number }>();
  const bump = (id: string, k: 'wins' | 'losses' | 'ties') => {
    const v = pairwise.get(id) ?? { wins: 0, losses: 0, ties: 0 };
    v[k]++;
    pairwise.set(id, v);
  };
  for (const p of fixture.preferences) {
    if (!published.has(p.imageA) || !published.has(p.imageB)) continue;
    if (p.choice === 'tie') {
      bump(p.imageA, 'ties');
      bump(p.imageB, 'ties');
    } else {
      bump(p.imageA, p.choice === 'a' ? 'wins' : 'losses');
      bump(p.imageB, p.choice === 'b' ? 'wins' : 'losses');
    }
  }
  return { ratings, pairwise };
}

function expectedRow(
  image: ReleaseImage,
  index: number,
  fixture: Fixture,
  pseudo: Pseudonymizer,
  agg: ReturnType<typeof expectedAggregates>,
) {
  const scores = agg.ratings.get(image.id) ?? [];
  const mean = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
  const std =
    scores.length > 1
      ? Math.sqrt(scores.reduce((a, b) => a + (b - mean!) ** 2, 0) / (scores.length - 1))
      : null;
  const pw = agg.pairwise.get(image.id) ?? { wins: 0, losses: 0, ties: 0 };
  const shard = Math.floor(index / 10);
  return {
    id: image.id,
    sha256: image.sha256,
    shard,
    key: String(shard * 10 + (index % 10)).padStart(6, '0'),
    prompt: image.prompt,
    negative_prompt: image.negativePrompt,
    model: image.model,
    sampler: image.sampler,
    steps: image.steps,
    guidance_scale: image.guidanceScale,
    seed: BigInt(image.seed),
    width: image.width,
    height: image.height,
    created_day: new Date(Math.floor(image.createdAt / 86_400_000) * 86_400_000),
    creator: pseudo.pseudonym('user', image.creatorId),
    worker: image.workerId === null ? null : pseudo.pseudonym('worker', image.workerId),
    rating_mean: mean,
    rating_count: scores.length,
    rating_std: std,
    pairwise_wins: pw.wins,
    pairwise_losses: pw.losses,
    pairwise_ties: pw.ties,
    aesthetic_score: image.aestheticScore === null ? null : Math.fround(image.aestheticScore),
    punsafe: image.punsafe === null || image.punsafe === undefined ? null : Math.fround(image.punsafe),
    flags: { ...image.flags },
    has_embedding: fixture.embeddings.has(image.id),
  };
}

function assertRowsClose(actual: Record<string, unknown>, expected: Record<string, unknown>, label: string) {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `${label}: columns`);
  for (const [k, v] of Object.entries(expected)) {
    const a = actual[k];
    if (typeof v === 'number' && typeof a === 'number' && !Number.isInteger(v)) {
      assert.ok(Math.abs(a - v) <= 1e-12 * Math.max(1, Math.abs(v)), `${label}.${k}: ${a} ≠ ${v}`);
    } else {
      assert.deepEqual(a, v, `${label}.${k}`);
    }
  }
}

test('a release read back with DuckDB, tar-stream and the npy reader matches its inputs field by field', async (t) => {
  const out = await tempDir(t);
  // Images 7, 13 and 20 are "excluded by the caller": their ratings and pairs name them but must vanish.
  const excluded = new Set([7, 13, 20]);
  const fixture = makeFixture({ count: 25, keep: (i) => !excluded.has(i) });
  const progress: string[] = [];
  const result = await writeRelease(
    fixtureOptions(fixture, out, {
      aggregateRatingKind: 'aesthetic',
      exclusions: [
        { reason: 'taken_down', count: 3, description: 'Removed after a valid take-down request.' },
      ],
      onProgress: (p) => progress.push(p.phase),
    }),
  );
  const folder = join(out, 'r1');
  assert.equal(result.path, folder);
  const pseudo = new Pseudonymizer(SALT);
  const published = new Set(fixture.images.map((i) => i.id));
  const agg = expectedAggregates(fixture, published);

  // metadata.parquet: typed columns in the documented order, one row per image in id order.
  const schema = await parquetSchema(join(folder, 'metadata.parquet'));
  assert.deepEqual(
    schema,
    METADATA_COLUMNS.map((c) => [c.name, c.type]),
  );
  const rows = await readParquet(join(folder, 'metadata.parquet'));
  assert.equal(rows.length, 22);
  fixture.images.forEach((image, i) =>
    assertRowsClose(rows[i]!, expectedRow(image, i, fixture, pseudo, agg), image.id),
  );
  // Some rows really exercise the aggregates (the fixture is not all zeros).
  assert.ok(rows.some((r) => (r.rating_count as number) >= 2 && r.rating_std !== null));
  assert.ok(
    rows.some((r) => (r.pairwise_wins as number) > 0) && rows.some((r) => (r.pairwise_ties as number) > 0),
  );

  // Shards: 10 samples each, members sorted, reproducible headers, content = the row, the PNG, the prompt.
  const shardFiles = (await readdir(join(folder, 'shards'))).sort();
  assert.deepEqual(shardFiles, ['00000.tar', '00001.tar', '00002.tar']);
  const members = (await Promise.all(shardFiles.map((f) => readTar(join(folder, 'shards', f))))).flat();
  assert.equal(members.length, 22 * 3);
  for (const [i, image] of fixture.images.entries()) {
    const key = rows[i]!.key as string;
    const [json, png, txt] = members.slice(i * 3, i * 3 + 3);
    assert.deepEqual(
      [json!.header.name, png!.header.name, txt!.header.name],
      [`${key}.json`, `${key}.png`, `${key}.txt`],
    );
    for (const m of [json!, png!, txt!]) {
      assert.equal(m.header.mtime?.getTime(), Date.UTC(2026, 1, 2, 3, 4, 5));
      assert.deepEqual(
        [m.header.uid, m.header.gid, m.header.mode, m.header.uname, m.header.gname, m.header.type],
        [0, 0, 0o644, '', '', 'file'],
      );
    }
    assert.deepEqual(png!.data, fixture.blobs.get(image.sha256));
    assert.equal(txt!.data.toString('utf8'), image.prompt);
    const sample = JSON.parse(json!.data.toString('utf8')) as Record<string, unknown>;
    const row = rows[i]!;
    assert.deepEqual(Object.keys(sample), Object.keys(row));
    assert.equal(sample.id, image.id);
    assert.equal(sample.prompt, image.prompt);
    assert.equal(sample.created_day, (row.created_day as Date).toISOString().slice(0, 10));
    assert.equal(sample.seed, image.seed);
    assert.deepEqual(sample.flags, row.flags);
    assert.deepEqual(sample.flags, image.flags);
    assert.equal(sample.rating_count, row.rating_count);
    assert.equal(sample.creator, row.creator);
  }

  // Embeddings: float16 [22, 8], row i = metadata row i, zero where missing.
  const npy = await NpyReader.open(join(folder, 'img_emb', 'img_emb_0000.npy'), { dim: EMBEDDING_DIM });
  assert.equal(npy.header.dtype, '<f2');
  assert.equal(npy.rows, 22);
  const embeddings = await npy.readRows(0, 22);
  for (const [i, image] of fixture.images.entries()) {
    const want = fixture.embeddings.get(image.id);
    for (let k = 0; k < EMBEDDING_DIM; k++) {
      const expected = want ? float16ToFloat32(float32ToFloat16(want[k]!)) : 0;
      assert.equal(embeddings[i * EMBEDDING_DIM + k], expected, `${image.id}[${k}]`);
    }
  }
  await npy.close();

  // The LAION-compatible view lines up with the embeddings.
  assert.deepEqual(
    await parquetSchema(join(folder, 'metadata', 'metadata_0000.parquet')),
    LAION_COLUMNS.map((c) => [c.name, c.type]),
  );
  const laion = await readParquet(join(folder, 'metadata', 'metadata_0000.parquet'));
  assert.deepEqual(
    laion.map((r) => [r.id, r.TEXT, r.WIDTH, r.AESTHETIC_SCORE]),
    rows.map((r) => [r.id, r.prompt, r.width, r.aesthetic_score]),
  );

  // Ratings and preferences: only rows whose images are all published, pseudonymous raters.
  assert.deepEqual(
    await parquetSchema(join(folder, 'ratings.parquet')),
    RATING_COLUMNS.map((c) => [c.name, c.type]),
  );
  const ratings = await readParquet(join(folder, 'ratings.parquet'));
  const wantRatings = fixture.ratings
    .filter((r) => published.has(r.imageId))
    .map((r) => ({
      rater: pseudo.pseudonym('user', r.raterId),
      image_id: r.imageId,
      score: r.score,
      kind: r.kind,
    }))
    .sort(
      (a, b) =>
        (a.image_id + a.rater + a.kind).localeCompare(b.image_id + b.rater + b.kind) || a.score - b.score,
    );
  assert.deepEqual(ratings, wantRatings);
  assert.ok(fixture.ratings.length > ratings.length, 'the fixture names excluded images');
  assert.deepEqual(
    await parquetSchema(join(folder, 'preferences.parquet')),
    PREFERENCE_COLUMNS.map((c) => [c.name, c.type]),
  );
  const prefs = await readParquet(join(folder, 'preferences.parquet'));
  const wantPrefs = fixture.preferences
    .filter((p) => published.has(p.imageA) && published.has(p.imageB))
    .map((p) => ({
      image_a: p.imageA,
      image_b: p.imageB,
      prompt: p.prompt,
      choice: p.choice,
      label_a: p.choice === 'a' ? 1 : p.choice === 'b' ? 0 : 0.5,
      label_b: p.choice === 'b' ? 1 : p.choice === 'a' ? 0 : 0.5,
      rater: pseudo.pseudonym('user', p.raterId),
    }));
  assert.deepEqual(prefs, wantPrefs);

  // changes.parquet of a first release: every image added.
  assert.deepEqual(
    await parquetSchema(join(folder, 'changes.parquet')),
    CHANGE_COLUMNS.map((c) => [c.name, c.type]),
  );
  assert.deepEqual(
    await readParquet(join(folder, 'changes.parquet')),
    fixture.images.map((i) => ({ id: i.id, change: 'added' })),
  );

  // Manifest: every file but itself, with its true size and hash; the counts.
  const manifestText = await readFile(join(folder, 'manifest.json'), 'utf8');
  assert.equal(result.manifestSha256, sha256(manifestText));
  const manifest = JSON.parse(manifestText) as typeof result.manifest;
  const onDisk = (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(folder.length + 1))
    .filter((p) => p !== 'manifest.json')
    .sort();
  assert.deepEqual(
    manifest.files.map((f) => f.path),
    onDisk,
  );
  for (const f of manifest.files) {
    const bytes = await readFile(join(folder, f.path));
    assert.equal(f.bytes, (await stat(join(folder, f.path))).size, f.path);
    assert.equal(f.sha256, sha256(bytes), f.path);
  }
  assert.deepEqual(manifest.counts, {
    images: 22,
    shards: 3,
    embeddings: fixture.embeddings.size,
    ratings: ratings.length,
    preferences: prefs.length,
    added: 22,
    removed: 0,
    ratings_left_out: fixture.ratings.length - ratings.length,
    preferences_left_out: fixture.preferences.length - prefs.length,
  });
  assert.equal(manifest.name, 'r1');
  assert.equal(manifest.previous, null);
  assert.equal(manifest.license, 'CC0-1.0');
  assert.deepEqual(manifest.exclusions, [{ reason: 'taken_down', count: 3 }]);

  // The card documents every column and the exclusions.
  const card = await readFile(join(folder, 'README.md'), 'utf8');
  for (const c of [...METADATA_COLUMNS, ...RATING_COLUMNS, ...PREFERENCE_COLUMNS, ...CHANGE_COLUMNS]) {
    assert.ok(card.includes(`| \`${c.name}\` | ${c.type}`), `card documents ${c.name}`);
  }
  assert.match(card, /\| `taken_down` \| 3 \| Removed after a valid take-down request\. \|/);
  assert.match(card, /License: \*\*CC0-1\.0\*\*/);
  assert.match(card, /\| images \| 22 \|/);

  // Nothing but the release: no scratch files, no partial folder.
  assert.deepEqual((await readdir(out)).sort(), ['r1']);
  assert.deepEqual(
    progress.filter((p, i) => p !== progress[i - 1]),
    ['images', 'tables', 'shards', 'manifest'],
  );
});

test('no raw account id, email or excluded image id appears anywhere in a release', async (t) => {
  const out = await tempDir(t);
  const fixture = makeFixture({ count: 30, keep: (i) => i !== 11 && i !== 12 });
  await writeRelease(fixtureOptions(fixture, out));
  const folder = join(out, 'r1');
  const files = (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const needles = [...fixture.secrets, 'example.org', 'img000011', 'img000012'];
  assert.ok(files.length >= 10);
  for (const e of files) {
    // Parquet pages are compressed: read tables through DuckDB; everything else byte for byte.
    const path = join(e.parentPath, e.name);
    const text = path.endsWith('.parquet')
      ? JSON.stringify(await readParquet(path), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
      : (await readFile(path)).toString('latin1');
    for (const needle of needles) assert.ok(!text.includes(needle), `${e.name} contains ${needle}`);
  }
});

test('aggregates are merged into the right rows across many DuckDB chunks', async (t) => {
  const out = await tempDir(t);
  // ~4,500 rated images and ~6,000 compared ones: the sorted aggregates arrive in several chunks, and
  // every fifth image is left out (so its aggregates must be skipped by the merge).
  const fixture = makeFixture({ count: 6000, keep: (i) => i % 5 !== 3 });
  await writeRelease(
    fixtureOptions(fixture, out, {
      aggregateRatingKind: 'aesthetic',
      readEmbedding: async () => null,
      shardSize: 1000,
    }),
  );
  const published = new Set(fixture.images.map((i) => i.id));
  const agg = expectedAggregates(fixture, published);
  const rows = await queryParquet(
    `SELECT id, rating_count, rating_mean, pairwise_wins, pairwise_losses, pairwise_ties FROM read_parquet('${join(out, 'r1', 'metadata.parquet')}')`,
  );
  assert.equal(rows.length, fixture.images.length);
  let rated = 0;
  for (const r of rows) {
    const scores = agg.ratings.get(r.id as string) ?? [];
    const pw = agg.pairwise.get(r.id as string) ?? { wins: 0, losses: 0, ties: 0 };
    if (scores.length) rated++;
    assert.equal(r.rating_count, scores.length, `${r.id} rating_count`);
    if (scores.length)
      assert.ok(
        Math.abs((r.rating_mean as number) - scores.reduce((a, b) => a + b, 0) / scores.length) < 1e-12,
      );
    assert.deepEqual(
      [r.pairwise_wins, r.pairwise_losses, r.pairwise_ties],
      [pw.wins, pw.losses, pw.ties],
      `${r.id}`,
    );
  }
  assert.ok(rated > 2048 * 1.5, `${rated} rated images span several chunks`);
});
