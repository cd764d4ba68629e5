// The replica queue: one small statement per operation, fenced on the lease id like the job queue
// (jobs/sql/), so a worker whose replica lease was taken away can no longer touch it.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../../db/connect.js';
import type { Database, ReplicasTable } from '../../db/schema.js';

export type ReplicaRow = Selectable<ReplicasTable>;

/** Replica ids never look like job ids (`<hex>_<index>`), so the worker routes can tell them apart. */
export const REPLICA_ID_PREFIX = 'rep_';
export const isReplicaId = (id: string): boolean => id.startsWith(REPLICA_ID_PREFIX);

export async function insertReplica(db: Kysely<Database>, row: Insertable<ReplicasTable>): Promise<void> {
  await db.insertInto('replicas').values(row).execute();
}

export async function getReplica(db: Kysely<Database>, id: string): Promise<ReplicaRow | undefined> {
  return db.selectFrom('replicas').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The finished replicas of a job (the earlier rounds a tiebreak is compared with). */
export async function doneReplicasOfJob(db: Kysely<Database>, jobId: string): Promise<ReplicaRow[]> {
  return db
    .selectFrom('replicas')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('state', '=', 'done')
    .orderBy('round')
    .execute();
}

export interface ReplicaClaim {
  workerId: string;
  ownerId: string;
  leaseId: string;
  /** The models it serves, each with the fingerprint it reported (null: none). */
  models: readonly { model: string; fingerprint: string | null }[];
  maxPixels: number;
  /** Whether the claimer is trusted (replicas queued as trusted_only go to trusted workers only). */
  trusted: boolean;
  now: number;
  leaseMs: number;
}

/**
 * Leases the oldest queued replica this worker may run: a model it serves with the same weights as the
 * worker whose result is being checked, within its pixel budget, never one of a job its owner already ran
 * (a second opinion from the same account proves nothing), and, when it is not trusted, only replicas no
 * trusted peer was there for. PostgreSQL skips rows another claimer
 * holds; SQLite runs one writer at a time.
 */
export async function claimReplica(
  db: Kysely<Database>,
  dialect: Dialect,
  c: ReplicaClaim,
): Promise<ReplicaRow | undefined> {
  if (c.models.length === 0) return undefined;
  const servable = sql.join(
    c.models.map((m) =>
      m.fingerprint === null
        ? sql`(model = ${m.model} and fingerprint is null)`
        : sql`(model = ${m.model} and fingerprint = ${m.fingerprint})`,
    ),
    sql` or `,
  );
  const lock = dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const result = await sql<ReplicaRow>`
    update replicas set state = 'leased', lease_id = ${c.leaseId}, worker_id = ${c.workerId},
      leased_at = ${c.now}, lease_expires_at = ${c.now + c.leaseMs}, attempts = attempts + 1
    where id = (
      select id from replicas
      where state = 'queued' and pixels <= ${c.maxPixels} and (${servable})
        ${c.trusted ? sql`` : sql`and trusted_only = 0`}
        and excluded_owner_a <> ${c.ownerId}
        and (excluded_owner_b is null or excluded_owner_b <> ${c.ownerId})
      order by created_at, id limit 1 ${lock}
    ) and state = 'queued'
      -- A paused worker (fairness/) takes nothing, replicas included.
      and exists (select 1 from workers where id = ${c.workerId} and paused_at is null)
    returning *`.execute(db);
  return result.rows[0];
}

export async function heartbeatReplica(
  db: Kysely<Database>,
  p: { id: string; leaseId: string; leaseExpiresAt: number },
): Promise<boolean> {
  const r = await db
    .updateTable('replicas')
    .set({ lease_expires_at: p.leaseExpiresAt })
    .where('id', '=', p.id)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * A replica's CLIP embedding, sent under its lease before the PNG (a later one replaces it until then);
 * false when the caller does not hold the lease.
 */
export async function setReplicaEmbedding(
  db: Kysely<Database>,
  p: { id: string; leaseId: string; workerId: string; embedding: Buffer; model: string | null },
): Promise<boolean> {
  const r = await db
    .updateTable('replicas')
    .set({ embedding: p.embedding, embedding_model: p.model, embedding_lease_id: p.leaseId })
    .where('id', '=', p.id)
    .where('lease_id', '=', p.leaseId)
    .where('worker_id', '=', p.workerId)
    .where('state', '=', 'leased')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function completeReplica(
  db: Kysely<Database>,
  p: { id: string; leaseId: string; now: number },
): Promise<ReplicaRow | undefined> {
  return db
    .updateTable('replicas')
    .set({ state: 'done', finished_at: p.now, lease_expires_at: null })
    .where('id', '=', p.id)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .returningAll()
    .executeTakeFirst();
}

/**
 * A failed (or refused) replica run: back to the queue for another worker until it has used its attempts.
 * `giveBack` (a worker shutting down) also returns the attempt. A bad worker must not be able to use up a
 * second opinion's attempts by itself, hence `excludeOwner`.
 */
export async function requeueReplica(
  db: Kysely<Database>,
  p: {
    id: string;
    leaseId: string;
    reason: string | null;
    now: number;
    giveBack: boolean;
    /** An account whose worker failed or botched it does not get it again (if a slot is free). */
    excludeOwner?: string;
  },
): Promise<ReplicaRow | undefined> {
  const attempts = p.giveBack ? sql<number>`attempts - 1` : sql<number>`attempts`;
  const requeue = sql<boolean>`(${attempts} < max_attempts)`;
  return db
    .updateTable('replicas')
    .set({
      state: sql`case when ${requeue} then 'queued' else 'failed' end`,
      finished_at: sql`case when ${requeue} then null else cast(${p.now} as bigint) end`,
      attempts,
      last_error: p.reason,
      lease_id: null,
      worker_id: null,
      lease_expires_at: null,
      ...(p.excludeOwner ? { excluded_owner_b: sql`coalesce(excluded_owner_b, ${p.excludeOwner})` } : {}),
    })
    .where('id', '=', p.id)
    .where('lease_id', '=', p.leaseId)
    .where('state', '=', 'leased')
    .returningAll()
    .executeTakeFirst();
}

/** Takes back replica leases whose deadline passed (the reaper); those out of attempts fail. */
export async function expireReplicaLeases(db: Kysely<Database>, now: number): Promise<ReplicaRow[]> {
  const exhausted = sql<boolean>`attempts >= max_attempts`;
  return db
    .updateTable('replicas')
    .set({
      state: sql`case when ${exhausted} then 'failed' else 'queued' end`,
      finished_at: sql`case when ${exhausted} then cast(${now} as bigint) else null end`,
      last_error: 'The worker stopped responding (lease expired).',
      lease_id: null,
      worker_id: null,
      lease_expires_at: null,
    })
    .where('state', '=', 'leased')
    .where('lease_expires_at', '<', now)
    .returningAll()
    .execute();
}

/**
 * Locks the replicas checking a worker's unverified results (PostgreSQL, in id order), before a suspension
 * withdraws those results: replicas before results, the order a replica's completion takes
 * (trust/lock-order.ts). The other order deadlocked again and again in the population test.
 */
export async function lockReplicasOfUnverified(
  db: Kysely<Database>,
  dialect: Dialect,
  workerId: string,
): Promise<void> {
  if (dialect !== 'postgres') return;
  await db
    .selectFrom('replicas')
    .select('id')
    .where('job_id', 'in', (eb) =>
      eb
        .selectFrom('trust_results')
        .select('job_id')
        .where('worker_id', '=', workerId)
        .where('status', '=', 'unverified'),
    )
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** Gives up replicas nobody eligible took in time, and those of given jobs (their worker was found bad). */
export async function abandonReplicas(
  db: Kysely<Database>,
  p: { now: number; queuedBefore?: number; jobIds?: readonly string[] },
): Promise<Pick<ReplicaRow, 'id' | 'job_id'>[]> {
  let q = db
    .updateTable('replicas')
    .set({ state: 'abandoned', finished_at: p.now })
    .where('state', '=', 'queued');
  if (p.queuedBefore !== undefined) q = q.where('created_at', '<', p.queuedBefore);
  if (p.jobIds !== undefined) {
    if (p.jobIds.length === 0) return [];
    q = q.where('job_id', 'in', p.jobIds);
  }
  return q.returning(['id', 'job_id']).execute();
}

/**
 * Trusted workers seen lately (not revoked, not of the excluded accounts) that reported these weights
 * for the model: when there are any, a new replica waits for one of them.
 */
export async function trustedPeers(
  db: Kysely<Database>,
  p: { model: string; fingerprint: string; excludedOwners: readonly string[]; seenSince: number },
): Promise<number> {
  const row = await db
    .selectFrom('worker_fingerprints as f')
    .innerJoin('worker_trust as t', 't.worker_id', 'f.worker_id')
    .innerJoin('workers as w', 'w.id', 'f.worker_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('f.model', '=', p.model)
    .where('f.sha256', '=', p.fingerprint)
    .where('t.state', '=', 'trusted')
    .where('w.revoked_at', 'is', null)
    .where('w.last_seen_at', '>=', p.seenSince)
    .where('w.user_id', 'not in', p.excludedOwners)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
