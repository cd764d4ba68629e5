import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  createModel,
  loadModel,
  readNpy,
  scoreEmbeddings,
  scoreNpyFile,
  trainModelFile,
  writeNpy,
} from './index.js';
import { syntheticRatings } from './test-support/synthetic.js';
import { randomValues, tempDir } from './test-support/tmp.js';

test('scoreNpyFile writes one score per row, in order, as .npy or .parquet', async (t) => {
  const dir = await tempDir(t);
  const model = createModel({ seed: 4 });
  const embeddings = join(dir, 'emb.npy');
  await writeNpy(embeddings, randomValues(300 * 768, 3), { dim: 768, dtype: '<f2' });
  const expected = scoreEmbeddings(model, (await readNpy(embeddings)).data);

  const progress: number[] = [];
  const npyOut = join(dir, 'scores.npy');
  const summary = await scoreNpyFile({
    model,
    embeddings,
    out: npyOut,
    chunkRows: 128,
    onProgress: (p) => progress.push(p.rowsDone),
  });
  assert.deepEqual(progress, [128, 256, 300]);
  assert.equal(summary.rows, 300);
  const npy = await readNpy(npyOut, { dim: 1 });
  assert.deepEqual(npy.data, expected);

  const parquetOut = join(dir, 'scores.parquet');
  await scoreNpyFile({ model, embeddings, out: parquetOut });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  t.after(() => {
    connection.closeSync();
    instance.closeSync();
  });
  const read = await connection.runAndReadAll(
    `SELECT AESTHETIC_SCORE FROM read_parquet('${parquetOut}', file_row_number = true) ORDER BY file_row_number`,
  );
  assert.deepEqual(Float32Array.from(read.getColumnsJS()[0] as number[]), expected);
});

test('trainModelFile trains from an npy + parquet pair and writes a loadable model', async (t) => {
  const dir = await tempDir(t);
  const set = syntheticRatings(200, 16, 2);
  const embeddings = join(dir, 'emb.npy');
  const ratings = join(dir, 'ratings.parquet');
  await writeNpy(embeddings, set.embeddings, { dim: 16 });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const values = [...set.ratings].map((r, i) => `(${i}, ${r})`).join(', ');
  await connection.run(
    `COPY (SELECT * FROM (VALUES ${values}) t(i, mean_rating) ORDER BY i) TO '${ratings}' (FORMAT parquet)`,
  );
  connection.closeSync();
  instance.closeSync();

  const out = join(dir, 'models', 'model.safetensors');
  const result = await trainModelFile({
    embeddings,
    ratings,
    column: 'mean_rating',
    dim: 16,
    out,
    maxEpochs: 2,
    embeddingModel: 'test-clip',
  });
  const loaded = await loadModel(out);
  assert.equal(loaded.metadata.embeddingModel, 'test-clip');
  assert.equal(loaded.metadata.dim, 16);
  assert.deepEqual(loaded.metadata.training, result.stats);
  assert.deepEqual(loaded.layers, result.model.layers);
});
