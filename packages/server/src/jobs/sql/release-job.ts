import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';

/** A worker shutting down hands its job back. The attempt it used is returned too: nothing went wrong. */
export async function releaseJob(
  db: Kysely<Database>,
  p: { jobId: string; leaseId: string },
): Promise<Selectable<JobsTable> | undefined> {
  return db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'queued',
      lease_id: null,
      worker_id: null,
      lease_expires_at: null,
      step: 0,
      attempts: eb('attempts', '-', 1),
    }))
    .where('id', '=', p.jobId)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .returningAll()
    .executeTakeFirst();
}
