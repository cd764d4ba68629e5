import type { Config } from './config.js';
import type { Clock } from './clock.js';
import type { DatabaseHandle } from './db/connect.js';
import type { EventBus } from './events/bus.js';
import type { BlobStore } from './storage/blob-store.js';
import type { Metrics } from './metrics/metrics.js';
import type { AccountsService } from './accounts/service.js';
import type { GenerationService } from './jobs/generation-service.js';
import type { WorkerService } from './workers/worker-service.js';
import type { LeaseService } from './workers/lease-service.js';
import type { AccessStageSetting } from './settings/access-stage.js';
import type { IdentityService } from './accounts/identity-service.js';
import type { ApplicationsService } from './accounts/applications.js';
import type { CreditsService } from './credits/service.js';
import type { PromptFilter } from './moderation/prompt-filter.js';
import type { ModerationService } from './moderation/service.js';
import type { ImageService } from './images/service.js';
import type { Annotations } from './annotations/index.js';
import type { DatasetService } from './datasets/release-service.js';
import type { ScoringService } from './scoring/service.js';
import type { SafetyService } from './safety/service.js';
import type { FairnessService } from './fairness/service.js';
import type { RequesterFairness } from './fairness/requesters.js';

import type { TrustService } from './trust/service.js';
import type { DonorService } from './donors/service.js';
import type { GenerationLimitsSetting } from './settings/generation-limits.js';
import type { Housekeeping } from './housekeeping/service.js';
/** Everything the route plugins share, built once per app in app.ts. */
export interface Services {
  config: Config;
  clock: Clock;
  database: DatabaseHandle;
  bus: EventBus;
  blobs: BlobStore;
  metrics: Metrics;
  accounts: AccountsService;
  generations: GenerationService;
  workers: WorkerService;
  leases: LeaseService;
  accessStage: AccessStageSetting;
  identity: IdentityService;
  applications: ApplicationsService;
  /** The credits ledger: award/grant/balance for other domains (see credits/service.ts). */
  credits: CreditsService;
  /** Applied to prompts before anything is queued (see moderation/prompt-filter.ts). */
  promptFilter: PromptFilter;
  moderation: ModerationService;
  /** The public gallery (images/). */
  images: ImageService;
  /** Annotation tasks, answers and gold items (annotations/). */
  annotations: Annotations;
  /** Dataset releases, their files and the release schedule (datasets/). */
  datasets: DatasetService;
  /** Workers' CLIP embeddings and the aesthetic predictor that scores them (scoring/). */
  scoring: ScoringService;
  /** The NSFW classifier, its thresholds and appeals (safety/). */
  safety: SafetyService;
  /** Donors: failure classes, outages, pause, why-idle, receipts (fairness/). */
  fairness: FairnessService;
  /** Requesters: unservable requests, served models, ETAs (fairness/requesters.ts). */
  requesters: RequesterFairness;
  /** Verification of results and worker reputation (trust/). */
  trust: TrustService;
  /** Donors leaderboard and profiles, workers' current jobs and throughput (donors/). */
  donors: DonorService;
  /** Generation limits an admin may change at run time (settings/generation-limits.ts). */
  generationLimits: GenerationLimitsSetting;
  /** Deletes idempotency keys, sessions and email links whose time is up (housekeeping/). */
  housekeeping: Housekeeping;
}
