// The tables of the datasets domain (db/migrations/0006_datasets.ts). They are added to the shared
// Database type here, with Kysely's withTables, so this domain's schema lives beside its code.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export type DatasetReleaseState = 'building' | 'ready' | 'failed';

export interface DatasetReleasesTable {
  name: string;
  state: DatasetReleaseState;
  previous: string | null;
  path: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  counts: string | null;
  manifest_sha256: string | null;
  error: string | null;
  started_by: string | null;
}

export interface DatasetSettingsTable {
  id: number;
  secret: string;
  interval_ms: number | null;
  next_at: number | null;
  updated_at: number;
  updated_by: string | null;
}

export type DatasetTables = {
  dataset_releases: DatasetReleasesTable;
  dataset_settings: DatasetSettingsTable;
};

export type DatasetDatabase = Database & DatasetTables;

export function datasetDb(db: Kysely<Database>): Kysely<DatasetDatabase> {
  return db.withTables<DatasetTables>();
}
