// Public API of @dreamfold/datasets: open dataset releases (Parquet metadata, WebDataset shards, CLIP
// embeddings, ratings, preferences, changes, manifest and dataset card) written from streams of rows.

export { DatasetError, type DatasetErrorCode } from './errors.js';
export {
  writeRelease,
  RELEASE_NAME,
  DEFAULT_SHARD_SIZE,
  DEFAULT_EMBEDDING_DIM,
  DEFAULT_EMBEDDING_MODEL,
  type ReleaseResult,
} from './release/release.js';
export { FLAG_NAMES } from './types.js';
export type {
  ExclusionCount,
  FlagCounts,
  FlagName,
  PreferenceChoice,
  ReleaseImage,
  ReleaseOptions,
  ReleasePhase,
  ReleasePreference,
  ReleaseProgress,
  ReleaseRating,
  RowSource,
} from './types.js';
export {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_FORMAT_VERSION,
  loadPreviousRelease,
  sha256File,
  type Manifest,
  type ManifestFile,
  type PreviousRelease,
  type ReleaseCounts,
} from './manifest.js';
export { Pseudonymizer, PSEUDONYM_HEX_DIGITS, MIN_SALT_BYTES, type PseudonymKind } from './pseudonym.js';
export { sampleKey, shardName, indexDigits } from './keys.js';
export {
  METADATA_COLUMNS,
  RATING_COLUMNS,
  PREFERENCE_COLUMNS,
  CHANGE_COLUMNS,
  LAION_COLUMNS,
  type ColumnSpec,
} from './columns.js';
