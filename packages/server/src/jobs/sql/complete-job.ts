import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';
import { speedSample } from '../../fairness/speed.js';
import { preparedPerDialect } from '../../db/prepared-per-dialect.js';
import { countWorkerOutcome } from './count-worker-outcome.js';

// Compiled once per dialect (db/prepared-per-dialect.ts): this runs for every finished job.
const markDone = preparedPerDialect(
  5,
  (db, jobId: string, leaseId: string, sha256: string, bytes: number, now: number) =>
    db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'done',
        result_sha256: sha256,
        result_bytes: bytes,
        finished_at: now,
        lease_expires_at: null,
        step: eb.ref('total_steps'),
      }))
      .where('id', '=', jobId)
      .where('lease_id', '=', leaseId)
      .where('state', '=', 'leased')
      .returningAll(),
);

/**
 * Marks a leased job done with its stored image, and counts it (with its measured speed) on its worker.
 * Fenced on the lease id; undefined when it was lost.
 */
export async function completeJob(
  db: Kysely<Database>,
  p: { jobId: string; leaseId: string; sha256: string; bytes: number; now: number },
): Promise<Selectable<JobsTable> | undefined> {
  const [job] = await markDone(db, p.jobId, p.leaseId, p.sha256, p.bytes, p.now);
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
