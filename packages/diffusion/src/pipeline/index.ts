/** The pipeline object handed to the worker: a loaded model and the generate/dispose operations on it. */
import { DiffusionError } from '../errors.js';
import { DEFAULT_MAX_INIT_IMAGE_PIXELS } from '../image/init-image.js';
import { generate } from './generate.js';
import type { GenerateOptions, GenerateResult } from './generate.js';
import { loadModel } from './load.js';
import type { LoadPipelineOptions, PipelineInfo } from './load.js';
import type { GenerateParams } from './params.js';

export interface Pipeline {
  readonly modelId: string;
  readonly info: PipelineInfo;
  generate(params: GenerateParams, options?: GenerateOptions): Promise<GenerateResult>;
  /** Releases the ONNX Runtime sessions (and their GPU memory). */
  dispose(): Promise<void>;
}

export const DEFAULT_MAX_PIXELS = 2048 * 2048;

export async function loadPipeline(dir: string, options: LoadPipelineOptions = {}): Promise<Pipeline> {
  const model = await loadModel(dir, options);
  const limits = {
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    maxInitImagePixels: options.maxInitImagePixels ?? DEFAULT_MAX_INIT_IMAGE_PIXELS,
  };
  let disposed = false;
  return {
    modelId: model.info.modelId,
    info: model.info,
    async generate(params, generateOptions = {}) {
      if (disposed) throw new DiffusionError('disposed', 'the pipeline was disposed');
      return generate(model, params, generateOptions, limits);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      const graphs = [model.textEncoder, model.xl?.encoder2, model.unet, model.vaeDecoder, model.vaeEncoder];
      await Promise.all(graphs.map((graph) => graph?.session.release()));
    },
  };
}
