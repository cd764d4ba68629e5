import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  AestheticsError,
  createModel,
  filterLaionDataset,
  readNpy,
  saveModel,
  scoreEmbeddings,
  STATE_FILE,
  type AestheticModel,
  type FilterProgress,
} from '../index.js';
import { writeLaionDataset, writeMetadataParquet } from '../test-support/laion.js';
import { tempDir } from '../test-support/tmp.js';

const DIM = 768;
const SIZES = [300, 250, 200];

function spreadModel(): AestheticModel {
  const model = createModel({ seed: 8 });
  for (const layer of model.layers) layer.weight.forEach((w, i) => (layer.weight[i] = w * 3));
  return model;
}

interface Row {
  URL: string;
  TEXT: string;
  WIDTH: number;
  HEIGHT: number;
  similarity: number;
  punsafe: number;
  pwatermark: number;
  hash: bigint;
  AESTHETIC_SCORE?: number;
}

async function readParquet(pattern: string): Promise<{ rows: Row[]; types: Record<string, string> }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const source = `read_parquet('${pattern}', filename = true, file_row_number = true)`;
    const result = await connection.runAndReadAll(
      `SELECT * EXCLUDE (filename, file_row_number) FROM ${source} ORDER BY filename, file_row_number`,
    );
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${pattern}')`);
    const types = Object.fromEntries(
      described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]),
    );
    return { rows: result.getRowObjectsJS() as unknown as Row[], types };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Scores of every row, computed independently from the stored (float16) embeddings. */
async function expectedScores(root: string, model: AestheticModel): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (const k of SIZES.keys()) {
    const { data } = await readNpy(join(root, 'img_emb', `img_emb_000${k}.npy`));
    parts.push(scoreEmbeddings(model, data));
  }
  return Float32Array.from(parts.flatMap((p) => [...p]));
}

async function checkSubsets(
  output: string,
  thresholds: number[],
  scores: Float32Array,
  original: Row[],
): Promise<void> {
  for (const threshold of thresholds) {
    const { rows, types } = await readParquet(join(output, `aesthetics_${threshold}plus`, '*.parquet'));
    const expected = original.flatMap((row, i) =>
      scores[i]! >= threshold ? [{ ...row, AESTHETIC_SCORE: scores[i]! }] : [],
    );
    assert.ok(expected.length > 0 && expected.length < original.length, 'threshold splits the data');
    assert.equal(rows.length, expected.length, `row count at ≥ ${threshold}`);
    rows.forEach((row, i) => assert.deepEqual(row, expected[i], `row ${i} of the ≥ ${threshold} subset`));
    assert.equal(types.AESTHETIC_SCORE, 'FLOAT');
    assert.equal(types.WIDTH, 'DOUBLE');
    assert.equal(types.punsafe, 'FLOAT');
    assert.equal(types.hash, 'BIGINT');
  }
}

