import { CompiledQuery, type Kysely, type Selectable } from 'kysely';
import type { Database, JobsTable } from '../../db/schema.js';
import type { Dialect } from '../../db/connect.js';
import { SPEED_SMOOTHING, speedSample } from '../../fairness/speed.js';
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
 * PostgreSQL: the same two updates in one statement, one round trip instead of two. The worker's speed
 * sample is fairness/speed.ts's speedSample written in SQL over the finished row (same doubles: the
 * elapsed milliseconds, at least 1, over megapixels × steps; none when the job was never leased, finished
 * before its lease or has no work) and folded in as smoothedSpeed does. A data-modifying WITH runs whether
 * or not the final SELECT reads it.
 */
const MARK_DONE_AND_COUNT = `with done as (
    update jobs set state = 'done', result_sha256 = $3, result_bytes = $4, finished_at = $5,
      lease_expires_at = null, step = total_steps
    where id = $1 and lease_id = $2 and state = 'leased'
    returning *
  ), sample as (
    select worker_id, case
        when leased_at is null or $5 < leased_at or pixels <= 0 or total_steps <= 0 then null
        else cast(greatest(1, $5 - leased_at) as double precision)
          / ((cast(pixels as double precision) / 1000000) * total_steps)
      end as ms
    from done
  ), counted as (
    update workers set jobs_done = jobs_done + 1,
      ms_per_mpx_step = case
        when sample.ms is null then workers.ms_per_mpx_step
        when workers.ms_per_mpx_step is null then sample.ms
        else workers.ms_per_mpx_step * cast($6 as double precision) + sample.ms * cast($7 as double precision)
      end
    from sample where workers.id = sample.worker_id
  )
  select * from done`;

/**
 * Marks a leased job done with its stored image, and counts it (with its measured speed) on its worker.
 * Fenced on the lease id; undefined when it was lost.
 */
export async function completeJob(
  db: Kysely<Database>,
  dialect: Dialect,
  p: { jobId: string; leaseId: string; sha256: string; bytes: number; now: number },
): Promise<Selectable<JobsTable> | undefined> {
  if (dialect === 'postgres') {
    const params = [p.jobId, p.leaseId, p.sha256, p.bytes, p.now, 1 - SPEED_SMOOTHING, SPEED_SMOOTHING];
    const result = await db.executeQuery(
      CompiledQuery.raw(MARK_DONE_AND_COUNT, params) as CompiledQuery<Selectable<JobsTable>>,
    );
    return result.rows[0];
  }
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
