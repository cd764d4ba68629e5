// Training the predictor on (embedding, mean rating) rows, as LAION trained theirs: MSE loss, Adam
// (lr 1e-3), minibatches of 256, dropout as published; plus what LAION did by hand: a held-out
// validation split, early stopping on validation MSE, and the best epoch's weights kept.
//
// Backpropagation is written out by hand rather than left to tf.grad: the network is five matrix
// products, so the gradients are five transposed products, and writing them lets us transpose
// explicitly. tfjs-wasm's matMul with transposeA/transposeB is ~10-40× slower than transpose+matMul,
// and autograd uses exactly those flags.

import { setImmediate } from 'node:timers/promises';
import type * as Tf from '@tensorflow/tfjs-core';
import { AestheticsError, throwIfAborted } from '../errors.js';
import { createModel, DROPOUT, type AestheticModel, type TrainingStats } from '../model/mlp.js';
import { Rng } from '../model/rng.js';
import { scoreEmbeddings } from '../model/score.js';
import { loadTf } from './backend.js';
import { meanSquaredError, pearson, spearman } from './metrics.js';

export interface TrainOptions {
  /** rows × dim embedding values, row-major (normalised on the fly; raw CLIP outputs are fine). */
  embeddings: Float32Array;
  /** Mean rating per row (LAION: 1–10). */
  ratings: Float32Array;
  dim?: number;
  seed?: number;
  /** Upper bound on epochs; early stopping usually ends sooner. Default 50. */
  maxEpochs?: number;
  /** Stop after this many epochs without a better validation MSE. Default 5. */
  patience?: number;
  batchSize?: number;
  learningRate?: number;
  /** Share of rows held out for validation (chosen at random from the seed). Default 0.1. */
  validationFraction?: number;
  embeddingModel?: string;
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
}

export type TrainProgress =
  | { phase: 'batch'; epoch: number; maxEpochs: number; samplesDone: number; trainRows: number }
  | {
      phase: 'epoch';
      epoch: number;
      maxEpochs: number;
      trainLoss: number;
      validationMse: number;
      validationSpearman: number;
      samplesPerSecond: number;
      /** Whether this epoch is the best so far (its weights are the ones kept). */
      improved: boolean;
    };

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validationMse: number;
  validationSpearman: number;
  samplesPerSecond: number;
}

export interface TrainResult {
  model: AestheticModel;
  stats: TrainingStats;
  history: EpochRecord[];
}

const LAYER_KEYS = ['W1', 'W2', 'W3', 'W4', 'W5'] as const;

let runCounter = 0;

