/**
 * The SDXL variant of the tiny model (createTinyModel's `sdxl` option): Optimum's StableDiffusionXLPipeline
 * layout, with text encoders exported with their hidden states (text_encoder/: last_hidden_state,
 * pooler_output, hidden_states.0…2; text_encoder_2/: text_embeds, last_hidden_state, hidden_states.0…2),
 * tokenizer_2/ padding with "!", and a UNet taking encoder_hidden_states of both widths concatenated plus
 * text_embeds and time_ids. Its weights come from their own random stream.
 */
import { SeededRandom } from '../random.js';
import { GraphBuilder } from './graph-builder.js';
import type { Precision } from './graph-builder.js';
import { gaussian, tokenEmbeddings, unetGraph } from './graphs.js';
import { tinyTokenizerFiles, tinyVocabSize } from './tokenizer-files.js';

/** Widths of the tiny SDXL: text_encoder (768 in SDXL), text_encoder_2 (1280) and its projection (1280). */
export const TINY_SDXL = { hidden1: 32, hidden2: 48, projection: 40, layers: 2, scalingFactor: 0.13025 };

export interface TinySdxlOptions {
  precision: Precision;
  timestepType: 'int64' | 'float';
  unetExternalData: boolean;
  /** Add LCM's timestep_cond [B, dim] to the UNet. */
  lcmDim: number | undefined;
  weightSeed: number;
}

/** Overwrites the SD-specific files of `files` with their SDXL counterparts and adds the second encoder. */
export function addTinySdxl(files: Map<string, string | Uint8Array>, o: TinySdxlOptions): void {
  const rng = new SeededRandom(o.weightSeed, 2);
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const { hidden1, hidden2, projection, scalingFactor } = TINY_SDXL;
  files.set(
    'model_index.json',
    json({
      _class_name: 'StableDiffusionXLPipeline',
      _diffusers_version: '0.30.0',
      force_zeros_for_empty_prompt: true,
      scheduler: ['diffusers', 'EulerDiscreteScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
    }),
  );
  for (const [name, content] of Object.entries(tinyTokenizerFiles('sd2')))
    files.set(`tokenizer_2/${name}`, content);
  files.set('text_encoder/config.json', json({ architectures: ['CLIPTextModel'], hidden_size: hidden1 }));
  files.set('text_encoder/model.onnx', encoderGraph(rng, o.precision, hidden1, undefined));
  files.set(
    'text_encoder_2/config.json',
    json({
      architectures: ['CLIPTextModelWithProjection'],
      hidden_size: hidden2,
      projection_dim: projection,
    }),
  );
  files.set('text_encoder_2/model.onnx', encoderGraph(rng, o.precision, hidden2, projection));

  const conditions = [
    { name: 'text_embeds', dim: projection, scale: 0.5 },
    // time_ids are pixel sizes (hundreds): small weights keep Tanh out of saturation.
    { name: 'time_ids', dim: 6, scale: 0.002 },
    ...(o.lcmDim ? [{ name: 'timestep_cond', dim: o.lcmDim, scale: 0.5 }] : []),
  ];
  const unet = unetGraph(rng, o.precision, hidden1 + hidden2, o.timestepType, o.unetExternalData, conditions);
  files.set(
    'unet/config.json',
    json({
      _class_name: 'UNet2DConditionModel',
      addition_embed_type: 'text_time',
      cross_attention_dim: hidden1 + hidden2,
      projection_class_embeddings_input_dim: projection + 6 * 256,
      ...(o.lcmDim ? { time_cond_proj_dim: o.lcmDim } : {}),
    }),
  );
  files.set('unet/model.onnx', unet.model);
  if (unet.externalData) files.set('unet/model.onnx_data', unet.externalData);
  for (const part of ['vae_decoder', 'vae_encoder']) {
    if (!files.has(`${part}/config.json`)) continue;
    files.set(
      `${part}/config.json`,
      json({ _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: scalingFactor }),
    );
  }
}

/**
 * input_ids [B, 77] → hidden_states.0 (embeddings), hidden_states.i+1 = tanh(hidden_states.i · W_i), the last
 * also as last_hidden_state; text_encoder/ adds pooler_output, text_encoder_2/ text_embeds (pooled · P).
 */
function encoderGraph(
  rng: SeededRandom,
  precision: Precision,
  hidden: number,
  projection: number | undefined,
) {
  const g = new GraphBuilder(projection ? 'text_encoder_2' : 'text_encoder', precision);
  const states = [tokenEmbeddings(g, rng, tinyVocabSize(), hidden)];
  for (let i = 0; i < TINY_SDXL.layers; i++) {
    const w = g.weight(
      `layer_${i}.weight`,
      [hidden, hidden],
      gaussian(rng, hidden * hidden, 1 / Math.sqrt(hidden)),
    );
    states.push(g.node('Tanh', [g.node('MatMul', [states[i]!, w])]));
  }
  const last = states.at(-1)!;
  const pooled = g.node('ReduceMean', [last], { axes: [1], keepdims: 0 });
  const sequenceShape = ['batch_size', 'sequence_length', hidden];
  if (projection) {
    const p = g.weight('text_projection', [hidden, projection], gaussian(rng, hidden * projection, 0.5));
    g.output('text_embeds', g.node('MatMul', [pooled, p]), ['batch_size', projection]);
    g.output('last_hidden_state', last, sequenceShape);
  } else {
    g.output('last_hidden_state', last, sequenceShape);
    g.output('pooler_output', pooled, ['batch_size', hidden]);
  }
  states.forEach((state, i) => g.output(`hidden_states.${i}`, state, sequenceShape));
  return g.build().model;
}
