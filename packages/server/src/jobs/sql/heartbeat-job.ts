import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';
import { preparedPerDialect } from '../../db/prepared-per-dialect.js';

// Compiled once per dialect (db/prepared-per-dialect.ts): a heartbeat comes every few seconds per job.
const extendLease = preparedPerDialect(
  5,
  (db, jobId: string, leaseId: string, step: number, totalSteps: number, leaseExpiresAt: number) =>
    db
      .updateTable('jobs')
      .set({ lease_expires_at: leaseExpiresAt, step, total_steps: totalSteps })
      .where('id', '=', jobId)
      .where('lease_id', '=', leaseId)
      .where('state', '=', 'leased')
      .returning(['generation_id', 'idx', 'step']),
);

/** Extends a lease and records progress. Fenced: a stale lease id changes nothing and returns undefined. */
export async function heartbeatJob(
  db: Kysely<Database>,
  p: { jobId: string; leaseId: string; step: number; totalSteps: number; leaseExpiresAt: number },
): Promise<Pick<Selectable<JobsTable>, 'generation_id' | 'idx' | 'step'> | undefined> {
  const [row] = await extendLease(db, p.jobId, p.leaseId, p.step, p.totalSteps, p.leaseExpiresAt);
  return row;
}
