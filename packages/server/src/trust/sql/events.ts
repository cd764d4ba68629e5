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
  p: { workerId: string; limit: number; before?: { createdAt: number; id: string } },
): Promise<EventRow[]> {
  let q = db.selectFrom('trust_events').selectAll().where('worker_id', '=', p.workerId);
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
