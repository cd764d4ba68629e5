import type { Kysely, Insertable, RawBuilder } from 'kysely';
import type { Database, GenerationsTable, JobsTable } from '../../db/schema.js';

/**
 * Stores a generation and its jobs (one per image). Call inside the caller's transaction. Given
 * `announce` (the event bus's SQL that tells workers about the jobs, PostgreSQL only: events/bus.ts),
 * the generation, its jobs and the announcement go in one statement, one round trip instead of three on
 * a submission's path (and so on the path of every long-polling worker's wake-up). Data-modifying
 * `WITH` parts all run, and the jobs' foreign key to their generation is checked at the statement's end.
 */
export async function insertGeneration(
  db: Kysely<Database>,
  generation: Insertable<GenerationsTable>,
  jobs: Insertable<JobsTable>[],
  announce?: RawBuilder<unknown>,
): Promise<void> {
  if (announce) {
    await db
      .with('generation', (q) => q.insertInto('generations').values(generation))
      .with('job', (q) => q.insertInto('jobs').values(jobs))
      .selectNoFrom(announce.as('announced'))
      .execute();
    return;
  }
  await db.insertInto('generations').values(generation).execute();
  await db.insertInto('jobs').values(jobs).execute();
}
