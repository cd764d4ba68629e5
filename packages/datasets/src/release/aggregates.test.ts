// Rating aggregates computed from the sorted scores: right for images whose ratings span several DuckDB
// chunks, and bit for bit the same whatever the order the ratings come in and however many threads
// DuckDB has.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeRelease } from './release.js';
import { fixtureOptions, imageId, makeFixture, tempDir } from '../test-support/fixtures.js';
import { readParquet } from '../test-support/read-back.js';
import type { ReleaseRating } from '../types.js';

test('rating mean and deviation are exact across chunks and the same for any rating order or thread count', async (t) => {
  const out = await tempDir(t);
  const fixture = makeFixture({ count: 12 });
  // Image 4 gets 5,000 ratings (more than two DuckDB chunks), image 7 one, image 9 none; scores with
  // long binary expansions, so a sum in another order would change the last bits.
  const ratings: ReleaseRating[] = [];
  for (let k = 0; k < 5000; k++) {
    ratings.push({
      imageId: imageId(4),
      raterId: `rater-${k}`,
      score: 1 + ((k * 7919) % 1000) / 101.3,
      kind: 'aesthetic',
    });
  }
  ratings.push({ imageId: imageId(7), raterId: 'rater-x', score: 3.3, kind: 'aesthetic' });
  // Another kind and an unpublished image: neither counts.
  ratings.push({ imageId: imageId(4), raterId: 'rater-y', score: 100, kind: 'quality' });
  ratings.push({ imageId: 'img999999', raterId: 'rater-z', score: 5, kind: 'aesthetic' });
  const shuffled = ratings.map((r, i) => ({ r, k: (i * 2654435761) % 4294967296 }));
  shuffled.sort((a, b) => a.k - b.k);
  const run = (name: string, rows: ReleaseRating[], threads: number) =>
    writeRelease(
      fixtureOptions(fixture, out, {
        name,
        ratings: rows,
        aggregateRatingKind: 'aesthetic',
        duckdbThreads: threads,
      }),
    );
  await run('a', ratings, 1);
  await run(
    'b',
    shuffled.map((s) => s.r),
    3,
  );

  const rows = await readParquet(join(out, 'a', 'metadata.parquet'));
  const byId = new Map(rows.map((r) => [r.id as string, r]));
  const scores = ratings
    .filter((r) => r.imageId === imageId(4) && r.kind === 'aesthetic')
    .map((r) => r.score);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / (scores.length - 1));
  const four = byId.get(imageId(4))!;
  assert.equal(four.rating_count, 5000);
  assert.ok(Math.abs((four.rating_mean as number) - mean) < 1e-12, `${four.rating_mean as number} ≠ ${mean}`);
  assert.ok(Math.abs((four.rating_std as number) - std) < 1e-9, `${four.rating_std as number} ≠ ${std}`);
  assert.deepEqual(
    [byId.get(imageId(7))!.rating_mean, byId.get(imageId(7))!.rating_count, byId.get(imageId(7))!.rating_std],
    [3.3, 1, null],
  );
  assert.deepEqual(
    [byId.get(imageId(9))!.rating_mean, byId.get(imageId(9))!.rating_count, byId.get(imageId(9))!.rating_std],
    [null, 0, null],
  );
  // Pairwise counts still come through beside the scores.
  assert.ok(rows.some((r) => (r.pairwise_wins as number) > 0));

  for (const file of ['metadata.parquet', 'ratings.parquet', 'preferences.parquet', 'changes.parquet']) {
    const [a, b] = await Promise.all([readFile(join(out, 'a', file)), readFile(join(out, 'b', file))]);
    assert.ok(a.equals(b), `${file} differs with the ratings shuffled and 3 threads`);
  }
});
