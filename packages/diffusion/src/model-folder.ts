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
} as const;

export interface ModelFolderInfo {
  root: string;
  /** The folder's name: how jobs and PNG metadata refer to the model. */
  modelId: string;
  /** model_index.json "_class_name", e.g. StableDiffusionPipeline. */
  pipelineClass: string | undefined;
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
  if (/XL/.test(pipelineClass ?? '') || index['text_encoder_2'] !== undefined) {
    throw new DiffusionError(
      'model_unsupported',
      `${root} is an SDXL model (${pipelineClass ?? 'text_encoder_2'}); only SD 1.x and 2.x are supported yet`,
      { file: 'model_index.json' },
    );
  }

  const tokenizer = await ClipTokenizer.fromFolder(root);
  files.push(
    'tokenizer/merges.txt',
    'tokenizer/special_tokens_map.json',
    'tokenizer/tokenizer_config.json',
    'tokenizer/vocab.json',
  );
  const scheduler = parseSchedulerConfig(await readModelJson(root, 'scheduler/scheduler_config.json'));
  files.push('scheduler/scheduler_config.json');

  for (const file of [GRAPH_FILES.textEncoder, GRAPH_FILES.unet, GRAPH_FILES.vaeDecoder]) {
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
    info: {
      root,
      modelId: basename(root),
      pipelineClass,
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
