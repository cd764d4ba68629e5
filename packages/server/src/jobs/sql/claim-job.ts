import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database, JobsTable } from '../../db/schema.js';
import { prepare, type PreparedQuery } from '../../db/prepared.js';
import type { GenerationNoticeSql } from '../../events/bus.js';

export interface ClaimRequest {
  workerId: string;
  leaseId: string;
  models: readonly string[];
  maxPixels: number;
  now: number;
  leaseMs: number;
  /**
   * The event bus's generationNoticeSql, where it has one: the claim then sends the job's `started` event
   * itself, and the caller must not publish it again (workers/lease-assignment.ts).
   */
  announceStarted?: GenerationNoticeSql;
}

/**
 * Leases the next job this worker can serve: the best (priority, then age) head among the per-model
 * queues it serves that fits its pixel budget. Each per-model head comes straight off the partial index
 * `jobs_queue`, so a pop costs the same with 10 or 100,000 jobs waiting.
 *
 * PostgreSQL: `FOR UPDATE SKIP LOCKED` makes concurrent claimers skip rows another transaction holds,
 * so a job is leased to one worker only. SQLite: one writer at a time, the statement is atomic.
 *
 * Where the event bus can send an event from inside a statement (PostgreSQL: pg_notify, sent when it
 * commits), the statement also announces the job's `started` event: it is out before the worker gets its
 * answer, as the generation's watchers on every replica need (the worker's first heartbeat's `progress`
 * must come after it), without a round trip of its own on the pop's path. Otherwise the caller publishes
 * it (lease-assignment.ts).
 */
export async function claimJob(
  db: Kysely<Database>,
  dialect: Dialect,
  req: ClaimRequest,
): Promise<Selectable<JobsTable> | undefined> {
  if (req.models.length === 0) return undefined;
  const args = [req.workerId, req.leaseId, req.now + req.leaseMs, req.now, req.maxPixels] as const;
  const announce = req.announceStarted;
  // PostgreSQL takes the models as one array parameter (one compiled text); SQLite unions one head per
  // model (one compiled text per number of models, at most 32: PopBody).
  const postgres = dialect === 'postgres';
  const models: (string | string[])[] = postgres ? [[...req.models]] : [...req.models];
  const key = `${postgres ? 'postgres' : req.models.length}:${announce ? 'announcing' : 'silent'}`;
  let claim = claims.get(key);
  if (!claim) {
    claim = prepare(5 + models.length, (...a: [...ClaimArgs, ...(string | string[])[]]) =>
      claimStatement(db, dialect, announce, ...a),
    );
    claims.set(key, claim);
  }
  return (await claim(db, ...args, ...models))[0];
}

type ClaimArgs = [workerId: string, leaseId: string, expires: number, now: number, maxPixels: number];
type Claim = PreparedQuery<[...ClaimArgs, ...(string | string[])[]], Selectable<JobsTable>>;
// Compiled once per kind (db/prepared.ts): a pop is the hottest statement of the queue. The notice SQL is
// the same text for every bus of a kind (EventBus.generationNoticeSql), so whether the claim announces is
// all the key needs besides the dialect and the number of models.
const claims = new Map<string, Claim>();

function claimStatement(
  db: Kysely<Database>,
  dialect: Dialect,
  announce: GenerationNoticeSql | undefined,
  workerId: string,
  leaseId: string,
  expires: number,
  now: number,
  maxPixels: number,
  ...models: (string | string[])[]
) {
  // Requesters may set the slowest worker they accept (fairness/speed.ts): a job with a limit goes only to
  // a worker whose measured speed is within it; one never measured gets only jobs without a limit. The
  // subquery does not depend on the row, so it runs once per statement.
  const speed = sql`coalesce((select ms_per_mpx_step from workers where id = ${workerId}), ${sql.lit(1e300)})`;
  const fastEnough = sql`(max_ms_per_mpx_step is null or max_ms_per_mpx_step >= ${speed})`;
  const pickNext =
    dialect === 'postgres'
      ? sql`select j.id from unnest(${models[0]}::text[]) as m(model)
            cross join lateral (
              select id, priority, created_at from jobs
              where state = 'queued' and model = m.model and pixels <= ${maxPixels} and ${fastEnough}
              order by priority desc, created_at, id
              limit 1 for update skip locked
            ) j
            order by j.priority desc, j.created_at, j.id limit 1`
      : sql`select id from (${sql.join(
          models.map(
            (model) => sql`select * from (select id, priority, created_at from jobs
              where state = 'queued' and model = ${model} and pixels <= ${maxPixels} and ${fastEnough}
              order by priority desc, created_at, id limit 1)`,
          ),
          sql` union all `,
        )}) order by priority desc, created_at, id limit 1`;

  const update = sql`
    update jobs set state = 'leased', lease_id = ${leaseId}, worker_id = ${workerId},
      lease_expires_at = ${expires}, attempts = attempts + 1, step = 0, leased_at = ${now}
    where id = (${pickNext}) and state = 'queued'
      -- A paused worker takes nothing, even from a long-poll that began before the pause.
      and exists (select 1 from workers where id = ${workerId} and paused_at is null)
    returning *`;
  const claim = announce ? announcingStarted(update, announce) : sql<Selectable<JobsTable>>`${update}`;
  return { compile: () => claim.compile(db) };
}

/** The claiming `update … returning *`, also sending the claimed job's `started` event. */
function announcingStarted(update: RawBuilder<unknown>, announce: GenerationNoticeSql) {
  // The event's fields are protocol's GenerationEvent 'started': type, index, workerId.
  const started = announce(
    sql.ref('claimed.generation_id'),
    sql`json_build_object('type', 'started', 'index', claimed.idx, 'workerId', claimed.worker_id)`,
  );
  return sql<Selectable<JobsTable>>`with claimed as (${update})
    select claimed.* from claimed cross join lateral (select ${started}) as announced`;
}
