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

export type CreditTransferKind = 'reserve' | 'settle' | 'refund' | 'worker_earning' | 'annotation' | 'grant';

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
  credit_accounts: CreditAccountsTable;
  credit_transfers: CreditTransfersTable;
  credit_entries: CreditEntriesTable;
}
