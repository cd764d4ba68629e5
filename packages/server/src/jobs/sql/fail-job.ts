import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';
import { countWorkerOutcome } from './count-worker-outcome.js';
import { countsAgainstWorker } from '../../fairness/failure-classes.js';
import type { WorkerFailureClass } from '@dreamfold/protocol';

/**
 * A worker reports it could not produce the image. A retryable failure puts the job back in the queue
 * (at its original place: age is kept) until it has used `max_attempts`; a non-retryable one (the request
 * itself cannot succeed) fails it at once. Retries go out immediately rather than after a back-off:
 * another worker is the usual remedy, and the attempt cap bounds a job that fails everywhere.
 */
export async function failJob(
  db: Kysely<Database>,
  p: {
    jobId: string;
    leaseId: string;
    reason: string;
    retryable: boolean;
    /** Whose fault: only the worker's own failures count in its jobs_failed. */
    failureClass: WorkerFailureClass;
    now: number;
  },
): Promise<Selectable<JobsTable> | undefined> {
  // Parameters inside CASE are cast: PostgreSQL cannot infer their type there.
  const requeue = sql<boolean>`(cast(${p.retryable ? 1 : 0} as integer) = 1 and attempts < max_attempts)`;
  const job = await db
    .updateTable('jobs')
    .set({
      state: sql`case when ${requeue} then 'queued' else 'failed' end`,
      finished_at: sql`case when ${requeue} then null else cast(${p.now} as bigint) end`,
      last_error: p.reason,
      failure_class: p.failureClass,
      lease_id: null,
      lease_expires_at: null,
      step: 0,
    })
    .where('id', '=', p.jobId)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .returningAll()
    .executeTakeFirst();
  if (job && countsAgainstWorker(p.failureClass)) await countWorkerOutcome(db, job.worker_id, 'jobs_failed');
  return job;
}
