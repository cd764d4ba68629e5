/**
 * loadPipeline: check the provider, read and validate the folder, open the graphs one by one (to keep the
 * loading memory peak at one graph), and derive from their metadata how each must be fed.
 */
import type * as ort from 'onnxruntime-node';
import { DiffusionError } from '../errors.js';
import { join } from 'node:path';
import { fileExists, optionalNumber, readModelJson } from '../model-files.js';
import { GRAPH_FILES, readModelFolder } from '../model-folder.js';
import type { ModelFolder, ModelFolderInfo } from '../model-folder.js';
import { fixedDim, openGraph } from '../onnx/graph.js';
import type { Graph } from '../onnx/graph.js';
import { assertProviderAvailable, executionProviders } from '../onnx/providers.js';
import type { ProviderName, ProviderOptions } from '../onnx/providers.js';
import type { FloatType, TimestepType } from '../onnx/tensors.js';
import { SAMPLER_NAMES } from '../schedulers/types.js';
import type { SamplerName } from '../schedulers/types.js';
import { openXlEncoder, XL_UNET_INPUTS } from './sdxl.js';
import type { XlEncoders } from './sdxl.js';

export type GuidanceMode = 'batched' | 'sequential';

export interface LoadPipelineOptions extends ProviderOptions {
  /**
   * batched (default): conditional and unconditional UNet passes run as one batch of 2 — fastest.
   * sequential: two batch-1 passes per step — roughly halves UNet activation memory (SD 1.5 fp16 in ~5 GB VRAM).
   * Models exported with a fixed batch of 1 always run sequentially.
   */
  guidance?: GuidanceMode;
  /** Defaults to the folder's name. */
  modelId?: string;
  /** Largest width×height a job may ask for. Default 2048×2048. */
  maxPixels?: number;
  /** Decode limit for img2img init images. Default 4096×4096. */
  maxInitImagePixels?: number;
  /** Passed to every ONNX Runtime session. */
  session?: Pick<
    ort.InferenceSession.SessionOptions,
    | 'intraOpNumThreads'
    | 'interOpNumThreads'
    | 'graphOptimizationLevel'
    | 'enableMemPattern'
    | 'enableCpuMemArena'
  >;
}

export interface PipelineInfo extends ModelFolderInfo {
  /** sdxl from the folder; otherwise a guess from the text embedding width: 768 → sd1, 1024 → sd2. */
  family: 'sd1' | 'sd2' | 'sdxl' | 'custom';
  hiddenSize: number | undefined;
  /** dtype of the UNet's float inputs: float16 for fp16 exports. */
  precision: FloatType;
  timestepType: TimestepType;
  provider: ProviderName;
  guidance: GuidanceMode;
  samplers: readonly SamplerName[];
  /** Width × height the UNet was exported for, when its sample input has fixed spatial dimensions. */
  fixedSize: { width: number; height: number } | undefined;
  /**
   * An LCM-distilled UNet's `timestep_cond` width (its config's time_cond_proj_dim): the guidance scale goes in
   * as an embedding and each step is one UNet run on the prompt alone. undefined for other UNets.
   */
  guidanceEmbeddingDim: number | undefined;
}

export interface LoadedModel {
  folder: ModelFolder;
  info: PipelineInfo;
  textEncoder: Graph;
  unet: Graph;
  vaeDecoder: Graph;
  vaeEncoder: Graph | undefined;
  /** SDXL: the second text encoder and which outputs to read. */
  xl: XlEncoders | undefined;
  /** Whether the text encoder/UNet accept batch 2 (no fixed batch-1 export). */
  batchText: boolean;
  batchUnet: boolean;
}

const FLOAT: readonly ort.Tensor.Type[] = ['float32', 'float16'];

