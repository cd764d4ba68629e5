// The one `Database` interface every query is typed against. Timestamps are integer milliseconds since
// the epoch (bigint columns; parsed to numbers on PostgreSQL), JSON documents are TEXT.
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  email: string;
  role: 'user' | 'moderator' | 'admin';
  created_at: number;
  suspended_at: number | null;
  suspension_reason: Generated<string | null>;
  /** argon2id; null for accounts made by the admin CLI until they set a password. */
  password_hash: Generated<string | null>;
  display_name: Generated<string | null>;
  affiliation: Generated<string | null>;
  occupation: Generated<string | null>;
  intended_use: Generated<string | null>;
  email_verified_at: Generated<number | null>;
  /** Research access: an application is pending until a moderator decides. */
  access: Generated<AccessState>;
  access_decided_at: Generated<number | null>;
  access_reason: Generated<string | null>;
  failed_sign_ins: Generated<number>;
  locked_until: Generated<number | null>;
  /** Set when the account was deleted; its personal data is erased at the same time. */
  deleted_at: Generated<number | null>;
  /** Whether the user's images may appear in future dataset releases (under a pseudonym). */
  dataset_consent: Generated<DatasetConsent>;
}

export type AccessState = 'pending' | 'approved' | 'rejected';
export type DatasetConsent = 'pseudonymous' | 'withdrawn';

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'change_email';

export interface EmailTokensTable {
  token_hash: string;
  user_id: string;
  purpose: EmailTokenPurpose;
  new_email: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Settings an admin changes at run time (the access stage, …); JSON values. */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
  updated_by: string | null;
}

