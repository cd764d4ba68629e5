/**
 * The four graphs of a tiny random-weight Stable Diffusion model. Each has the input/output names, ranks, dtypes
 * and dynamic dimensions of the Optimum ONNX export, and just enough computation that every input matters:
 * the UNet output depends on the latent, the timestep and the text embedding, so guidance, schedules and seeds
 * all change the image.
 */
import type { SeededRandom } from '../random.js';
import { GraphBuilder } from './graph-builder.js';
import type { Precision } from './graph-builder.js';

export const TINY_SEQUENCE_LENGTH = 77;

export function gaussian(rng: SeededRandom, count: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  rng.fill(out);
  for (let i = 0; i < count; i++) out[i] = out[i]! * scale;
  return out;
}

/** The input_ids input, embedded: token embedding + position embedding [B, 77, D]. */
export function tokenEmbeddings(
  g: GraphBuilder,
  rng: SeededRandom,
  vocabSize: number,
  hidden: number,
): string {
  const ids = g.input('input_ids', 'int32', ['batch_size', 'sequence_length']);
  const tokens = g.weight('token_embedding', [vocabSize, hidden], gaussian(rng, vocabSize * hidden, 1));
  const positions = g.weight(
    'position_embedding',
    [TINY_SEQUENCE_LENGTH, hidden],
    gaussian(rng, TINY_SEQUENCE_LENGTH * hidden, 0.1),
  );
  return g.node('Add', [g.node('Gather', [tokens, ids], { axis: 0 }), positions]);
}

/** input_ids int32 [B, 77] → last_hidden_state [B, 77, D], pooler_output [B, D]. */
export function textEncoderGraph(rng: SeededRandom, precision: Precision, vocabSize: number, hidden: number) {
  const g = new GraphBuilder('text_encoder', precision);
  const hiddenStates = g.node('Tanh', [tokenEmbeddings(g, rng, vocabSize, hidden)]);
  g.output('last_hidden_state', hiddenStates, ['batch_size', 'sequence_length', hidden]);
  g.output('pooler_output', g.node('ReduceMean', [hiddenStates], { axes: [1], keepdims: 0 }), [
    'batch_size',
    hidden,
  ]);
  return g.build();
}

/** An extra float UNet input [B, dim] (LCM's timestep_cond, SDXL's text_embeds and time_ids), projected in. */
export interface UnetCondition {
  name: string;
  dim: number;
  /** Standard deviation of its projection weights: small for inputs with large values (time_ids). */
  scale: number;
}

/**
 * sample [B,4,h,w], timestep [steps] (int64 or float), encoder_hidden_states [B,77,D] → out_sample [B,4,h,w]:
 * Conv3x3 → + sin(timestep embedding) + projected mean of the text embedding (+ each extra condition projected)
 * → Tanh → Conv3x3.
 */
export function unetGraph(
  rng: SeededRandom,
  precision: Precision,
  hidden: number,
  timestepType: 'int64' | 'float',
  externalData: boolean,
  conditions: readonly UnetCondition[] = [],
) {
  const width = 8;
  const g = new GraphBuilder('unet', precision, externalData ? { location: 'model.onnx_data' } : undefined);
  const sample = g.input('sample', 'float', ['batch_size', 4, 'height', 'width']);
  const timestep = g.input('timestep', timestepType, ['steps']);
  const context = g.input('encoder_hidden_states', 'float', ['batch_size', 'sequence_length', hidden]);
  const conv1 = g.node(
    'Conv',
    [sample, g.weight('conv_in.weight', [width, 4, 3, 3], gaussian(rng, width * 36, 0.3))],
    {
      pads: [1, 1, 1, 1],
    },
  );
  const t = timestepType === 'int64' ? g.node('Cast', [timestep], { to: 1 }) : timestep;
  const frequencies = Float32Array.from({ length: width }, (_, i) => (i + 1) / 1000);
  const angles = g.node('Mul', [
    g.node('Unsqueeze', [t, g.int64('unsqueeze_axes', [1])]),
    g.weight('time_frequencies', [1, width], frequencies),
  ]);
  const perChannel = g.int64('per_channel_shape', [-1, width, 1, 1]);
  const timeEmbedding = g.node('Reshape', [g.node('Sin', [angles]), perChannel]);
  const pooled = g.node('ReduceMean', [context], { axes: [1], keepdims: 0 });
  const textEmbedding = g.node('Reshape', [
    g.node('MatMul', [
      pooled,
      g.weight('text_projection', [hidden, width], gaussian(rng, hidden * width, 0.5)),
    ]),
    perChannel,
  ]);
  let sum = g.node('Add', [g.node('Add', [conv1, timeEmbedding]), textEmbedding]);
  for (const condition of conditions) {
    const value = g.input(condition.name, 'float', ['batch_size', condition.dim]);
    const weights = gaussian(rng, condition.dim * width, condition.scale);
    const projection = g.weight(`${condition.name}_projection`, [condition.dim, width], weights);
    sum = g.node('Add', [sum, g.node('Reshape', [g.node('MatMul', [value, projection]), perChannel])]);
  }
  const mixed = g.node('Tanh', [sum]);
  const out = g.node(
    'Conv',
    [
      mixed,
      g.weight('conv_out.weight', [4, width, 3, 3], gaussian(rng, 4 * width * 9, 0.1)),
      g.weight('conv_out.bias', [4], gaussian(rng, 4, 0.01)),
    ],
    { pads: [1, 1, 1, 1] },
  );
  g.output('out_sample', out, ['batch_size', 4, 'height', 'width']);
  return g.build();
}

