// Fairness SQL: one function per statement. Lease take-backs are fenced on `state = 'leased'` and the
// deadline, like the reaper's own statement.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, JobsTable, WorkerIncidentsTable } from '../db/schema.js';
import type { ExcusedRange } from './outages.js';
import { newId } from '../ids.js';
import { SPEED_SMOOTHING } from './speed.js';

export type IncidentRow = Selectable<WorkerIncidentsTable>;
export type TakenBack = Pick<
  Selectable<JobsTable>,
  'id' | 'generation_id' | 'idx' | 'state' | 'model' | 'worker_id'
>;

const OUTAGE_REASON =
  'The coordinator was down when this lease ran out; it does not count against the worker.';

/**
 * Leases whose deadline fell inside a coordinator outage go back to the queue with their attempt given
 * back (the job must not fail because the coordinator restarted). Runs before the ordinary expiry.
 */
export async function takeBackOutageLeases(
  db: Kysely<Database>,
  p: { now: number; ranges: readonly ExcusedRange[] },
): Promise<TakenBack[]> {
  if (p.ranges.length === 0) return [];
  return (
    db
      .updateTable('jobs')
      // worker_id is kept: the incident names the worker (the next claim overwrites it).
      .set({
        state: 'queued',
        lease_id: null,
        lease_expires_at: null,
        step: 0,
        attempts: sql<number>`case when attempts > 0 then attempts - 1 else 0 end`,
        failure_class: 'coordinator_outage',
        last_error: OUTAGE_REASON,
      })
      .where('state', '=', 'leased')
      .where('lease_expires_at', '<', p.now)
      .where((eb) => eb.or(p.ranges.map(([from, to]) => eb.between('lease_expires_at', from, to))))
      .returning(['id', 'generation_id', 'idx', 'state', 'model', 'worker_id'])
      .execute()
  );
}

export { OUTAGE_REASON };

export async function insertIncidents(
  db: Kysely<Database>,
  rows: { workerId: string; jobId: string; class: string; counts: boolean; reason: string; now: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('worker_incidents')
    .values(
      rows.map((r) => ({
        id: newId(),
        worker_id: r.workerId,
        job_id: r.jobId,
        class: r.class,
        counts: r.counts ? 1 : 0,
        reason: r.reason.slice(0, 500),
        created_at: r.now,
      })),
    )
    .execute();
}

export async function countExcused(db: Kysely<Database>, workerId: string, n: number): Promise<void> {
  if (n <= 0) return;
  await db
    .updateTable('workers')
    .set((eb) => ({ jobs_excused: eb('jobs_excused', '+', n) }))
    .where('id', '=', workerId)
    .execute();
}

/**
 * The worker's running speed average with one measurement folded in: the value for `ms_per_mpx_step` in
 * the UPDATE that counts the finished job (jobs/sql/count-worker-outcome.ts).
 */
export function smoothedSpeed(sample: number, weight = SPEED_SMOOTHING) {
  // Parameters inside CASE are cast: PostgreSQL cannot infer their type there.
  return sql<number>`case when ms_per_mpx_step is null then cast(${sample} as double precision)
    else ms_per_mpx_step * cast(${1 - weight} as double precision)
      + cast(${sample} as double precision) * cast(${weight} as double precision) end`;
}

export async function findWorker(db: Kysely<Database>, id: string) {
  return (
    db
      .selectFrom('workers')
      .innerJoin('users', 'users.id', 'workers.user_id')
      // The verification side's standing (trust/): probation or suspension, with its reason.
      .leftJoin('worker_trust', 'worker_trust.worker_id', 'workers.id')
      .selectAll('workers')
      .select([
        'users.suspended_at as ownerSuspendedAt',
        'worker_trust.state as trustState',
        'worker_trust.reason as trustReason',
      ])
      .where('workers.id', '=', id)
      .executeTakeFirst()
  );
}
export type FairnessWorkerRow = NonNullable<Awaited<ReturnType<typeof findWorker>>>;

export async function pausedAt(db: Kysely<Database>, workerId: string): Promise<number | null | undefined> {
  const row = await db
    .selectFrom('workers')
    .select('paused_at')
    .where('id', '=', workerId)
    .executeTakeFirst();
  return row?.paused_at;
}

/** Pauses or resumes; keeps the first pause time when paused twice. */
export async function setPaused(db: Kysely<Database>, p: { workerId: string; at: number | null }) {
  let q = db.updateTable('workers').set({ paused_at: p.at }).where('id', '=', p.workerId);
  if (p.at !== null) q = q.where('paused_at', 'is', null);
  await q.execute();
}

export async function touchWorker(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('workers').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function leasedJobsOf(db: Kysely<Database>, workerId: string) {
  return db
    .selectFrom('jobs')
    .select(['id', 'model', 'pixels'])
    .where('state', '=', 'leased')
    .where('worker_id', '=', workerId)
    .execute();
}

/** Queued jobs by model and size; how many of each this worker's speed rules out. */
export async function queueDemand(db: Kysely<Database>, p: { speed: number | null; limit: number }) {
  const tooSlow =
    p.speed === null
      ? sql<number>`sum(case when max_ms_per_mpx_step is not null then 1 else 0 end)`
      : sql<number>`sum(case when max_ms_per_mpx_step < ${p.speed} then 1 else 0 end)`;
  const rows = await db
    .selectFrom('jobs')
    .select(['model', 'pixels', (eb) => eb.fn.countAll<number>().as('queued'), tooSlow.as('tooSlow')])
    .where('state', '=', 'queued')
    .groupBy(['model', 'pixels'])
    .orderBy(sql`count(*)`, 'desc')
    .orderBy('model')
    .orderBy('pixels')
    .limit(p.limit)
    .execute();
  return rows.map((r) => ({
    model: r.model,
    pixels: r.pixels,
    queued: Number(r.queued),
    tooSlow: Number(r.tooSlow),
  }));
}

export async function countQueuedJobs(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'queued')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

type After = readonly [number, string];

export async function incidentsOf(
  db: Kysely<Database>,
  p: { workerId: string; limit: number; after?: After },
) {
  let q = db.selectFrom('worker_incidents').selectAll().where('worker_id', '=', p.workerId);
  if (p.after) {
    const [at, id] = p.after;
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]),
    );
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(p.limit).execute();
}

