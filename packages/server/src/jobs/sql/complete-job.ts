import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';

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
  if (job?.worker_id) {
    await db
      .updateTable('workers')
      .set((eb) => ({ jobs_done: eb('jobs_done', '+', 1) }))
      .where('id', '=', job.worker_id)
      .execute();
  }
  return job;
}
