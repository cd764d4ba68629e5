import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database, JobsTable } from '../../db/schema.js';

export interface ClaimRequest {
  workerId: string;
  leaseId: string;
  models: readonly string[];
  maxPixels: number;
  now: number;
  leaseMs: number;
}

/**
 * Leases the next job this worker can serve: the best (priority, then age) head among the per-model
 * queues it serves that fits its pixel budget. Each per-model head comes straight off the partial index
 * `jobs_queue`, so a pop costs the same with 10 or 100,000 jobs waiting.
 *
 * PostgreSQL: `FOR UPDATE SKIP LOCKED` makes concurrent claimers skip rows another transaction holds,
 * so a job is leased to one worker only. SQLite: one writer at a time, the statement is atomic.
 */
export async function claimJob(
  db: Kysely<Database>,
  dialect: Dialect,
  req: ClaimRequest,
): Promise<Selectable<JobsTable> | undefined> {
  if (req.models.length === 0) return undefined;
  const expires = req.now + req.leaseMs;
  // Requesters may set the slowest worker they accept (fairness/speed.ts): a job with a limit goes only to
  // a worker whose measured speed is within it; one never measured gets only jobs without a limit. The
  // subquery does not depend on the row, so it runs once per statement.
  const speed = sql`coalesce((select ms_per_mpx_step from workers where id = ${req.workerId}), ${sql.lit(1e300)})`;
  const fastEnough = sql`(max_ms_per_mpx_step is null or max_ms_per_mpx_step >= ${speed})`;
  const pickNext =
    dialect === 'postgres'
      ? sql`select j.id from unnest(${sql.val([...req.models])}::text[]) as m(model)
            cross join lateral (
              select id, priority, created_at from jobs
              where state = 'queued' and model = m.model and pixels <= ${req.maxPixels} and ${fastEnough}
              order by priority desc, created_at, id
              limit 1 for update skip locked
            ) j
            order by j.priority desc, j.created_at, j.id limit 1`
      : sql`select id from (${sql.join(
          req.models.map(
            (model) => sql`select * from (select id, priority, created_at from jobs
              where state = 'queued' and model = ${model} and pixels <= ${req.maxPixels} and ${fastEnough}
              order by priority desc, created_at, id limit 1)`,
          ),
          sql` union all `,
        )}) order by priority desc, created_at, id limit 1`;

  const result = await sql<Selectable<JobsTable>>`
    update jobs set state = 'leased', lease_id = ${req.leaseId}, worker_id = ${req.workerId},
      lease_expires_at = ${expires}, attempts = attempts + 1, step = 0, leased_at = ${req.now}
    where id = (${pickNext}) and state = 'queued'
      -- A paused worker takes nothing, even from a long-poll that began before the pause.
      and exists (select 1 from workers where id = ${req.workerId} and paused_at is null)
    returning *`.execute(db);
  return result.rows[0];
}
