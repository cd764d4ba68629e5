// The one `Database` interface every query is typed against. Timestamps are integer milliseconds since
// the epoch (bigint columns; parsed to numbers on PostgreSQL), JSON documents are TEXT.
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  email: string;
  role: 'user' | 'moderator' | 'admin';
  created_at: number;
  suspended_at: number | null;
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

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  workers: WorkersTable;
  generations: GenerationsTable;
  jobs: JobsTable;
  idempotency_keys: IdempotencyKeysTable;
}
