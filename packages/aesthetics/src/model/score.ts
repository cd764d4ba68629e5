// Scoring. With no non-linearity anywhere, the network in eval mode (dropout off) is one affine map:
// score(x) = W5·W4·W3·W2·W1·x̂ + c. Collapsing the five layers into one D-vector at load time turns
// ~0.9 M multiply-adds per embedding into D (768), which is what makes scoring a LAION-scale dataset
// cheap; scoreEmbeddingsLayered keeps the literal layer-by-layer pass as the reference it is tested against.

import { AestheticsError } from '../errors.js';
import type { AestheticModel } from './mlp.js';

/** The eval-mode network as one affine map over the L2-normalised embedding. */
export interface CollapsedModel {
  dim: number;
  /** Effective weight vector (float64: the product is formed in double precision). */
  weight: Float64Array;
  bias: number;
}

/** Like torch.nn.functional.normalize: divide by max(‖x‖, ε) so a zero vector scores as the bias. */
const NORM_EPSILON = 1e-12;

const collapsedCache = new WeakMap<AestheticModel, CollapsedModel>();

/** Multiplies the layers out (last to first), in float64. Cached per model object. */
export function collapseModel(model: AestheticModel): CollapsedModel {
  const cached = collapsedCache.get(model);
  if (cached) return cached;
  const layers = model.layers;
  // Row vector v (1 × outputs of layer k) times W_k (outputs × inputs) gives the next v; the bias picks
  // up v · b_k at each step.
  let v = Float64Array.of(1);
  let bias = 0;
  for (let k = layers.length - 1; k >= 0; k--) {
    const layer = layers[k]!;
    for (let o = 0; o < layer.outputs; o++) bias += v[o]! * layer.bias[o]!;
    const next = new Float64Array(layer.inputs);
    for (let o = 0; o < layer.outputs; o++) {
      const scale = v[o]!;
      const row = o * layer.inputs;
      for (let i = 0; i < layer.inputs; i++) next[i] = next[i]! + scale * layer.weight[row + i]!;
    }
    v = next;
  }
  const collapsed = { dim: layers[0]!.inputs, weight: v, bias };
  collapsedCache.set(model, collapsed);
  return collapsed;
}

function rowCount(rows: Float32Array, dim: number): number {
  if (rows.length % dim !== 0) {
    throw new AestheticsError(
      'invalid_argument',
      `${rows.length} values are not a whole number of ${dim}-d rows`,
    );
  }
  return rows.length / dim;
}

/**
 * Aesthetic score of each embedding (rows × dim, row-major). Inputs are L2-normalised first, as LAION's
 * inference code does, so raw CLIP outputs and float16-rounded stored embeddings score alike.
 */
export function scoreEmbeddings(
  model: AestheticModel | CollapsedModel,
  rows: Float32Array,
  out?: Float32Array,
): Float32Array {
  const { dim, weight, bias } = 'layers' in model ? collapseModel(model) : model;
  const n = rowCount(rows, dim);
  const scores = out ? out.subarray(0, n) : new Float32Array(n);
  if (scores.length !== n)
    throw new AestheticsError('invalid_argument', `output buffer holds fewer than ${n} scores`);
  for (let r = 0; r < n; r++) {
    const base = r * dim;
    // Two accumulators per quantity shorten the dependency chain; V8 keeps these in registers.
    let dot0 = 0;
    let dot1 = 0;
    let sq0 = 0;
    let sq1 = 0;
    let i = 0;
    for (; i + 1 < dim; i += 2) {
      const a = rows[base + i]!;
      const b = rows[base + i + 1]!;
      dot0 += a * weight[i]!;
      dot1 += b * weight[i + 1]!;
      sq0 += a * a;
      sq1 += b * b;
    }
    if (i < dim) {
      const a = rows[base + i]!;
      dot0 += a * weight[i]!;
      sq0 += a * a;
    }
    scores[r] = (dot0 + dot1) / Math.max(Math.sqrt(sq0 + sq1), NORM_EPSILON) + bias;
  }
  return scores;
}

/** The literal layer-by-layer eval-mode forward pass (float32 activations), kept as the reference. */
export function scoreEmbeddingsLayered(model: AestheticModel, rows: Float32Array): Float32Array {
  const dim = model.layers[0]!.inputs;
  const n = rowCount(rows, dim);
  const scores = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let x: Float32Array = rows.slice(r * dim, (r + 1) * dim);
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += x[i]! * x[i]!;
    const scale = 1 / Math.max(Math.sqrt(norm), NORM_EPSILON);
    for (let i = 0; i < dim; i++) x[i] = x[i]! * scale;
    for (const layer of model.layers) {
      const y = new Float32Array(layer.outputs);
      for (let o = 0; o < layer.outputs; o++) {
        let sum = layer.bias[o]!;
        const row = o * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) sum += layer.weight[row + i]! * x[i]!;
        y[o] = sum;
      }
      x = y;
    }
    scores[r] = x[0]!;
  }
  return scores;
}
