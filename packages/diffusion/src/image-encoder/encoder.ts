/**
 * The CLIP image tower of a model folder, when it has one, as Optimum exports CLIPVisionModelWithProjection:
 *
 *   image_encoder/model.onnx                  pixel_values float [N,3,224,224] → image_embeds [N,D]
 *   image_encoder/preprocessor_config.json    CLIPImageProcessor (size, crop_size, image_mean, image_std, …)
 *   image_encoder/config.json                 optional: projection_dim when the graph's D is symbolic
 *
 * The worker embeds each image it generates and sends the L2-normalised embedding with its result.
 */
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { DiffusionError, messageOf } from '../errors.js';
import { fileExists, optionalNumber, readModelJson } from '../model-files.js';
import { fixedDim, openGraph, type Graph } from '../onnx/graph.js';
import { assertProviderAvailable, executionProviders, type ProviderOptions } from '../onnx/providers.js';
import { floatTensor, readFloat } from '../onnx/tensors.js';
import { parsePreprocessorConfig, PREPROCESSOR_FILE, type ImagePreprocessorConfig } from './config.js';
import { preprocessImage } from './preprocess.js';

export const IMAGE_ENCODER_FILE = 'image_encoder/model.onnx';
const CONFIG_FILE = 'image_encoder/config.json';

export interface ImageEncoder {
  /** Width of the embedding (768 for CLIP ViT-L/14). */
  readonly dim: number;
  readonly preprocessor: ImagePreprocessorConfig;
  /** The image's embedding, L2-normalised (as LAION ships CLIP embeddings). */
  embed(image: Uint8Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface LoadImageEncoderOptions extends ProviderOptions {
  session?: Pick<ort.InferenceSession.SessionOptions, 'intraOpNumThreads' | 'interOpNumThreads'>;
}

/** Whether the folder has an image encoder (image_encoder/model.onnx). */
export function hasImageEncoder(dir: string): Promise<boolean> {
  return fileExists(join(dir, IMAGE_ENCODER_FILE));
}

/** Opens the folder's image encoder; undefined when the folder has none. */
export async function loadImageEncoder(
  dir: string,
  options: LoadImageEncoderOptions = {},
): Promise<ImageEncoder | undefined> {
  if (!(await hasImageEncoder(dir))) return undefined;
  await assertProviderAvailable(options);
  const preprocessor = parsePreprocessorConfig(await readModelJson(dir, PREPROCESSOR_FILE));
  const graph = await openGraph(
    dir,
    IMAGE_ENCODER_FILE,
    {
      graphOptimizationLevel: 'all',
      ...options.session,
      executionProviders: executionProviders(options),
      logSeverityLevel: 3,
    },
    {
      inputs: [{ name: 'pixel_values', types: ['float32', 'float16'], rank: 4 }],
      outputs: ['image_embeds'],
    },
  );
  try {
    const dim = await embeddingDim(dir, graph);
    checkInputSize(graph, preprocessor);
    return encoder(graph, dim, preprocessor);
  } catch (error) {
    await graph.session.release();
    throw error;
  }
}

async function embeddingDim(dir: string, graph: Graph): Promise<number> {
  const fromGraph = fixedDim(graph.output, graph.output.shape.length - 1);
  if (graph.output.shape.length !== 2) {
    throw new DiffusionError(
      'model_file_malformed',
      `${IMAGE_ENCODER_FILE}: image_embeds must be [N, D] (has rank ${graph.output.shape.length})`,
      { file: IMAGE_ENCODER_FILE },
    );
  }
  if (fromGraph !== undefined) return fromGraph;
  if (await fileExists(join(dir, CONFIG_FILE))) {
    const dim = optionalNumber(await readModelJson(dir, CONFIG_FILE), 'projection_dim', CONFIG_FILE);
    if (dim !== undefined && Number.isInteger(dim) && dim > 0) return dim;
  }
  throw new DiffusionError(
    'model_file_malformed',
    `${IMAGE_ENCODER_FILE}: the width of image_embeds is not fixed and ${CONFIG_FILE} has no projection_dim`,
    { file: IMAGE_ENCODER_FILE },
  );
}

/** A graph exported for a fixed input size must get exactly the crop the preprocessor makes. */
function checkInputSize(graph: Graph, preprocessor: ImagePreprocessorConfig): void {
  const input = graph.inputs.get('pixel_values')!;
  const channels = fixedDim(input, 1);
  const height = fixedDim(input, 2);
  const width = fixedDim(input, 3);
  const crop = preprocessor.crop;
  const mismatch =
    (channels !== undefined && channels !== 3) ||
    (crop && height !== undefined && height !== crop.height) ||
    (crop && width !== undefined && width !== crop.width);
  if (mismatch) {
    throw new DiffusionError(
      'model_file_malformed',
      `${IMAGE_ENCODER_FILE}: pixel_values is [N,${input.shape.slice(1).join(',')}] but ${PREPROCESSOR_FILE} ` +
        `crops to 3×${crop?.height}×${crop?.width}`,
      { file: IMAGE_ENCODER_FILE },
    );
  }
}

function encoder(graph: Graph, dim: number, preprocessor: ImagePreprocessorConfig): ImageEncoder {
  const inputType = graph.inputs.get('pixel_values')!.type === 'float16' ? 'float16' : 'float32';
  let disposed = false;
  return {
    dim,
    preprocessor,
    async embed(image) {
      if (disposed) throw new DiffusionError('disposed', 'the image encoder was disposed');
      const { pixels, width, height } = await preprocessImage(image, preprocessor);
      let output: ort.Tensor;
      try {
        const result = await graph.session.run({
          pixel_values: floatTensor(inputType, pixels, [1, 3, height, width]),
        });
        output = result[graph.output.name]!;
      } catch (error) {
        throw new DiffusionError('inference_failed', `${IMAGE_ENCODER_FILE} failed: ${messageOf(error)}`, {
          file: IMAGE_ENCODER_FILE,
          cause: error,
        });
      }
      const values = readFloat(output);
      if (values.length !== dim) {
        throw new DiffusionError(
          'inference_failed',
          `${IMAGE_ENCODER_FILE} returned ${values.length} values; expected ${dim}`,
          { file: IMAGE_ENCODER_FILE },
        );
      }
      return l2Normalised(values);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await graph.session.release();
    },
  };
}

/** A normalised copy (float64 sum); a zero or non-finite vector is an inference failure, not an embedding. */
export function l2Normalised(values: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  const norm = Math.sqrt(sum);
  if (!Number.isFinite(norm) || norm === 0) {
    throw new DiffusionError(
      'inference_failed',
      `${IMAGE_ENCODER_FILE} returned a zero or non-finite embedding`,
      {
        file: IMAGE_ENCODER_FILE,
      },
    );
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! / norm;
  return out;
}
