// A worker's standing (worker_trust): one function per statement. Counter updates are single
// `update … returning *` statements, so the row they return is the one every later rule reads, and on
// PostgreSQL the row lock they take orders concurrent outcomes of one worker.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, TrustStateColumn, WorkerTrustTable } from '../../db/schema.js';

export type StandingRow = Selectable<WorkerTrustTable>;

/** Makes the worker's row (state new) unless it exists. */
export async function ensureStanding(
  db: Kysely<Database>,
  p: { workerId: string; now: number; ip: string | null },
): Promise<void> {
  await db
    .insertInto('worker_trust')
    .values({
      worker_id: p.workerId,
      state: 'new',
      reason: null,
      state_changed_at: p.now,
      best_ms_per_mpx_step: null,
      hw_class: null,
      registered_ip: p.ip,
      created_at: p.now,
    })
    .onConflict((oc) => oc.column('worker_id').doNothing())
    .execute();
}

export async function getStanding(db: Kysely<Database>, workerId: string): Promise<StandingRow | undefined> {
  return db.selectFrom('worker_trust').selectAll().where('worker_id', '=', workerId).executeTakeFirst();
}

/**
 * An accepted result: counts it, keeps its speed if it is the fastest yet, and, every `decayAfter` clean
 * results, takes one strike off. The worker's average speed is fairness's (workers.ms_per_mpx_step,
 * folded in by the same completion transaction): one average, read by the queue, ETAs and this page.
 */
export async function countAccepted(
  db: Kysely<Database>,
  p: { workerId: string; msPerMpxStep: number | null; decayAfter: number },
): Promise<StandingRow> {
  const best =
    p.msPerMpxStep === null
      ? sql<number | null>`best_ms_per_mpx_step`
      : sql<number>`case when best_ms_per_mpx_step is null or best_ms_per_mpx_step > cast(${p.msPerMpxStep} as double precision)
          then cast(${p.msPerMpxStep} as double precision) else best_ms_per_mpx_step end`;
  const decays = sql<boolean>`(strikes > 0 and clean + 1 >= cast(${p.decayAfter} as integer))`;
  return db
    .updateTable('worker_trust')
    .set((eb) => ({
      accepted: eb('accepted', '+', 1),
      best_ms_per_mpx_step: best,
      strikes: sql`case when ${decays} then strikes - 1 else strikes end`,
      clean: sql`case when ${decays} then 0 else clean + 1 end`,
    }))
    .where('worker_id', '=', p.workerId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Another worker confirmed one of its results. */
export async function countVerified(db: Kysely<Database>, workerId: string): Promise<StandingRow> {
  return db
    .updateTable('worker_trust')
    .set((eb) => ({ verified: eb('verified', '+', 1), streak: eb('streak', '+', 1) }))
    .where('worker_id', '=', workerId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A bad result: `weight` strikes, and its verified streak and clean run start again. */
export async function countStrike(
  db: Kysely<Database>,
  p: { workerId: string; outcome: 'rejected' | 'overturned'; weight: number },
): Promise<StandingRow> {
  return db
    .updateTable('worker_trust')
    .set((eb) => ({
      [p.outcome]: eb(p.outcome, '+', 1),
      strikes: eb('strikes', '+', p.weight),
      streak: 0,
      clean: 0,
    }))
    .where('worker_id', '=', p.workerId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Moves the worker from one state to another; undefined when it was no longer in `from`. */
export async function changeState(
  db: Kysely<Database>,
  p: { workerId: string; from: TrustStateColumn; to: TrustStateColumn; reason: string | null; now: number },
): Promise<StandingRow | undefined> {
  return db
    .updateTable('worker_trust')
    .set({ state: p.to, reason: p.reason, state_changed_at: p.now })
    .where('worker_id', '=', p.workerId)
    .where('state', '=', p.from)
    .returningAll()
    .executeTakeFirst();
}

/**
 * A suspended worker back on probation with `strikes` strikes and its verified streak and clean run
 * started again; undefined when it was not suspended (another moderator was first, or it never was).
 */
export async function reinstate(
  db: Kysely<Database>,
  p: { workerId: string; reason: string; strikes: number; now: number },
): Promise<StandingRow | undefined> {
  return db
    .updateTable('worker_trust')
    .set({
      state: 'probation',
      reason: p.reason,
      state_changed_at: p.now,
      strikes: p.strikes,
      streak: 0,
      clean: 0,
    })
    .where('worker_id', '=', p.workerId)
    .where('state', '=', 'suspended')
    .returningAll()
    .executeTakeFirst();
}

export async function setHardwareClass(db: Kysely<Database>, workerId: string, hwClass: string | null) {
  await db.updateTable('worker_trust').set({ hw_class: hwClass }).where('worker_id', '=', workerId).execute();
}

/**
 * The fastest speed each trusted worker with this kind of hardware ever showed (the timing check's
 * reference). The fastest, not the average: a loaded machine is slow on average but never faster than it
 * can compute, so only the fastest says what the hardware can do.
 */
export async function trustedBestSpeeds(db: Kysely<Database>, hwClass: string): Promise<number[]> {
  const rows = await db
    .selectFrom('worker_trust')
    .select('best_ms_per_mpx_step')
    .where('hw_class', '=', hwClass)
    .where('state', '=', 'trusted')
    .where('best_ms_per_mpx_step', 'is not', null)
    .limit(1000)
    .execute();
  return rows.map((r) => Number(r.best_ms_per_mpx_step));
}

/** Takes back one strike (never below zero): it turned out not to be the worker's fault. */
export async function forgiveStrike(db: Kysely<Database>, workerId: string): Promise<StandingRow> {
  return db
    .updateTable('worker_trust')
    .set({ strikes: sql`case when strikes > 0 then strikes - 1 else 0 end` })
    .where('worker_id', '=', workerId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A refused result that does not count as a strike (the request's fault). */
export async function countRefusal(db: Kysely<Database>, workerId: string): Promise<void> {
  await db
    .updateTable('worker_trust')
    .set((eb) => ({ rejected: eb('rejected', '+', 1) }))
    .where('worker_id', '=', workerId)
    .execute();
}
