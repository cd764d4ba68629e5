// Events between the parts of the coordinator, and between coordinator replicas. Two topics:
//  - `jobs`: a job became available for a model (wakes long-polling workers);
//  - `generation`: something happened to a generation (feeds its SSE stream).
// On SQLite (one process) they stay in memory; on PostgreSQL they travel through LISTEN/NOTIFY so
// every replica hears them.
import type { Kysely, RawBuilder } from 'kysely';
import type { GenerationEvent } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';

export interface JobsAvailable {
  model: string;
  count: number;
  /** Pixels per image, so only workers that can render that size are woken. */
  pixels: number;
}

export interface GenerationNotice {
  generationId: string;
  event: GenerationEvent;
}

export type GenerationNoticeSql = (
  generationId: RawBuilder<unknown>,
  event: RawBuilder<unknown>,
) => RawBuilder<unknown>;

export interface EventBus {
  /**
   * Announces new jobs. Given the transaction that queued them, PostgreSQL sends the NOTIFY inside it:
   * delivered exactly when the jobs become visible, and no extra round trip.
   */
  publishJobs(notice: JobsAvailable, trx?: Kysely<Database>): Promise<void>;
  /**
   * Where a statement can announce new jobs itself (PostgreSQL: pg_notify inside it, sent when its
   * transaction commits), the SQL expression that does so: a caller that writes the jobs in one statement
   * saves publishJobs' own round trip. Undefined where announcements only go through publishJobs.
   */
  jobsNoticeSql?(notice: JobsAvailable): RawBuilder<unknown>;
  publishGeneration(notice: GenerationNotice): Promise<void>;
  /**
   * Likewise for one generation event: the SQL expression that sends it from inside a statement, on
   * publishGeneration's channel and in its shape (`generationId` and `event` are SQL expressions, `event` a
   * JSON value), delivered when the statement's transaction commits. The same text for every bus of a
   * kind, so statements that use it may be compiled once. Undefined where events only go through
   * publishGeneration; the job claim announces `started` this way where it can (jobs/sql/claim-job.ts).
   */
  generationNoticeSql?: GenerationNoticeSql;
  onJobs(listener: (notice: JobsAvailable) => void): () => void;
  onGeneration(generationId: string, listener: (event: GenerationEvent) => void): () => void;
  close(): Promise<void>;
}