export interface AuditLogTable {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  detail: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface WorkersTable {
  id: string;
  user_id: string;
  name: string;
  key_prefix: string;
  key_hash: string;
  backend: string | null;
  models: string;
  max_pixels: number;
  hardware: string;
  version: string | null;
  jobs_done: Generated<number>;
  jobs_failed: Generated<number>;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  /** Fairness (0008): paused by its owner (pops nothing, no penalty); measured speed; excused failures. */
  paused_at: number | null;
  ms_per_mpx_step: number | null;
  jobs_excused: Generated<number>;
}

export interface GenerationsTable {
  id: string;
  user_id: string;
  prompt: string;
  negative_prompt: string;
  model: string;
  width: number;
  height: number;
  steps: number;
  guidance_scale: number;
  sampler: string;
  seed: number;
  n: number;
  created_at: number;
  /** The slowest worker the requester accepts (0008); null: any. */
  max_seconds_per_image: number | null;
}

export type JobStateColumn = 'queued' | 'leased' | 'done' | 'failed' | 'cancelled';

export interface JobsTable {
  id: string;
  generation_id: string;
  idx: number;
  user_id: string;
  model: string;
  pixels: number;
  seed: number;
  priority: number;
  state: JobStateColumn;
  attempts: number;
  max_attempts: number;
  lease_id: string | null;
  worker_id: string | null;
  lease_expires_at: number | null;
  step: number;
  total_steps: number;
  last_error: string | null;
  result_sha256: string | null;
  result_bytes: number | null;
  created_at: number;
  finished_at: number | null;
  /** When the current (or last) lease began: measured speeds and timing checks (0008). */
  leased_at: number | null;
  /** maxSecondsPerImage in a worker's speed unit, ms per megapixel-step; null: any worker (0008). */
  max_ms_per_mpx_step: number | null;
  /** The class of the last failure or expiry (see fairness/failure-classes.ts). */
  failure_class: string | null;
  /** Times it was queued again after its result was withdrawn (0010, trust/reruns.ts). */
  reruns: Generated<number>;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  route: string;
  request_hash: string;
  status_code: number;
  response: string;
  created_at: number;
}

/** Credits ledger: see db/migrations/0003_credits.ts and credits/. */
export interface CreditAccountsTable {
  id: string;
  created_at: number;
}

export type CreditTransferKind =
  | 'reserve'
  | 'settle'
  | 'refund'
  | 'worker_earning'
  | 'annotation'
  | 'grant'
  /** Held earnings of a worker found bad, back to the platform (trust/; never on a user's account). */
  | 'earning_reversal';

export interface CreditTransfersTable {
  id: string;
  /** The natural key of the operation that posted it; unique, so nothing posts twice. */
  key: string;
  kind: CreditTransferKind;
  reference_type: string | null;
  reference_id: string | null;
  memo: string | null;
  actor_id: string | null;
  created_at: number;
}

export interface CreditEntriesTable {
  transfer_id: string;
  account_id: string;
  /** Signed whole credits; a transfer's entries sum to zero. */
  amount: number;
  created_at: number;
}

/** Moderation: see db/migrations/0005_moderation.ts and moderation/. An image id is a job id. */
export type ReportStateColumn = 'open' | 'dismissed' | 'actioned';

export interface ReportsTable {
  id: string;
  image_id: string;
  reporter_id: string;
  reason: string;
  note: string | null;
  state: ReportStateColumn;
  created_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
}

export interface HiddenImagesTable {
  image_id: string;
  reason: string;
  hidden_by: string | null;
  hidden_at: number;
}

/** Written by the aesthetics scorer; read by the gallery's "aesthetic" order. */
export interface ImageScoresTable {
  image_id: string;
  aesthetic_score: number;
  model: string;
  scored_at: number;
}

/** Annotations: see db/migrations/0004_annotations.ts and annotations/. An image id is a job id. */
export type AnnotationKindColumn = 'rating' | 'pairwise' | 'flag';

export interface AnnotationImagesTable {
  image_id: string;
  generation_id: string;
  owner_id: string;
  prompt_key: string;
  finished_at: number;
  pairable: Generated<number>;
  rating_count: Generated<number>;
  rating_sum: Generated<number>;
  rating_sumsq: Generated<number>;
  pair_wins: Generated<number>;
  pair_losses: Generated<number>;
  pair_ties: Generated<number>;
  flag_answers: Generated<number>;
  flag_nsfw: Generated<number>;
  flag_broken: Generated<number>;
  flag_offensive: Generated<number>;
  flag_mismatch: Generated<number>;
}

export interface AnnotationGoldTable {
  id: string;
  kind: AnnotationKindColumn;
  image_a: string;
  image_b: string | null;
  pair_key: string;
  rating_min: number | null;
  rating_max: number | null;
  preferred: 'a' | 'b' | 'tie' | null;
  flags_set: number | null;
  flags_clear: number | null;
  created_by: string | null;
  created_at: number;
  retired_at: number | null;
  retired_by: string | null;
}

export interface AnnotationRatersTable {
  user_id: string;
  rating_answers: Generated<number>;
  pairwise_answers: Generated<number>;
  flag_answers: Generated<number>;
  gold_answers: Generated<number>;
  gold_agreed: Generated<number>;
  credits_earned: Generated<number>;
  excluded_at: number | null;
  created_at: number;
}

export interface AnnotationTasksTable {
  id: string;
  user_id: string;
  kind: AnnotationKindColumn;
  image_a: string;
  image_b: string | null;
  pair_key: string;
  gold_id: string | null;
  created_at: number;
  expires_at: number;
  answered_at: number | null;
  rating: number | null;
  choice: 'a' | 'b' | 'tie' | null;
  flags: number | null;
  credits: Generated<number>;
  agreed: number | null;
  excluded: Generated<number>;
}

/** Output safety and fairness: see db/migrations/0008_safety.ts, safety/ and fairness/. */
export type ImageSafetyState = 'pending' | 'classified' | 'unchecked' | 'failed';

export interface ImageSafetyTable {
  image_id: string;
  state: ImageSafetyState;
  /** P(porn) + P(hentai) + P(sexy); a release's `punsafe`. Null until classified (or with no classifier). */
  nsfw_score: number | null;
  classes: string | null;
  model: string | null;
  hid: Generated<number>;
  attempts: Generated<number>;
  claimed_until: number | null;
  last_error: string | null;
  created_at: number;
  classified_at: number | null;
}

export type AppealStateColumn = 'open' | 'upheld' | 'overturned';

export interface AppealsTable {
  id: string;
  image_id: string;
  user_id: string;
  note: string;
  /** protocol HIDE_SOURCES (safety/hide-reasons.ts); rows before prompt_filter and verification existed say moderator. */
  source: 'classifier' | 'prompt_filter' | 'verification' | 'moderator';
  rule: string;
  score: number | null;
  state: AppealStateColumn;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  decision_note: string | null;
}

export interface WorkerIncidentsTable {
  id: string;
  worker_id: string;
  job_id: string;
  class: string;
  /** 1 when it counts against the worker (fairness/failure-classes.ts: countsAgainstWorker). */
  counts: number;
  reason: string;
  created_at: number;
}

export interface CoordinatorRunsTable {
  id: string;
  started_at: number;
  last_alive_at: number;
  stopped_at: number | null;
}

/** Verification and reputation: see db/migrations/0007_trust.ts and trust/. */
export type TrustStateColumn = 'new' | 'trusted' | 'probation' | 'suspended';

export interface WorkerTrustTable {
  worker_id: string;
  state: TrustStateColumn;
  reason: string | null;
  state_changed_at: number;
  accepted: Generated<number>;
  verified: Generated<number>;
  overturned: Generated<number>;
  rejected: Generated<number>;
  streak: Generated<number>;
  clean: Generated<number>;
  strikes: Generated<number>;
  /** The fastest it ever was (the timing check's reference); its average speed is workers.ms_per_mpx_step. */
  best_ms_per_mpx_step: number | null;
  hw_class: string | null;
  registered_ip: string | null;
  created_at: number;
}

export type TrustResultStatus = 'unverified' | 'verified' | 'overturned' | 'withdrawn';

export interface TrustResultsTable {
  /** The job id for a canonical result, the replica id for a replica's. */
  id: string;
  job_id: string;
  kind: 'canonical' | 'replica';
  worker_id: string;
  owner_id: string;
  model: string;
  fingerprint: string | null;
  params_key: string;
  seed: number;
  /** SHA-256 of the decoded RGB pixels (exact replays, whatever the PNG encoding). */
  sha256: string;
  bytes: number;
  phash: string;
  /** Second perceptual hash: confirms a near-copy found by phash (see trust/thresholds.ts). */
  dhash: string;
  band0: number;
  band1: number;
  band2: number;
  band3: number;
  status: TrustResultStatus;
  created_at: number;
  /** The CLIP embedding the result came with (stored float16), copied when its comparison opened. */
  embedding: Buffer | null;
  embedding_model: string | null;
}

export type ReplicaStateColumn = 'queued' | 'leased' | 'done' | 'failed' | 'abandoned';

export interface ReplicasTable {
  id: string;
  job_id: string;
  generation_id: string;
  round: number;
  model: string;
  pixels: number;
  seed: number;
  fingerprint: string | null;
  excluded_owner_a: string;
  excluded_owner_b: string | null;
  trusted_only: Generated<number>;
  state: ReplicaStateColumn;
  lease_id: string | null;
  worker_id: string | null;
  leased_at: number | null;
  lease_expires_at: number | null;
  attempts: Generated<number>;
  max_attempts: number;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
  /** The replica's CLIP embedding, sent before its PNG under embedding_lease_id (stored float16). */
  embedding: Generated<Buffer | null>;
  embedding_model: Generated<string | null>;
  embedding_lease_id: Generated<string | null>;
}

export type VerificationStateColumn = 'pending' | 'verified' | 'overturned' | 'inconclusive' | 'abandoned';

export interface VerificationsTable {
  job_id: string;
  worker_id: string;
  state: VerificationStateColumn;
  detail: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface ModelFingerprintsTable {
  model: string;
  sha256: string;
  source: 'admin' | 'trusted_worker';
  added_by: string | null;
  created_at: number;
}

export interface WorkerFingerprintsTable {
  worker_id: string;
  model: string;
  sha256: string;
  reported_at: number;
}

export interface TrustEventsTable {
  id: string;
  worker_id: string;
  kind: 'rejected' | 'forgiven' | 'verified' | 'overturned' | 'state_changed' | 'withdrawn';
  check_name: 'blank' | 'noise' | 'replay' | 'too_fast' | 'disagreement' | null;
  job_id: string | null;
  state: TrustStateColumn | null;
  detail: string;
  created_at: number;
}

/** How a donor appears on the public leaderboard (0009, donors/); no row: a pseudonym. */
export interface DonorProfilesTable {
  user_id: string;
  listing: 'pseudonym' | 'name' | 'hidden';
  public_name: string | null;
  updated_at: number;
}

/** Batched re-evaluations after a threshold or rule change (0010, safety/reevaluation.ts). */
export interface ReevaluationsTable {
  kind: 'safety_thresholds' | 'prompt_filter';
  target: string;
  actor_id: string | null;
  after_id: string | null;
  processed: Generated<number>;
  hidden: Generated<number>;
  shown: Generated<number>;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  workers: WorkersTable;
  generations: GenerationsTable;
  jobs: JobsTable;
  idempotency_keys: IdempotencyKeysTable;
  sessions: SessionsTable;
  email_tokens: EmailTokensTable;
  settings: SettingsTable;
  audit_log: AuditLogTable;
  reports: ReportsTable;
  hidden_images: HiddenImagesTable;
  image_scores: ImageScoresTable;
  credit_accounts: CreditAccountsTable;
  credit_transfers: CreditTransfersTable;
  credit_entries: CreditEntriesTable;
  annotation_images: AnnotationImagesTable;
  annotation_gold: AnnotationGoldTable;
  annotation_raters: AnnotationRatersTable;
  annotation_tasks: AnnotationTasksTable;
  image_safety: ImageSafetyTable;
  appeals: AppealsTable;
  worker_incidents: WorkerIncidentsTable;
  coordinator_runs: CoordinatorRunsTable;
  worker_trust: WorkerTrustTable;
  trust_results: TrustResultsTable;
  replicas: ReplicasTable;
  verifications: VerificationsTable;
  model_fingerprints: ModelFingerprintsTable;
  worker_fingerprints: WorkerFingerprintsTable;
  trust_events: TrustEventsTable;
  reevaluations: ReevaluationsTable;
  donor_profiles: DonorProfilesTable;
}
