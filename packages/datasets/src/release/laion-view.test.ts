// The LAION-compatible view makes a release a "parquet_npy" folder: @dreamfold/aesthetics' filter (and
// so `dreamfold aesthetics filter`) runs on a release unchanged.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createModel, filterLaionDataset, readNpy, scoreEmbeddings } from '@dreamfold/aesthetics';
import { writeRelease } from './release.js';
import { EMBEDDING_DIM, fixtureOptions, makeFixture, tempDir } from '../test-support/fixtures.js';
import { readParquet } from '../test-support/read-back.js';

test('the aesthetics filter reads a release as a LAION parquet_npy dataset', async (t) => {
  const out = await tempDir(t);
  const fixture = makeFixture({ count: 30 });
  const release = await writeRelease(fixtureOptions(fixture, out));
  const model = createModel({ seed: 3, dim: EMBEDDING_DIM });
  const embeddings = (
    await readNpy(join(release.path, 'img_emb', 'img_emb_0000.npy'), { dim: EMBEDDING_DIM })
  ).data;
  const scores = scoreEmbeddings(model, embeddings);
  const sorted = [...scores].sort((a, b) => a - b);
  const threshold = sorted[15]!;
  const result = await filterLaionDataset({
    input: release.path,
    output: join(out, 'subsets'),
    model,
    thresholds: [threshold],
  });
  assert.equal(result.rows, 30);
  const kept = await readParquet(join(result.subsets[0]!.path, 'metadata_0000.parquet'));
  const want = fixture.images.filter((_, i) => scores[i]! >= threshold).map((im) => im.id);
  assert.deepEqual(
    kept.map((r) => r.id),
    want,
  );
  assert.ok(want.length >= 15 && want.length < 30);
});