test('filtering writes exactly the rows at or above each threshold, and resumes without duplicates', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'laion');
  const output = join(dir, 'subsets');
  await writeLaionDataset(input, SIZES, DIM, 5);
  const model = spreadModel();
  const modelPath = join(dir, 'model.safetensors');
  await saveModel(model, modelPath);
  const scores = await expectedScores(input, model);
  const sorted = [...scores].sort((a, b) => a - b);
  // Quartiles; the middle one is exactly some row's float32 score, so "≥" (not ">") is tested on a tie.
  const thresholds = [Number(sorted[187]!.toFixed(2)), sorted[375]!, Number(sorted[562]!.toFixed(2))];
  const original = (await readParquet(join(input, 'metadata', '*.parquet'))).rows;
  assert.equal(original.length, 750);

  // First run: interrupted right after the first pair is finished.
  const controller = new AbortController();
  const firstRun: FilterProgress[] = [];
  await assert.rejects(
    filterLaionDataset({
      input,
      output,
      model: modelPath,
      thresholds,
      chunkRows: 128,
      signal: controller.signal,
      onProgress: (p) => {
        firstRun.push(p);
        if (p.phase === 'pair-done') controller.abort();
      },
    }),
    (e: unknown) => e instanceof AestheticsError && e.code === 'aborted',
  );
  assert.deepEqual(
    firstRun.filter((p) => p.phase === 'scoring').map((p) => p.rowsDone),
    [128, 256, 300],
  );
  assert.equal(firstRun.at(-1)!.rowsTotal, 750);

  // A run killed mid-write would leave a temp file; it must be swept, never counted.
  await writeFile(
    join(output, `aesthetics_${thresholds[0]}plus`, 'metadata_0001.parquet.tmp-99999'),
    'partial',
  );

  const secondRun: FilterProgress[] = [];
  const result = await filterLaionDataset({
    input,
    output,
    model: modelPath,
    thresholds,
    onProgress: (p) => secondRun.push(p),
  });
  assert.deepEqual(
    secondRun.filter((p) => p.phase.startsWith('pair-')).map((p) => `${p.pairId}:${p.phase}`),
    ['0000:pair-skipped', '0001:pair-done', '0002:pair-done'],
  );
  assert.equal(result.skippedPairs, 1);
  assert.equal(result.rows, 750);
  await checkSubsets(output, thresholds, scores, original);
  assert.deepEqual(
    result.subsets.map((s) => s.rows),
    thresholds.map((th) => scores.filter((s) => s >= th).length),
  );
  await assert.rejects(
    stat(join(output, `aesthetics_${thresholds[0]}plus`, 'metadata_0001.parquet.tmp-99999')),
  );

  // A crash after a pair's files were renamed but before the state was saved: the pair is redone and
  // its files replaced, not appended to.
  const statePath = join(output, STATE_FILE);
  const state = JSON.parse(await readFile(statePath, 'utf8')) as { pairs: Record<string, unknown> };
  delete state.pairs['0002'];
  await writeFile(statePath, JSON.stringify(state));
  const thirdRun: FilterProgress[] = [];
  await filterLaionDataset({ input, output, model, thresholds, onProgress: (p) => thirdRun.push(p) });
  assert.deepEqual(
    thirdRun.filter((p) => p.phase.startsWith('pair-')).map((p) => p.phase),
    ['pair-skipped', 'pair-skipped', 'pair-done'],
  );
  await checkSubsets(output, thresholds, scores, original);

  // Other thresholds in the same folder would mix two runs: refused.
  await assert.rejects(
    filterLaionDataset({ input, output, model, thresholds: [7] }),
    (e: unknown) => e instanceof AestheticsError && e.code === 'state_mismatch' && e.file === statePath,
  );
});

test('filtering refuses unpaired files, row-count mismatches and truncated Parquet, naming the files', async (t) => {
  const dir = await tempDir(t);
  const model = createModel({ seed: 1 });

  const mismatched = join(dir, 'mismatched');
  await writeLaionDataset(mismatched, [40], DIM, 1);
  const metadata = join(mismatched, 'metadata', 'metadata_0000.parquet');
  await writeMetadataParquet(metadata, 39, 0);
  await assert.rejects(
    filterLaionDataset({ input: mismatched, output: join(dir, 'out1'), model }),
    (e: unknown) =>
      e instanceof AestheticsError &&
      e.code === 'row_count_mismatch' &&
      e.file === metadata &&
      e.message.includes('img_emb_0000.npy'),
  );

  const unpaired = join(dir, 'unpaired');
  await writeLaionDataset(unpaired, [10, 10], DIM, 2);
  const lonely = join(unpaired, 'img_emb', 'img_emb_0001.npy');
  await rm(join(unpaired, 'metadata', 'metadata_0001.parquet'));
  await assert.rejects(
    filterLaionDataset({ input: unpaired, output: join(dir, 'out2'), model }),
    (e: unknown) => e instanceof AestheticsError && e.code === 'missing_pair' && e.file === lonely,
  );

  const truncated = join(dir, 'truncated');
  await writeLaionDataset(truncated, [20], DIM, 4);
  const cut = join(truncated, 'metadata', 'metadata_0000.parquet');
  const bytes = await readFile(cut);
  await writeFile(cut, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(
    filterLaionDataset({ input: truncated, output: join(dir, 'out4'), model }),
    (e: unknown) =>
      e instanceof AestheticsError &&
      e.code === 'parquet_unreadable' &&
      e.file === cut &&
      e.message.startsWith(`${cut}: cannot read Parquet file`),
  );

  const wrongDim = join(dir, 'wrong-dim');
  await writeLaionDataset(wrongDim, [5], 512, 3);
  await assert.rejects(
    filterLaionDataset({ input: wrongDim, output: join(dir, 'out3'), model }),
    (e: unknown) =>
      e instanceof AestheticsError &&
      e.code === 'dimension_mismatch' &&
      e.file === join(wrongDim, 'img_emb', 'img_emb_0000.npy'),
  );
});
