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
  const pickNext =
    dialect === 'postgres'
      ? sql`select j.id from unnest(${sql.val([...req.models])}::text[]) as m(model)
            cross join lateral (
              select id, priority, created_at from jobs
              where state = 'queued' and model = m.model and pixels <= ${req.maxPixels}
              order by priority desc, created_at, id
              limit 1 for update skip locked
            ) j
            order by j.priority desc, j.created_at, j.id limit 1`
      : sql`select id from (${sql.join(
          req.models.map(
            (model) => sql`select * from (select id, priority, created_at from jobs
              where state = 'queued' and model = ${model} and pixels <= ${req.maxPixels}
              order by priority desc, created_at, id limit 1)`,
          ),
          sql` union all `,
        )}) order by priority desc, created_at, id limit 1`;

  const result = await sql<Selectable<JobsTable>>`
    update jobs set state = 'leased', lease_id = ${req.leaseId}, worker_id = ${req.workerId},
      lease_expires_at = ${expires}, attempts = attempts + 1, step = 0
    where id = (${pickNext}) and state = 'queued'
    returning *`.execute(db);
  return result.rows[0];
}
