// `dreamfold aesthetics …` as a real process on real files: train on synthetic ratings whose true score
// is known, score, filter a LAION-format dataset, export to ONNX, and one-line errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readNpy, spearman, writeNpy } from '@dreamfold/aesthetics';
import { syntheticRatings, writeLaionDataset, writeRatingsParquet } from '@dreamfold/aesthetics/testing';
import { tempDir } from '@dreamfold/server/testing';
import { runCli } from '../test-support/cli-process.js';

const DIM = 32;

test('train → score → filter → export-onnx through the CLI', async () => {
  const dir = tempDir();
  const set = syntheticRatings(800, DIM, 7);
  await writeNpy(join(dir, 'emb.npy'), set.embeddings, { dim: DIM, dtype: '<f2' });
  await writeRatingsParquet(join(dir, 'ratings.parquet'), set.ratings);
  const model = join(dir, 'model.safetensors');

  const trained = runCli(
    [
      'aesthetics',
      'train',
      '--embeddings',
      join(dir, 'emb.npy'),
      '--ratings',
      join(dir, 'ratings.parquet'),
    ].concat(['--out', model, '--dim', String(DIM), '--max-epochs', '40', '--seed', '3']),
    {},
  );
  assert.equal((await trained.exited).code, 0, trained.output());
  assert.match(trained.output(), /Trained on 720 rows \(80 held out\).*Spearman 0\.\d+/);
  assert.ok(existsSync(model));

  const scores = join(dir, 'scores.npy');
  const scored = runCli(
    ['aesthetics', 'score', '--model', model, '--embeddings', join(dir, 'emb.npy'), '--out', scores],
    {},
  );
  assert.equal((await scored.exited).code, 0, scored.output());
  assert.match(scored.output(), /Scored 800 embeddings/);
  const read = await readNpy(scores, { dim: 1 });
  assert.equal(read.rows, 800);
  assert.ok(spearman(read.data, set.truth) > 0.9, 'the scores follow the known true score');

  const laion = join(dir, 'laion');
  await writeLaionDataset(laion, [60, 40], DIM, 11);
  const filtered = runCli(
    ['aesthetics', 'filter', '--model', model, '--input', laion, '--out', join(dir, 'subsets')].concat([
      '--threshold',
      '5',
      '--threshold',
      '6',
    ]),
    {},
  );
  assert.equal((await filtered.exited).code, 0, filtered.output());
  assert.match(
    filtered.output(),
    /Scored 100 rows in 2 file pairs\. Subsets: aesthetics_5plus \d+ rows, aesthetics_6plus \d+ rows\./,
  );
  assert.ok(existsSync(join(dir, 'subsets', 'aesthetics_6plus', 'metadata_0001.parquet')));
  const again = runCli(
    ['aesthetics', 'filter', '--model', model, '--input', laion, '--out', join(dir, 'subsets')].concat([
      '--threshold',
      '5',
      '--threshold',
      '6',
    ]),
    {},
  );
  assert.equal((await again.exited).code, 0, again.output());
  assert.match(again.output(), /\(2 already done, resumed\)/);
  const otherThresholds = runCli(
    ['aesthetics', 'filter', '--model', model, '--input', laion, '--out', join(dir, 'subsets')],
    {},
  );
  assert.equal((await otherThresholds.exited).code, 1);
  assert.match(otherThresholds.output(), /another model or other thresholds/);

  const onnx = join(dir, 'model.onnx');
  const exported = runCli(['aesthetics', 'export-onnx', '--model', model, '--out', onnx], {});
  assert.equal((await exported.exited).code, 0, exported.output());
  assert.ok(existsSync(onnx));
});

test('malformed inputs get one line naming the file, exit 1, no stack trace', async () => {
  const dir = tempDir();
  const truncated = join(dir, 'truncated.npy');
  await writeNpy(truncated, new Float32Array(10 * DIM), { dim: DIM, dtype: '<f4' });
  const { truncate } = await import('node:fs/promises');
  await truncate(truncated, 200);
  await writeFile(join(dir, 'model.safetensors'), 'not a model');
  const runs = [
    runCli(
      [
        'aesthetics',
        'score',
        '--model',
        join(dir, 'model.safetensors'),
        '--embeddings',
        truncated,
        '--out',
        join(dir, 'o.npy'),
      ],
      {},
    ),
    runCli(
      [
        'aesthetics',
        'train',
        '--embeddings',
        truncated,
        '--ratings',
        join(dir, 'missing.parquet'),
        '--out',
        join(dir, 'm'),
      ],
      {},
    ),
    runCli(['aesthetics', 'filter', '--model', 'm', '--input', dir, '--out', dir, '--threshold', 'high'], {}),
  ];
  const [score, train, filter] = await Promise.all(runs.map((r) => r.exited));
  assert.equal(score?.code, 1);
  assert.match(runs[0]!.output(), /^dreamfold: .*model\.safetensors/m);
  assert.equal(train?.code, 1);
  assert.match(runs[1]!.output(), /^dreamfold: .*(truncated\.npy|missing\.parquet)/m);
  assert.equal(filter?.code, 1);
  assert.match(runs[2]!.output(), /--threshold must be a number/);
  for (const r of runs) assert.doesNotMatch(r.output(), /\n\s+at /);
});
