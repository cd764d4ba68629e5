export { buildCoordinator, type BuildOptions, type Coordinator } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { openDatabase, isPostgresUrl, type DatabaseHandle, type Dialect } from './db/connect.js';
export { AccountsService } from './accounts/service.js';
export { publicImages, isPublicImage, imageIsPublic } from './moderation/visibility.js';
export { compileRules, parseRuleFile, normalizeText, type CompiledRules } from './moderation/prompt-rules.js';
export { CreditsService, type AwardInput, type GrantInput, type Posted } from './credits/service.js';
export { trialBalance } from './credits/books.js';
export { openBlobStore } from './storage/open-blob-store.js';
export { FsBlobStore } from './storage/fs-store.js';
export { S3BlobStore } from './storage/s3-store.js';
export type { BlobStore } from './storage/blob-store.js';
export { startServer, type RunningServer } from './start.js';
export { DatasetService, type ReleaseRecord, type ReleaseRequest } from './datasets/release-service.js';
export { DatasetError } from '@dreamfold/datasets';
export {
  NsfwjsClassifier,
  nsfwScore,
  toModelInput,
  type ImageClassifier,
  type Verdict,
} from './safety/classifier.js';
export { nsfwScores } from './safety/queries.js';
export { countsAgainstWorker } from './fairness/failure-classes.js';
