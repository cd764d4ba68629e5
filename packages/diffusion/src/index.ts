/**
 * @dreamfold/diffusion — the Stable Diffusion (1.x/2.x) pipeline on ONNX Runtime used by the Dreamfold worker,
 * plus the pieces it is built from and the tiny-model generator the tests use.
 */
export { DiffusionError, isDiffusionError } from './errors.js';
export type { DiffusionErrorCode } from './errors.js';

export { loadPipeline, DEFAULT_MAX_PIXELS } from './pipeline/index.js';
export type { Pipeline } from './pipeline/index.js';
export type { LoadPipelineOptions, PipelineInfo, GuidanceMode } from './pipeline/load.js';
export type { GenerateOptions, GenerateResult } from './pipeline/generate.js';
export type { GenerateParams } from './pipeline/params.js';
export type { GenerateTimings, StepTiming } from './pipeline/timings.js';

export { inspectModelFolder, DEFAULT_SCALING_FACTOR } from './model-folder.js';
export type { ModelFolderInfo } from './model-folder.js';
export { fingerprintModel } from './fingerprint.js';
export type { ModelFingerprint } from './fingerprint.js';

export {
  availableProviders,
  assertProviderAvailable,
  PROVIDER_NAMES,
  isProviderName,
  runtimeVersion,
} from './onnx/providers.js';
export type { ProviderName, ProviderStatus, ProviderOptions } from './onnx/providers.js';

export { ClipTokenizer } from './tokenizer/clip-tokenizer.js';
export type { ClipTokenizerFiles } from './tokenizer/clip-tokenizer.js';
export { cleanPromptText } from './tokenizer/text-cleanup.js';

export { createScheduler } from './schedulers/index.js';
export type { CreateSchedulerOptions } from './schedulers/index.js';
export { parseSchedulerConfig, DEFAULT_SCHEDULER_CONFIG } from './schedulers/config.js';
export type { SchedulerConfig, BetaSchedule, PredictionType, TimestepSpacing } from './schedulers/config.js';
export { SAMPLER_NAMES, isSamplerName } from './schedulers/types.js';
export type { SamplerName, Scheduler, NoiseSource } from './schedulers/types.js';

export { SeededRandom } from './random.js';
export { float32ToHalf, halfToFloat32 } from './onnx/float16.js';

export {
  readPngParameters,
  writePngParameters,
  formatParameters,
  parseParameters,
  PARAMETERS_KEYWORD,
} from '@dreamfold/protocol/png';
export type { PngParameters } from '@dreamfold/protocol/png';
export { insertPngText, readPngTexts } from '@dreamfold/protocol/png';

export { loadImageEncoder, hasImageEncoder, IMAGE_ENCODER_FILE } from './image-encoder/encoder.js';
export type { ImageEncoder, LoadImageEncoderOptions } from './image-encoder/encoder.js';
export {
  parsePreprocessorConfig,
  resizedSize,
  PREPROCESSOR_FILE,
  CLIP_MEAN,
  CLIP_STD,
} from './image-encoder/config.js';
export type { ImagePreprocessorConfig } from './image-encoder/config.js';
export { preprocessImage } from './image-encoder/preprocess.js';

export { createTinyModel, TINY_PREPROCESSOR_CONFIG } from './tiny-model/create.js';
export type { TinyModelOptions, TinyModel } from './tiny-model/create.js';