export async function incidentTotals(db: Kysely<Database>, workerId: string) {
  const rows = await db
    .selectFrom('worker_incidents')
    .select(['counts', (eb) => eb.fn.countAll<number>().as('n')])
    .where('worker_id', '=', workerId)
    .groupBy('counts')
    .execute();
  const n = (c: number) => Number(rows.find((r) => Number(r.counts) === c)?.n ?? 0);
  return { counted: n(1), excused: n(0) };
}

/**
 * A worker's finished jobs with what each earned: the ledger's `earn:<job>` transfer (credits/service.ts
 * posts it with the completion), the amount being what left the platform account.
 */
export async function receiptsOf(
  db: Kysely<Database>,
  p: { workerId: string; limit: number; after?: After },
) {
  let q = db
    .selectFrom('jobs')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .leftJoin('credit_transfers', (join) =>
      join.on(sql<boolean>`${sql.ref('credit_transfers.key')} = 'earn:' || ${sql.ref('jobs.id')}`),
    )
    .leftJoin('credit_entries', (join) =>
      join
        .onRef('credit_entries.transfer_id', '=', 'credit_transfers.id')
        .on('credit_entries.account_id', '=', 'platform'),
    )
    // Earnings of a worker without a verified record go to `held:<worker>` (credits/held-earnings.ts).
    .leftJoin('credit_entries as held_entry', (join) =>
      join
        .onRef('held_entry.transfer_id', '=', 'credit_transfers.id')
        .on(sql<boolean>`${sql.ref('held_entry.account_id')} = 'held:' || ${sql.ref('jobs.worker_id')}`),
    )
    .select([
      'jobs.id',
      'jobs.finished_at as finishedAt',
      'generations.model',
      'generations.width',
      'generations.height',
      'generations.steps',
      'credit_transfers.id as transferId',
      'credit_entries.amount as platformAmount',
      'held_entry.amount as heldAmount',
    ])
    .where('jobs.worker_id', '=', p.workerId)
    .where('jobs.state', '=', 'done');
  if (p.after) {
    const [at, id] = p.after;
    q = q.where((eb) =>
      eb.or([
        eb('jobs.finished_at', '<', at),
        eb.and([eb('jobs.finished_at', '=', at), eb('jobs.id', '<', id)]),
      ]),
    );
  }
  return q.orderBy('jobs.finished_at', 'desc').orderBy('jobs.id', 'desc').limit(p.limit).execute();
}

export async function totalEarned(db: Kysely<Database>, workerId: string): Promise<number> {
  const r = await db
    .selectFrom('credit_transfers')
    .innerJoin('credit_entries', 'credit_entries.transfer_id', 'credit_transfers.id')
    .select((eb) => eb.fn.sum<number>('credit_entries.amount').as('sum'))
    .where('credit_transfers.reference_type', '=', 'worker')
    .where('credit_transfers.reference_id', '=', workerId)
    .where('credit_transfers.kind', '=', 'worker_earning')
    .where('credit_entries.account_id', '=', 'platform')
    .executeTakeFirstOrThrow();
  return -Number(r.sum ?? 0);
}

/** The earning posted for one job, if any (the worker logs it as its receipt). */
export async function earningOfJob(db: Kysely<Database>, jobId: string) {
  const entries = await db
    .selectFrom('credit_transfers')
    .innerJoin('credit_entries', 'credit_entries.transfer_id', 'credit_transfers.id')
    .select(['credit_transfers.id', 'credit_entries.account_id', 'credit_entries.amount'])
    .where('credit_transfers.key', '=', `earn:${jobId}`)
    .execute();
  const platform = entries.find((e) => e.account_id === 'platform');
  if (!platform) return undefined;
  return {
    transferId: platform.id,
    credits: -Number(platform.amount),
    held: entries.some((e) => e.account_id.startsWith('held:')),
  };
}

/** Workers seen within the window that have not been revoked: what the queue can be served by. */
export async function recentWorkers(db: Kysely<Database>, since: number) {
  return db
    .selectFrom('workers')
    .select(['id', 'models', 'max_pixels', 'ms_per_mpx_step', 'paused_at', 'last_seen_at'])
    .where('revoked_at', 'is', null)
    .where('last_seen_at', '>=', since)
    .execute();
}
export type RecentWorkerRow = Awaited<ReturnType<typeof recentWorkers>>[number];
