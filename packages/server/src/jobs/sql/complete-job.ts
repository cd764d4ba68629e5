import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';
import { speedSample } from '../../fairness/speed.js';
import { countWorkerOutcome } from './count-worker-outcome.js';

/**
 * Marks a leased job done with its stored image, and counts it (with its measured speed) on its worker.
 * Fenced on the lease id; undefined when it was lost.
 */
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
  if (job) {
    const speed = speedSample({
      leasedAt: job.leased_at,
      finishedAt: p.now,
      pixels: job.pixels,
      steps: job.total_steps,
    });
    await countWorkerOutcome(db, job.worker_id, 'jobs_done', speed);
  }
  return job;
}
