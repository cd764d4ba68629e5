// Public API of @dreamfold/aesthetics: LAION-style aesthetic predictor (train, score, export) and the
// LAION file formats it works on (.npy embeddings, parquet metadata, "parquet_npy" folders).

export { AestheticsError, type AestheticsErrorCode } from './errors.js';
export { float16ToFloat32, float32ToFloat16, decodeFloat16, encodeFloat16 } from './float16.js';
export { formatNpyHeader, parseNpyHeader, type NpyDtype, type NpyHeader } from './npy/header.js';
export { NpyReader, readNpy, type NpyChunk, type NpyOpenOptions } from './npy/read.js';
export { NpyWriter, writeNpy, type NpyWriteOptions } from './npy/write.js';
export {
  createModel,
  DEFAULT_EMBEDDING_MODEL,
  DROPOUT,
  HIDDEN_SIZES,
  LAYER_NAMES,
  type AestheticModel,
  type CreateModelOptions,
  type LinearLayer,
  type ModelMetadata,
  type TrainingStats,
} from './model/mlp.js';
export {
  collapseModel,
  scoreEmbeddings,
  scoreEmbeddingsLayered,
  type CollapsedModel,
} from './model/score.js';
export {
  decodeModel,
  encodeModel,
  loadModel,
  saveModel,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
} from './model/file.js';
export { encodeOnnx, exportOnnx, type ExportOnnxOptions } from './model/onnx.js';
export { meanSquaredError, pearson, spearman } from './train/metrics.js';
export {
  trainFromRatings,
  type EpochRecord,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './train/train.js';
export { findEmbeddingPairs, type EmbeddingPair } from './laion/pairs.js';
export { readRatedEmbeddings, type RatedEmbeddings, type ReadRatingsOptions } from './laion/ratings.js';
export {
  filterLaionDataset,
  SCORE_COLUMN,
  subsetName,
  type FilterOptions,
  type FilterProgress,
  type FilterResult,
  type SubsetSummary,
} from './laion/filter.js';
export { STATE_FILE } from './laion/state.js';
export {
  scoreNpyFile,
  trainModelFile,
  type ScoreFileOptions,
  type TrainModelFileOptions,
} from './commands.js';