export async function trainFromRatings(options: TrainOptions): Promise<TrainResult> {
  const dim = options.dim ?? 768;
  const seed = options.seed ?? 0;
  const maxEpochs = options.maxEpochs ?? 50;
  const patience = options.patience ?? 5;
  const batchSize = options.batchSize ?? 256;
  const learningRate = options.learningRate ?? 1e-3;
  const validationFraction = options.validationFraction ?? 0.1;
  const { embeddings, ratings, signal } = options;

  const rows = ratings.length;
  if (embeddings.length !== rows * dim) {
    throw new AestheticsError(
      'row_count_mismatch',
      `${embeddings.length / dim} embedding rows of dim ${dim} but ${rows} ratings`,
    );
  }
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new AestheticsError('invalid_argument', 'validationFraction must be between 0 and 1 (exclusive)');
  }
  if (!(batchSize >= 1 && maxEpochs >= 1 && patience >= 1 && learningRate > 0)) {
    throw new AestheticsError(
      'invalid_argument',
      'batchSize, maxEpochs and patience must be ≥ 1, learningRate > 0',
    );
  }
  const validationRows = Math.max(1, Math.round(rows * validationFraction));
  const trainRows = rows - validationRows;
  if (trainRows < 1)
    throw new AestheticsError('invalid_argument', `${rows} rows are too few to train and validate`);
  const badRating = ratings.findIndex((r) => !Number.isFinite(r));
  if (badRating >= 0)
    throw new AestheticsError('invalid_argument', `rating of row ${badRating} is not a number`);

  // Split and shuffle order come from one seeded generator; the split is fixed for the whole run.
  const rng = new Rng(seed);
  const order = new Uint32Array(rows).map((_, i) => i);
  rng.shuffle(order);
  const trainIndex = order.slice(0, trainRows);
  const validationIndex = order.slice(trainRows);
  const validationEmbeddings = new Float32Array(validationRows * dim);
  const validationRatings = new Float32Array(validationRows);
  validationIndex.forEach((row, i) => {
    validationEmbeddings.set(embeddings.subarray(row * dim, (row + 1) * dim), i * dim);
    validationRatings[i] = ratings[row]!;
  });
  let meanRating = 0;
  for (const row of trainIndex) meanRating += ratings[row]!;
  meanRating /= trainRows;

  const initial = createModel({ dim, seed, embeddingModel: options.embeddingModel });
  // Start the output bias at the mean rating: without it Adam spends thousands of steps walking the
  // bias from ~0 to ~5 before the weights learn anything about aesthetics.
  initial.layers[4]!.bias[0] = meanRating;

  const tf = await loadTf();
  const run = `aesthetics${++runCounter}`;
  const weights = initial.layers.map((layer, k) =>
    tf.variable(
      tf.tensor2d(transpose(layer.weight, layer.outputs, layer.inputs), [layer.inputs, layer.outputs]),
      true,
      `${run}.${LAYER_KEYS[k]}`,
    ),
  );
  const biases = initial.layers.map((layer, k) =>
    tf.variable(tf.tensor1d(layer.bias), true, `${run}.b${k + 1}`),
  );
  // PyTorch's Adam defaults (tfjs defaults epsilon to 1e-7).
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);

  const snapshot = (): AestheticModel => {
    const model = createModel({ dim, seed, embeddingModel: options.embeddingModel });
    model.layers.forEach((layer, k) => {
      layer.weight = transpose(weights[k]!.dataSync() as Float32Array, layer.inputs, layer.outputs);
      layer.bias = Float32Array.from(biases[k]!.dataSync() as Float32Array);
    });
    return model;
  };

  const xBuffer = new Float32Array(batchSize * dim);
  const yBuffer = new Float32Array(batchSize);
  const masks = initial.layers.slice(0, 3).map((layer) => new Float32Array(batchSize * layer.outputs));
  const history: EpochRecord[] = [];
  let best:
    { model: AestheticModel; epoch: number; mse: number; spearman: number; pearson: number } | undefined;
  let lastLoss = NaN;
  let epochsRun = 0;

  try {
    for (let epoch = 1; epoch <= maxEpochs; epoch++) {
      const started = performance.now();
      rng.shuffle(trainIndex);
      let lossSum = 0;
      for (let start = 0; start < trainRows; start += batchSize) {
        throwIfAborted(signal);
        const b = Math.min(batchSize, trainRows - start);
        gatherBatch(embeddings, ratings, trainIndex.subarray(start, start + b), dim, xBuffer, yBuffer);
        masks.forEach((mask, k) => fillDropoutMask(rng, mask, b * initial.layers[k]!.outputs, DROPOUT[k]!));
        const loss = trainStep(tf, { weights, biases, optimizer }, xBuffer, yBuffer, masks, b, dim);
        lossSum += loss * b;
        options.onProgress?.({ phase: 'batch', epoch, maxEpochs, samplesDone: start + b, trainRows });
        // Yield to the event loop so signals, timers and progress rendering keep running.
        await setImmediate();
      }
      const seconds = (performance.now() - started) / 1000;
      lastLoss = lossSum / trainRows;
      epochsRun = epoch;

      const model = snapshot();
      const predicted = scoreEmbeddings(model, validationEmbeddings);
      const mse = meanSquaredError(predicted, validationRatings);
      const rho = spearman(predicted, validationRatings);
      const improved = best === undefined || mse < best.mse;
      if (improved) {
        best = { model, epoch, mse, spearman: rho, pearson: pearson(predicted, validationRatings) };
      }
      const record = {
        epoch,
        trainLoss: lastLoss,
        validationMse: mse,
        validationSpearman: rho,
        samplesPerSecond: trainRows / seconds,
      };
      history.push(record);
      options.onProgress?.({ phase: 'epoch', maxEpochs, improved, ...record });
      if (!Number.isFinite(lastLoss))
        throw new AestheticsError(
          'invalid_argument',
          'training diverged (loss is not finite); lower the learning rate',
        );
      if (epoch - best!.epoch >= patience) break;
    }
  } finally {
    for (const v of [...weights, ...biases]) v.dispose();
    optimizer.dispose();
  }

  const chosen = best!;
  const stats: TrainingStats = {
    trainRows,
    validationRows,
    epochs: epochsRun,
    bestEpoch: chosen.epoch,
    validationMse: chosen.mse,
    validationSpearman: chosen.spearman,
    validationPearson: chosen.pearson,
    trainLoss: lastLoss,
    samplesPerSecond: history.reduce((s, h) => s + h.samplesPerSecond, 0) / history.length,
    seed,
    learningRate,
    batchSize,
  };
  chosen.model.metadata.training = stats;
  return { model: chosen.model, stats, history };
}

