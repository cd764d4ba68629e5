/**
 * The Hugging Face Optimum ONNX export layout of a Stable Diffusion model, checked without loading any weights:
 * what `dreamfold worker doctor` reports, and the first thing loadPipeline does.
 *
 *   model_index.json
 *   tokenizer/{vocab.json, merges.txt, special_tokens_map.json, tokenizer_config.json}
 *   text_encoder/model.onnx
 *   unet/model.onnx (+ model.onnx_data)
 *   vae_decoder/model.onnx (+ config.json with scaling_factor)
 *   vae_encoder/model.onnx            optional: img2img
 *   scheduler/scheduler_config.json
 *   SDXL also: tokenizer_2/, text_encoder_2/model.onnx
 */
import { open, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DiffusionError } from './errors.js';
import { fileExists, optionalNumber, optionalString, readModelJson } from './model-files.js';
import { parseSchedulerConfig } from './schedulers/config.js';
import type { SchedulerConfig } from './schedulers/config.js';
import { ClipTokenizer } from './tokenizer/clip-tokenizer.js';

/** SD 1.x/2.x latent scale when the VAE config does not state one. */
export const DEFAULT_SCALING_FACTOR = 0.18215;

export const GRAPH_FILES = {
  textEncoder: 'text_encoder/model.onnx',
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  vaeEncoder: 'vae_encoder/model.onnx',
  /** SDXL: the second (OpenCLIP bigG) text encoder, with tokenizer_2/. */
  textEncoder2: 'text_encoder_2/model.onnx',
} as const;

/** A model_index.json component entry: ["library", "ClassName"]; [null, null] means absent. */
function isComponent(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && value[1] !== null;
}

export interface ModelFolderInfo {
  root: string;
  /** The folder's name: how jobs and PNG metadata refer to the model. */
  modelId: string;
  /** model_index.json "_class_name", e.g. StableDiffusionPipeline. */
  pipelineClass: string | undefined;
  /** sdxl: two text encoders (text_encoder/, text_encoder_2/ + tokenizer_2/), pooled embeddings and time ids. */
  architecture: 'sd' | 'sdxl';
  /** SDXL: an empty negative prompt gives zero embeddings (model_index.json force_zeros_for_empty_prompt). */
  forceZerosForEmptyPrompt: boolean;
  scheduler: SchedulerConfig;
  scalingFactor: number;
  /** Whether vae_encoder/model.onnx exists (img2img possible). */
  img2img: boolean;
  /** Whether unet/model.onnx_data exists (weights in an external data file). */
  unetExternalData: boolean;
  /** Folder-relative files that were checked and found, sorted. */
  files: string[];
  tokenizer: { maxLength: number; padId: number; bosId: number; eosId: number };
}

export interface ModelFolder {
  info: ModelFolderInfo;
  tokenizer: ClipTokenizer;
  /** SDXL's tokenizer_2/ (pads with "!" in the published models). */
  tokenizer2: ClipTokenizer | undefined;
}

/** Validates the folder; throws a DiffusionError naming the first missing or malformed file. */
export async function inspectModelFolder(dir: string): Promise<ModelFolderInfo> {
  return (await readModelFolder(dir)).info;
}

export async function readModelFolder(dir: string): Promise<ModelFolder> {
  const root = resolve(dir);
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) {
    throw new DiffusionError(
      'model_folder_missing',
      `model folder ${root} does not exist or is not a directory`,
    );
  }
  const files: string[] = [];
  const index = await readModelJson(root, 'model_index.json');
  files.push('model_index.json');
  const pipelineClass = optionalString(index, '_class_name', 'model_index.json');
  const sdxl = /XL/.test(pipelineClass ?? '') || isComponent(index['text_encoder_2']);
  if (sdxl && !isComponent(index['text_encoder'])) {
    throw new DiffusionError(
      'model_unsupported',
      `${root} is an SDXL refiner (no text_encoder); only SDXL base-style models are supported`,
      { file: 'model_index.json' },
    );
  }

  const tokenizer = await ClipTokenizer.fromFolder(root);
  const tokenizerFiles = (dir: string) =>
    ['merges.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json'].map(
      (f) => `${dir}/${f}`,
    );
  files.push(...tokenizerFiles('tokenizer'));
  const tokenizer2 = sdxl ? await ClipTokenizer.fromFolder(root, 'tokenizer_2') : undefined;
  if (sdxl) files.push(...tokenizerFiles('tokenizer_2'));
  const scheduler = parseSchedulerConfig(await readModelJson(root, 'scheduler/scheduler_config.json'));
  files.push('scheduler/scheduler_config.json');

  const graphs: string[] = [GRAPH_FILES.textEncoder, GRAPH_FILES.unet, GRAPH_FILES.vaeDecoder];
  if (sdxl) graphs.push(GRAPH_FILES.textEncoder2);
  for (const file of graphs) {
    await checkOnnxFile(root, file);
    files.push(file);
  }
  const img2img = await fileExists(join(root, GRAPH_FILES.vaeEncoder));
  if (img2img) {
    await checkOnnxFile(root, GRAPH_FILES.vaeEncoder);
    files.push(GRAPH_FILES.vaeEncoder);
  }
  const unetExternalData = await fileExists(join(root, 'unet/model.onnx_data'));
  if (unetExternalData) files.push('unet/model.onnx_data');

  let scalingFactor = DEFAULT_SCALING_FACTOR;
  if (await fileExists(join(root, 'vae_decoder/config.json'))) {
    const vaeConfig = await readModelJson(root, 'vae_decoder/config.json');
    scalingFactor = optionalNumber(vaeConfig, 'scaling_factor', 'vae_decoder/config.json') ?? scalingFactor;
    files.push('vae_decoder/config.json');
  }

  return {
    tokenizer,
    tokenizer2,
    info: {
      root,
      modelId: basename(root),
      pipelineClass,
      architecture: sdxl ? 'sdxl' : 'sd',
      // diffusers' SDXL default: an empty negative prompt means zero embeddings, not encoded "".
      forceZerosForEmptyPrompt: sdxl && index['force_zeros_for_empty_prompt'] !== false,
      scheduler,
      scalingFactor,
      img2img,
      unetExternalData,
      files: files.sort(),
      tokenizer: {
        maxLength: tokenizer.maxLength,
        padId: tokenizer.padId,
        bosId: tokenizer.bosId,
        eosId: tokenizer.eosId,
      },
    },
  };
}

/**
 * A cheap sanity check that does not read weights: the file is non-empty and starts like a serialised ONNX
 * ModelProto (field 1, ir_version, as a varint: byte 0x08). ONNX Runtime does the full check at load time.
 */
async function checkOnnxFile(root: string, file: string): Promise<void> {
  const path = join(root, file);
  if (!(await fileExists(path))) {
    throw new DiffusionError('model_file_missing', `${file} is missing from the model folder ${root}`, {
      file,
    });
  }
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    if (bytesRead < 2 || head[0] !== 0x08) {
      throw new DiffusionError(
        'model_file_malformed',
        `${file} is not an ONNX model (empty or wrong header)`,
        {
          file,
        },
      );
    }
  } finally {
    await handle.close();
  }
}