export async function loadModel(dir: string, options: LoadPipelineOptions): Promise<LoadedModel> {
  await assertProviderAvailable(options);
  const folder = await readModelFolder(dir);
  const root = folder.info.root;
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // DirectML supports neither memory patterns nor parallel execution (ONNX Runtime's DirectML EP docs).
    ...(options.provider === 'dml' ? { enableMemPattern: false, executionMode: 'sequential' as const } : {}),
    ...options.session,
    executionProviders: executionProviders(options),
    // Warnings such as "some nodes were not assigned to the preferred provider" are normal and noisy.
    logSeverityLevel: 3,
  };
  const opened: Graph[] = [];
  const open = async (file: string, spec: Parameters<typeof openGraph>[3]) => {
    const graph = await openGraph(root, file, sessionOptions, spec);
    opened.push(graph);
    return graph;
  };
  try {
    const textEncoder = await open(GRAPH_FILES.textEncoder, {
      inputs: [{ name: 'input_ids', types: ['int32', 'int64'], rank: 2 }],
      outputs: ['last_hidden_state'],
    });
    const unet = await open(GRAPH_FILES.unet, {
      inputs: [
        { name: 'sample', types: FLOAT, rank: 4 },
        { name: 'timestep', types: ['int64', 'int32', 'float32', 'float16'], rank: [0, 1] },
        { name: 'encoder_hidden_states', types: FLOAT, rank: 3 },
        { name: 'timestep_cond', types: FLOAT, rank: 2, optional: true },
        ...XL_UNET_INPUTS.map((name) => ({ name, types: FLOAT, rank: 2, optional: true })),
      ],
      outputs: ['out_sample'],
    });
    const vaeDecoder = await open(GRAPH_FILES.vaeDecoder, {
      inputs: [{ name: 'latent_sample', types: FLOAT, rank: 4 }],
      outputs: ['sample'],
    });
    // Older Optimum exports output a sampled latent; newer ones the distribution's parameters (mean ‖ logvar).
    const vaeEncoder = folder.info.img2img
      ? await open(GRAPH_FILES.vaeEncoder, {
          inputs: [{ name: 'sample', types: FLOAT, rank: 4 }],
          outputs: ['latent_sample', 'latent_parameters'],
        })
      : undefined;

    const sdxl = folder.info.architecture === 'sdxl';
    const xl = sdxl ? await openXlEncoder(open, textEncoder) : undefined;
    const xlInputs = XL_UNET_INPUTS.filter((name) => unet.inputs.has(name));
    if (xlInputs.length !== (sdxl ? XL_UNET_INPUTS.length : 0)) {
      throw new DiffusionError(
        'model_file_malformed',
        sdxl
          ? `${GRAPH_FILES.unet} is not an SDXL UNet: it lacks the inputs ${XL_UNET_INPUTS.join(' and ')}`
          : `${GRAPH_FILES.unet} has SDXL inputs (${xlInputs.join(', ')}) but model_index.json is not an SDXL pipeline`,
        { file: GRAPH_FILES.unet },
      );
    }
    const sample = unet.inputs.get('sample')!;
    const context = unet.inputs.get('encoder_hidden_states')!;
    const textHidden = xl ? xl.width : fixedDim(textEncoder.output, 2);
    const unetHidden = fixedDim(context, 2);
    if (textHidden !== undefined && unetHidden !== undefined && textHidden !== unetHidden) {
      throw new DiffusionError(
        'model_file_malformed',
        `${GRAPH_FILES.unet}: encoder_hidden_states width ${unetHidden} does not match the text encoder's ${textHidden}`,
        { file: GRAPH_FILES.unet },
      );
    }
    const hiddenSize = unetHidden ?? textHidden;
    const batchUnet = fixedDim(sample, 0) !== 1;
    const [fixedH, fixedW] = [fixedDim(sample, 2), fixedDim(sample, 3)];
    const batchText = fixedDim(textEncoder.inputs.get('input_ids')!, 0) !== 1;
    const info: PipelineInfo = {
      ...folder.info,
      modelId: options.modelId ?? folder.info.modelId,
      family: sdxl ? 'sdxl' : hiddenSize === 768 ? 'sd1' : hiddenSize === 1024 ? 'sd2' : 'custom',
      hiddenSize,
      precision: sample.type === 'float16' ? 'float16' : 'float32',
      timestepType: unet.inputs.get('timestep')!.type as TimestepType,
      provider: options.provider ?? 'cpu',
      guidance: batchUnet ? (options.guidance ?? 'batched') : 'sequential',
      samplers: SAMPLER_NAMES,
      guidanceEmbeddingDim: unet.inputs.has('timestep_cond') ? await timestepCondDim(root, unet) : undefined,
      fixedSize: fixedH && fixedW ? { width: fixedW * 8, height: fixedH * 8 } : undefined,
    };
    return { folder, info, textEncoder, unet, vaeDecoder, vaeEncoder, xl, batchText, batchUnet };
  } catch (error) {
    await Promise.all(opened.map((graph) => graph.session.release()));
    throw error;
  }
}

/** Width of timestep_cond: fixed in the graph (Optimum exports it so), else unet/config.json time_cond_proj_dim. */
async function timestepCondDim(root: string, unet: Graph): Promise<number> {
  const fixed = fixedDim(unet.inputs.get('timestep_cond')!, 1);
  if (fixed !== undefined) return fixed;
  const file = 'unet/config.json';
  const config = (await fileExists(join(root, file))) ? await readModelJson(root, file) : {};
  const dim = optionalNumber(config, 'time_cond_proj_dim', file);
  if (dim === undefined || !Number.isInteger(dim) || dim < 2) {
    throw new DiffusionError(
      'model_file_malformed',
      `${GRAPH_FILES.unet} takes timestep_cond of unknown width: ${file} must state time_cond_proj_dim`,
      { file },
    );
  }
  return dim;
}
