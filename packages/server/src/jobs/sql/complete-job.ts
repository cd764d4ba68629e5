import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';
import { countWorkerOutcome } from './count-worker-outcome.js';

/** Marks a leased job done with its stored image. Fenced on the lease id; undefined when it was lost. */
export async function completeJob(
  db: Kysely<Database>,
  p: { jobId: string; leaseId: string; sha256: string; bytes: number; now: number },
): Promise<Selectable<JobsTable> | undefined> {
  const job = await db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'done',
      result_sha256: p.sha256,
      result_bytes: p.bytes,
      finished_at: p.now,
      lease_expires_at: null,
      step: eb.ref('total_steps'),
    }))
    .where('id', '=', p.jobId)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .returningAll()
    .executeTakeFirst();
  if (job) await countWorkerOutcome(db, job.worker_id, 'jobs_done');
  return job;
}
