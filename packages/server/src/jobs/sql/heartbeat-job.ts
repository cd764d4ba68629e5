import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';

/** Extends a lease and records progress. Fenced: a stale lease id changes nothing and returns undefined. */
export async function heartbeatJob(
  db: Kysely<Database>,
  p: { jobId: string; leaseId: string; step: number; totalSteps: number; leaseExpiresAt: number },
): Promise<Pick<Selectable<JobsTable>, 'generation_id' | 'idx' | 'step'> | undefined> {
  return db
    .updateTable('jobs')
    .set({ lease_expires_at: p.leaseExpiresAt, step: p.step, total_steps: p.totalSteps })
    .where('id', '=', p.jobId)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .returning(['generation_id', 'idx', 'step'])
    .executeTakeFirst();
}
