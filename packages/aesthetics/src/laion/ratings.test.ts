import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  AestheticsError,
  loadModel,
  readNpy,
  readRatedEmbeddings,
  saveModel,
  trainFromRatings,
  writeNpy,
} from '../index.js';
import { syntheticRatings } from '../test-support/synthetic.js';
import { writeRatingsParquet as writeRatings } from '../test-support/laion.js';
import { tempDir } from '../test-support/tmp.js';

test('reads an npy + parquet ratings pair row by row and trains a model file from it', async (t) => {
  const dir = await tempDir(t);
  const dim = 32;
  const set = syntheticRatings(120, dim, 4);
  const embeddingsPath = join(dir, 'emb.npy');
  const ratingsPath = join(dir, 'ratings.parquet');
  await writeNpy(embeddingsPath, set.embeddings, { dim, dtype: '<f2' });
  const ratings: Array<number | null> = [...set.ratings];
  ratings[7] = null; // an image nobody rated yet
  await writeRatings(ratingsPath, ratings);

  const read = await readRatedEmbeddings({ embeddings: embeddingsPath, ratings: ratingsPath, dim });
  assert.equal(read.rows, 119);
  assert.equal(read.skippedRows, 1);
  const stored = (await readNpy(embeddingsPath, { dim })).data;
  // Row 8 of the files is row 7 of the result: pairing survives the skipped row.
  assert.deepEqual(read.embeddings.subarray(7 * dim, 8 * dim), stored.subarray(8 * dim, 9 * dim));
  assert.equal(read.ratings[7], set.ratings[8]);
  assert.equal(read.ratings[0], set.ratings[0]);

  const { model } = await trainFromRatings({ ...read, maxEpochs: 1 });
  const modelPath = join(dir, 'model.safetensors');
  await saveModel(model, modelPath);
  assert.equal((await loadModel(modelPath)).metadata.training?.trainRows, 107);
});

test('ratings pairs with different row counts or no rating column are refused, naming the file', async (t) => {
  const dir = await tempDir(t);
  const embeddingsPath = join(dir, 'emb.npy');
  const ratingsPath = join(dir, 'ratings.parquet');
  await writeNpy(embeddingsPath, syntheticRatings(10, 8, 1).embeddings, { dim: 8 });
  await writeRatings(ratingsPath, [1, 2, 3]);
  await assert.rejects(
    readRatedEmbeddings({ embeddings: embeddingsPath, ratings: ratingsPath, dim: 8 }),
    (e: unknown) =>
      e instanceof AestheticsError &&
      e.code === 'row_count_mismatch' &&
      e.file === ratingsPath &&
      e.message.includes(embeddingsPath),
  );
  await writeRatings(
    ratingsPath,
    Array.from({ length: 10 }, () => 5),
  );
  await assert.rejects(
    readRatedEmbeddings({ embeddings: embeddingsPath, ratings: ratingsPath, dim: 8, column: 'score' }),
    (e: unknown) => e instanceof AestheticsError && e.code === 'missing_column' && e.file === ratingsPath,
  );
});
