import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AestheticsError,
  scoreEmbeddings,
  scoreEmbeddingsLayered,
  spearman,
  trainFromRatings,
  type TrainProgress,
} from '../index.js';
import { syntheticRatings } from '../test-support/synthetic.js';
import { randomValues } from '../test-support/tmp.js';

test('training recovers a known linear score (Spearman > 0.9 on held-out rows)', async () => {
  const dim = 768;
  const train = syntheticRatings(2000, dim, 1);
  const heldOut = syntheticRatings(500, dim, 99);
  const events: TrainProgress[] = [];
  const { model, stats, history } = await trainFromRatings({
    embeddings: train.embeddings,
    ratings: train.ratings,
    dim,
    seed: 3,
    maxEpochs: 6,
    onProgress: (p) => events.push(p),
  });
  const predicted = scoreEmbeddings(model, heldOut.embeddings);
  const rho = spearman(predicted, heldOut.truth);
  assert.ok(rho > 0.9, `held-out Spearman ${rho}`);
  assert.ok(stats.validationSpearman > 0.9, `validation Spearman ${stats.validationSpearman}`);
  assert.ok(stats.validationMse < 0.5, `validation MSE ${stats.validationMse}`);
  assert.equal(stats.trainRows + stats.validationRows, 2000);
  assert.equal(stats.validationRows, 200);
  assert.equal(history.length, stats.epochs);
  assert.equal(model.metadata.training, stats);
  // The kept weights are the best epoch's, and its recorded validation MSE is the minimum.
  assert.equal(stats.validationMse, Math.min(...history.map((h) => h.validationMse)));
  assert.equal(events.filter((e) => e.phase === 'epoch').length, stats.epochs);
  assert.ok(events.some((e) => e.phase === 'batch' && e.samplesDone === stats.trainRows));
  // Trained weights still score identically through the layered pass.
  const sample = heldOut.embeddings.subarray(0, 20 * dim);
  scoreEmbeddingsLayered(model, sample).forEach((s, i) =>
    assert.ok(Math.abs(s - scoreEmbeddings(model, sample)[i]!) < 1e-4),
  );
});

test('training is reproducible from its seed', async () => {
  const set = syntheticRatings(300, 32, 5);
  const run = () =>
    trainFromRatings({ embeddings: set.embeddings, ratings: set.ratings, dim: 32, seed: 9, maxEpochs: 2 });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a.model.layers, b.model.layers);
  // Everything but the measured speed is identical.
  assert.deepEqual({ ...a.stats, samplesPerSecond: 0 }, { ...b.stats, samplesPerSecond: 0 });
});

test('early stopping ends training when validation MSE stops improving', async () => {
  // Ratings unrelated to the embeddings: nothing to learn, so validation MSE cannot keep improving.
  const dim = 32;
  const embeddings = randomValues(400 * dim, 21);
  const ratings = randomValues(400, 22).map((v) => 5 + 2 * v);
  const { stats } = await trainFromRatings({
    embeddings,
    ratings,
    dim,
    maxEpochs: 40,
    patience: 2,
    learningRate: 1e-2,
  });
  assert.ok(stats.epochs < 40, `stopped after ${stats.epochs} epochs`);
  assert.equal(stats.epochs - stats.bestEpoch, 2);
});

test('training rejects mismatched inputs and honours an abort signal', async () => {
  await assert.rejects(
    trainFromRatings({ embeddings: new Float32Array(10 * 8), ratings: new Float32Array(9), dim: 8 }),
    (e: unknown) => e instanceof AestheticsError && e.code === 'row_count_mismatch',
  );
  const set = syntheticRatings(100, 8, 1);
  set.ratings[3] = NaN;
  await assert.rejects(
    trainFromRatings({ embeddings: set.embeddings, ratings: set.ratings, dim: 8 }),
    (e: unknown) =>
      e instanceof AestheticsError && e.code === 'invalid_argument' && e.message.includes('row 3'),
  );
  set.ratings[3] = 5;
  const controller = new AbortController();
  await assert.rejects(
    trainFromRatings({
      embeddings: set.embeddings,
      ratings: set.ratings,
      dim: 8,
      batchSize: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'batch' && p.samplesDone >= 30) controller.abort();
      },
    }),
    (e: unknown) => e instanceof AestheticsError && e.code === 'aborted',
  );
});
