/**
 * createTinyModel: writes a random-weight Stable Diffusion model folder in exactly the Hugging Face Optimum ONNX
 * layout, small enough that a 64×64, 4-step generation takes milliseconds on CPU. Tests and benchmarks use it in
 * place of real weights, which nothing in this project may download.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom } from '../random.js';
import type { Precision } from './graph-builder.js';
import {
  imageEncoderGraph,
  textEncoderGraph,
  unetGraph,
  vaeDecoderGraph,
  vaeEncoderGraph,
} from './graphs.js';
import { addTinySdxl } from './sdxl.js';
import { tinyTokenizerFiles, tinyVocabSize } from './tokenizer-files.js';
import type { TokenizerFlavor } from './tokenizer-files.js';

export interface TinyModelOptions {
  /** fp16 graphs: float16 weights and float inputs/outputs, as an fp16 Optimum export. Default float32. */
  precision?: Precision;
  /** dtype of the UNet's `timestep` input: int64 (Optimum SD 1.x exports) or the float type. Default int64. */
  timestepType?: 'int64' | 'float';
  /** Store the UNet's weights in unet/model.onnx_data (external data), as exports over 2 GB must. */
  unetExternalData?: boolean;
  /** Write vae_encoder/ (needed for img2img). Default true. */
  vaeEncoder?: boolean;
  /** sd1: pad with <|endoftext|>, epsilon; sd2: pad with "!" and v_prediction. Default sd1. */
  flavor?: TokenizerFlavor;
  /** Width of the text embedding (768 in SD 1.x, 1024 in 2.x). Default 32. */
  hiddenSize?: number;
  /** Seed of the random weights: the same options always write the same bytes. Default 0. */
  weightSeed?: number;
  /**
   * Write image_encoder/ (a CLIP vision tower with projection, as Optimum exports it) with embeddings of this
   * width, e.g. 768. Default: none.
   */
  imageEncoderDim?: number;
  /**
   * An LCM-distilled UNet: a `timestep_cond` input [B, 256] (the guidance-scale embedding; 256 is
   * time_cond_proj_dim of the published LCM UNets), stated in unet/config.json. Default false.
   */
  lcm?: boolean;
  /**
   * An SDXL folder (StableDiffusionXLPipeline): text_encoder_2/ and tokenizer_2/, hidden-state outputs, a UNet
   * with text_embeds and time_ids (see sdxl.ts). `hiddenSize` and `flavor` do not apply. Default false.
   */
  sdxl?: boolean;
}

/** time_cond_proj_dim of the tiny LCM UNet. */
export const TINY_LCM_COND_DIM = 256;

/** openai/clip-vit-large-patch14's preprocessor_config.json, as transformers writes it today. */
export const TINY_PREPROCESSOR_CONFIG = {
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'CLIPImageProcessor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  rescale_factor: 0.00392156862745098,
  size: { shortest_edge: 224 },
};

export interface TinyModel {
  dir: string;
  files: string[];
}

export async function createTinyModel(dir: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const precision = options.precision ?? 'float32';
  const flavor = options.flavor ?? 'sd1';
  const hidden = options.hiddenSize ?? 32;
  const rng = new SeededRandom(options.weightSeed ?? 0, 0);
  const files = new Map<string, string | Uint8Array>();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

  files.set(
    'model_index.json',
    json({
      _class_name: 'StableDiffusionPipeline',
      _diffusers_version: '0.30.0',
      feature_extractor: [null, null],
      requires_safety_checker: false,
      safety_checker: [null, null],
      scheduler: ['diffusers', 'PNDMScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
    }),
  );
  files.set(
    'scheduler/scheduler_config.json',
    json({
      _class_name: 'PNDMScheduler',
      _diffusers_version: '0.30.0',
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      clip_sample: false,
      num_train_timesteps: 1000,
      prediction_type: flavor === 'sd2' ? 'v_prediction' : 'epsilon',
      set_alpha_to_one: false,
      skip_prk_steps: true,
      steps_offset: 1,
      timestep_spacing: 'leading',
      trained_betas: null,
    }),
  );
  for (const [name, content] of Object.entries(tinyTokenizerFiles(flavor)))
    files.set(`tokenizer/${name}`, content);

  files.set('text_encoder/config.json', json({ architectures: ['CLIPTextModel'], hidden_size: hidden }));
  files.set('text_encoder/model.onnx', textEncoderGraph(rng, precision, tinyVocabSize(), hidden).model);

  const unet = unetGraph(
    rng,
    precision,
    hidden,
    options.timestepType ?? 'int64',
    options.unetExternalData ?? false,
    options.lcm ? [{ name: 'timestep_cond', dim: TINY_LCM_COND_DIM, scale: 0.5 }] : [],
  );
  files.set(
    'unet/config.json',
    json({
      _class_name: 'UNet2DConditionModel',
      cross_attention_dim: hidden,
      ...(options.lcm ? { time_cond_proj_dim: TINY_LCM_COND_DIM } : {}),
    }),
  );
  files.set('unet/model.onnx', unet.model);
  if (unet.externalData) files.set('unet/model.onnx_data', unet.externalData);

  const vaeConfig = json({ _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.18215 });
  files.set('vae_decoder/config.json', vaeConfig);
  files.set('vae_decoder/model.onnx', vaeDecoderGraph(rng, precision).model);
  if (options.vaeEncoder ?? true) {
    files.set('vae_encoder/config.json', vaeConfig);
    files.set('vae_encoder/model.onnx', vaeEncoderGraph(rng, precision).model);
  }

  if (options.imageEncoderDim !== undefined) {
    // Separate stream: adding the encoder leaves every other graph's weights as they were.
    const encoderRng = new SeededRandom(options.weightSeed ?? 0, 1);
    const dim = options.imageEncoderDim;
    files.set(
      'image_encoder/config.json',
      json({ architectures: ['CLIPVisionModelWithProjection'], image_size: 224, projection_dim: dim }),
    );
    files.set('image_encoder/preprocessor_config.json', json(TINY_PREPROCESSOR_CONFIG));
    files.set('image_encoder/model.onnx', imageEncoderGraph(encoderRng, precision, dim).model);
  }

  if (options.sdxl) {
    addTinySdxl(files, {
      precision,
      timestepType: options.timestepType ?? 'int64',
      unetExternalData: options.unetExternalData ?? false,
      lcmDim: options.lcm ? TINY_LCM_COND_DIM : undefined,
      weightSeed: options.weightSeed ?? 0,
    });
  }

  for (const [name, content] of files) {
    const path = join(dir, name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  }
  return { dir, files: [...files.keys()].sort() };
}