/** latent_sample [B,4,h,w] → sample [B,3,8h,8w]: Conv1x1 → Tanh → nearest Resize ×8. */
export function vaeDecoderGraph(rng: SeededRandom, precision: Precision) {
  const g = new GraphBuilder('vae_decoder', precision);
  const latent = g.input('latent_sample', 'float', ['batch_size', 4, 'latent_height', 'latent_width']);
  // Latents arrive divided by 0.18215, so weights are scaled down to keep Tanh out of saturation.
  const rgb = g.node('Tanh', [
    g.node('Conv', [
      latent,
      g.weight('conv.weight', [3, 4, 1, 1], gaussian(rng, 12, 0.1)),
      g.weight('conv.bias', [3], gaussian(rng, 3, 0.1)),
    ]),
  ]);
  const scales = g.floatConstant('resize_scales', [1, 1, 8, 8]);
  const image = g.node('Resize', [rgb, '', scales], { mode: 'nearest' });
  g.output('sample', image, ['batch_size', 3, 'height', 'width']);
  return g.build();
}

/** sample [B,3,H,W] → latent_sample [B,4,H/8,W/8]: 8×8 average pool → Conv1x1. */
export function vaeEncoderGraph(rng: SeededRandom, precision: Precision) {
  const g = new GraphBuilder('vae_encoder', precision);
  const image = g.input('sample', 'float', ['batch_size', 3, 'height', 'width']);
  const pooled = g.node('AveragePool', [image], { kernel_shape: [8, 8], strides: [8, 8] });
  const latent = g.node('Conv', [
    pooled,
    g.weight('conv.weight', [4, 3, 1, 1], gaussian(rng, 12, 1)),
    g.weight('conv.bias', [4], gaussian(rng, 4, 0.1)),
  ]);
  g.output('latent_sample', latent, ['batch_size', 4, 'latent_height', 'latent_width']);
  return g.build();
}

/**
 * pixel_values [B,3,224,224] → image_embeds [B,D], like Optimum's CLIPVisionModelWithProjection export:
 * 32×32 average pool → flatten (3·7·7 = 147) → Linear(147, D). Every pixel region and channel moves the
 * embedding, so different images embed differently.
 */
export function imageEncoderGraph(rng: SeededRandom, precision: Precision, dim: number) {
  const g = new GraphBuilder('image_encoder', precision);
  const pixels = g.input('pixel_values', 'float', ['batch_size', 3, 224, 224]);
  const pooled = g.node('AveragePool', [pixels], { kernel_shape: [32, 32], strides: [32, 32] });
  const flat = g.node('Flatten', [pooled], { axis: 1 });
  const features = 3 * 7 * 7;
  const embeds = g.node('Add', [
    g.node('MatMul', [
      flat,
      g.weight('visual_projection', [features, dim], gaussian(rng, features * dim, 0.3)),
    ]),
    g.weight('visual_projection.bias', [dim], gaussian(rng, dim, 0.1)),
  ]);
  g.output('image_embeds', embeds, ['batch_size', dim]);
  return g.build();
}