interface Parameters {
  weights: Tf.Variable[];
  biases: Tf.Variable[];
  optimizer: Tf.Optimizer;
}

/** One Adam step on one minibatch; returns the batch's mean squared error. */
function trainStep(
  tf: typeof Tf,
  { weights, biases, optimizer }: Parameters,
  xBuffer: Float32Array,
  yBuffer: Float32Array,
  masks: Float32Array[],
  b: number,
  dim: number,
): number {
  const [W1, W2, W3, W4, W5] = weights as [Tf.Variable, Tf.Variable, Tf.Variable, Tf.Variable, Tf.Variable];
  const [b1, b2, b3, b4, b5] = biases as [Tf.Variable, Tf.Variable, Tf.Variable, Tf.Variable, Tf.Variable];
  const loss = tf.tidy(() => {
    const x = tf.tensor2d(xBuffer.subarray(0, b * dim), [b, dim]);
    const target = tf.tensor2d(yBuffer.subarray(0, b), [b, 1]);
    const [m1, m2, m3] = masks.map((mask, k) => {
      const width = weights[k]!.shape[1]!;
      return tf.tensor2d(mask.subarray(0, b * width), [b, width]);
    }) as [Tf.Tensor2D, Tf.Tensor2D, Tf.Tensor2D];

    // Forward: Linear → Dropout → Linear → Dropout → Linear → Dropout → Linear → Linear.
    const d1 = tf.mul(tf.add(tf.matMul(x, W1), b1), m1);
    const d2 = tf.mul(tf.add(tf.matMul(d1, W2), b2), m2);
    const d3 = tf.mul(tf.add(tf.matMul(d2, W3), b3), m3);
    const h4 = tf.add(tf.matMul(d3, W4), b4);
    const y = tf.add(tf.matMul(h4, W5), b5);
    const error = tf.sub(y, target);

    // Backward. g is d(loss)/d(layer output); dropout multiplies it by the same mask as the forward pass.
    const t = (m: Tf.Tensor): Tf.Tensor2D => tf.transpose(m as Tf.Tensor2D);
    let g: Tf.Tensor2D = tf.mul(error, 2 / b);
    const grads: Record<string, Tf.Tensor> = {};
    const layer = (W: Tf.Variable, bias: Tf.Variable, input: Tf.Tensor): void => {
      grads[W.name] = tf.matMul(t(input), g);
      grads[bias.name] = tf.sum(g, 0);
    };
    layer(W5, b5, h4);
    g = tf.matMul(g, t(W5));
    layer(W4, b4, d3);
    g = tf.mul(tf.matMul(g, t(W4)), m3);
    layer(W3, b3, d2);
    g = tf.mul(tf.matMul(g, t(W3)), m2);
    layer(W2, b2, d1);
    g = tf.mul(tf.matMul(g, t(W2)), m1);
    layer(W1, b1, x);
    optimizer.applyGradients(grads);
    return tf.mean(tf.square(error));
  });
  const value = (loss.dataSync() as Float32Array)[0]!;
  loss.dispose();
  return value;
}

/** Copies the batch's rows, L2-normalised, and their ratings into the reusable buffers. */
function gatherBatch(
  embeddings: Float32Array,
  ratings: Float32Array,
  indices: Uint32Array,
  dim: number,
  x: Float32Array,
  y: Float32Array,
): void {
  indices.forEach((row, i) => {
    const source = embeddings.subarray(row * dim, (row + 1) * dim);
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += source[j]! * source[j]!;
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    const offset = i * dim;
    for (let j = 0; j < dim; j++) x[offset + j] = source[j]! * scale;
    y[i] = ratings[row]!;
  });
}

/** Inverted dropout, as PyTorch does: zero with probability p, scale survivors by 1/(1-p). */
function fillDropoutMask(rng: Rng, mask: Float32Array, count: number, p: number): void {
  const keep = 1 / (1 - p);
  for (let i = 0; i < count; i++) mask[i] = rng.next() < p ? 0 : keep;
}

/** Transposes a rows × cols row-major matrix. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}
