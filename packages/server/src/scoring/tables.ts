// The tables of the scoring domain (db/migrations/0011_scoring.ts), added to the shared Database type here
// with Kysely's withTables, so this domain's schema lives beside its code.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface ImageEmbeddingsTable {
  image_id: string;
  lease_id: string;
  dim: number;
  /** dim little-endian float16 values, L2-normalised. */
  data: Buffer;
  model: string | null;
  created_at: number;
}

export interface ScoringQueueTable {
  image_id: string;
  queued_at: number;
}

export interface AestheticPredictorsTable {
  id: string;
  sha256: string;
  dim: number;
  embedding_model: string;
  bytes: number;
  /** JSON of the model file's training stats, when it has them. */
  training: string | null;
  installed_by: string | null;
  installed_at: number;
  sweep_after: string | null;
  sweep_visited: number;
  sweep_finished_at: number | null;
}

export type ScoringTables = {
  image_embeddings: ImageEmbeddingsTable;
  scoring_queue: ScoringQueueTable;
  aesthetic_predictors: AestheticPredictorsTable;
};

export type ScoringDatabase = Database & ScoringTables;

export function scoringDb(db: Kysely<Database>): Kysely<ScoringDatabase> {
  return db.withTables<ScoringTables>();
}
