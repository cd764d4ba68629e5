// What happened to a worker's results and standing (trust_events), newest first for its owner.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, TrustEventsTable } from '../../db/schema.js';
import { newId } from '../../ids.js';

export type EventRow = Selectable<TrustEventsTable>;

export async function insertEvent(
  db: Kysely<Database>,
  e: Omit<Insertable<TrustEventsTable>, 'id'>,
): Promise<void> {
  await db
    .insertInto('trust_events')
    .values({ id: newId(), ...e })
    .execute();
}

/** Newest first; the cursor is the (created_at, id) of the previous page's last row. */
export async function listEvents(
  db: Kysely<Database>,
  p: {
    workerId: string;
    limit: number;
    before?: { createdAt: number; id: string };
    kind?: TrustEventsTable['kind'];
  },
): Promise<EventRow[]> {
  let q = db.selectFrom('trust_events').selectAll().where('worker_id', '=', p.workerId);
  if (p.kind) q = q.where('kind', '=', p.kind);
  if (p.before) {
    const { createdAt, id } = p.before;
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '<', createdAt),
        eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
      ]),
    );
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(p.limit).execute();
}

/**
 * Workers of other accounts whose result for this job was refused by the same check and not yet forgiven
 * (with their owners): evidence that the request, not the worker, produces such pictures.
 */
export async function sameRefusalsByOthers(
  db: Kysely<Database>,
  p: { jobId: string; check: string; ownerId: string },
): Promise<{ workerId: string; ownerId: string; forgiven: boolean }[]> {
  const rows = await db
    .selectFrom('trust_events as e')
    .innerJoin('workers as w', 'w.id', 'e.worker_id')
    .select(['e.worker_id', 'w.user_id', 'e.kind'])
    .where('e.job_id', '=', p.jobId)
    .where('e.check_name', '=', p.check as NonNullable<TrustEventsTable['check_name']>)
    .where('e.kind', 'in', ['rejected', 'forgiven'])
    .where('w.user_id', '!=', p.ownerId)
    .execute();
  const byWorker = new Map<string, { workerId: string; ownerId: string; forgiven: boolean }>();
  for (const r of rows) {
    const seen = byWorker.get(r.worker_id) ?? { workerId: r.worker_id, ownerId: r.user_id, forgiven: false };
    if (r.kind === 'forgiven') seen.forgiven = true;
    byWorker.set(r.worker_id, seen);
  }
  return [...byWorker.values()];
}

/** The worker's owner and what the reputation page shows of its row. */
export async function workerOfOwner(db: Kysely<Database>, workerId: string) {
  return db
    .selectFrom('workers')
    .select(['id', 'user_id', 'models', 'jobs_failed', 'ms_per_mpx_step'])
    .where('id', '=', workerId)
    .executeTakeFirst();
}

/** Where to tell a worker's owner about it: the worker's name and the owner's email (none once deleted). */
export async function workerOwnerContact(
  db: Kysely<Database>,
  workerId: string,
): Promise<{ name: string; email: string } | undefined> {
  return db
    .selectFrom('workers as w')
    .innerJoin('users as u', 'u.id', 'w.user_id')
    .select(['w.name', 'u.email'])
    .where('w.id', '=', workerId)
    .where('u.deleted_at', 'is', null)
    .executeTakeFirst();
}
