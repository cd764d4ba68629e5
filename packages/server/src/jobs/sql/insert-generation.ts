import type { Kysely, Insertable } from 'kysely';
import type { Database, GenerationsTable, JobsTable } from '../../db/schema.js';

/** Stores a generation and its jobs (one per image). Call inside the caller's transaction. */
export async function insertGeneration(
  db: Kysely<Database>,
  generation: Insertable<GenerationsTable>,
  jobs: Insertable<JobsTable>[],
): Promise<void> {
  await db.insertInto('generations').values(generation).execute();
  await db.insertInto('jobs').values(jobs).execute();
}
