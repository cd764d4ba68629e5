// The LAION "improved aesthetic predictor" network, as published
// (github.com/christophschuhmann/improved-aesthetic-predictor, class MLP):
//   Linear(D,1024) → Dropout(0.2) → Linear(1024,128) → Dropout(0.2) → Linear(128,64) → Dropout(0.1)
//   → Linear(64,16) → Linear(16,1)
// with no non-linearities. Weights are kept in PyTorch's layout ([out, in], row-major) under PyTorch's
// state-dict names (layers.0, layers.2, layers.4, layers.6, layers.7), so the published checkpoint,
// saved as safetensors, loads unchanged.

import { AestheticsError } from '../errors.js';
import { Rng } from './rng.js';

export const HIDDEN_SIZES = [1024, 128, 64, 16, 1] as const;
/** Index of each Linear inside the published nn.Sequential (Dropouts sit at 1, 3, 5). */
export const LAYER_NAMES = ['layers.0', 'layers.2', 'layers.4', 'layers.6', 'layers.7'] as const;
/** Dropout probability after each Linear (training only). */
export const DROPOUT = [0.2, 0.2, 0.1, 0, 0] as const;
export const DEFAULT_EMBEDDING_MODEL = 'openai/clip-vit-large-patch14';

export interface LinearLayer {
  inputs: number;
  outputs: number;
  /** outputs × inputs, row-major (PyTorch nn.Linear.weight). */
  weight: Float32Array;
  bias: Float32Array;
}

export interface TrainingStats {
  trainRows: number;
  validationRows: number;
  epochs: number;
  bestEpoch: number;
  validationMse: number;
  validationSpearman: number;
  validationPearson: number;
  trainLoss: number;
  samplesPerSecond: number;
  seed: number;
  learningRate: number;
  batchSize: number;
}

export interface ModelMetadata {
  /** Which CLIP image tower made the embeddings this model scores. */
  embeddingModel: string;
  dim: number;
  createdAt: string;
  training?: TrainingStats;
}

export interface AestheticModel {
  layers: LinearLayer[];
  metadata: ModelMetadata;
}

export interface CreateModelOptions {
  dim?: number;
  seed?: number;
  embeddingModel?: string;
  createdAt?: Date;
}

/** A freshly initialised network: PyTorch's nn.Linear default, U(±1/√fan_in) for weights and biases. */
export function createModel(options: CreateModelOptions = {}): AestheticModel {
  const dim = options.dim ?? 768;
  if (!Number.isInteger(dim) || dim < 1)
    throw new AestheticsError('invalid_argument', `dim ${dim} is not ≥ 1`);
  const rng = new Rng(options.seed ?? 0);
  const layers: LinearLayer[] = [];
  let inputs = dim;
  for (const outputs of HIDDEN_SIZES) {
    const bound = 1 / Math.sqrt(inputs);
    const weight = new Float32Array(outputs * inputs);
    for (let i = 0; i < weight.length; i++) weight[i] = rng.uniform(-bound, bound);
    const bias = new Float32Array(outputs);
    for (let i = 0; i < bias.length; i++) bias[i] = rng.uniform(-bound, bound);
    layers.push({ inputs, outputs, weight, bias });
    inputs = outputs;
  }
  return {
    layers,
    metadata: {
      embeddingModel: options.embeddingModel ?? DEFAULT_EMBEDDING_MODEL,
      dim,
      createdAt: (options.createdAt ?? new Date()).toISOString(),
    },
  };
}

/** Checks that the layers chain D→1024→128→64→16→1 with consistent array sizes. */
export function validateLayers(layers: readonly LinearLayer[], file?: string): number {
  if (layers.length !== HIDDEN_SIZES.length) {
    throw new AestheticsError(
      'model_format',
      `expected ${HIDDEN_SIZES.length} linear layers, got ${layers.length}`,
      file,
    );
  }
  const dim = (layers[0] as LinearLayer).inputs;
  let inputs = dim;
  layers.forEach((layer, i) => {
    const name = LAYER_NAMES[i] as string;
    if (layer.inputs !== inputs || layer.outputs !== HIDDEN_SIZES[i]) {
      throw new AestheticsError(
        'model_format',
        `${name} is ${layer.inputs}→${layer.outputs}, expected ${inputs}→${HIDDEN_SIZES[i]}`,
        file,
      );
    }
    if (layer.weight.length !== layer.inputs * layer.outputs || layer.bias.length !== layer.outputs) {
      throw new AestheticsError('model_format', `${name} arrays do not match its shape`, file);
    }
    inputs = layer.outputs;
  });
  return dim;
}
