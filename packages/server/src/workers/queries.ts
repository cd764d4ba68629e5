import type { Kysely, Selectable } from 'kysely';
import type { Database, WorkersTable } from '../db/schema.js';

export type WorkerRow = Selectable<WorkersTable>;

export async function insertWorker(
  db: Kysely<Database>,
  row: Omit<WorkerRow, 'jobs_done' | 'jobs_failed' | 'jobs_excused'>,
) {
  await db.insertInto('workers').values(row).execute();
}

export async function findActiveWorkerByKeyHash(db: Kysely<Database>, keyHash: string) {
  return db
    .selectFrom('workers')
    .innerJoin('users', 'users.id', 'workers.user_id')
    .select(['workers.id as workerId', 'workers.user_id as userId', 'users.suspended_at as suspendedAt'])
    .where('workers.key_hash', '=', keyHash)
    .where('workers.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** What the worker says it can do, refreshed on each pop. */
export async function updateCapabilities(
  db: Kysely<Database>,
  p: Pick<WorkerRow, 'id' | 'backend' | 'models' | 'max_pixels' | 'hardware' | 'version' | 'last_seen_at'>,
): Promise<void> {
  const { id, ...set } = p;
  await db.updateTable('workers').set(set).where('id', '=', id).execute();
}

export async function touchWorker(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('workers').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function listWorkers(db: Kysely<Database>, userId: string): Promise<WorkerRow[]> {
  return db.selectFrom('workers').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

export async function revokeWorker(db: Kysely<Database>, p: { id: string; userId: string; now: number }) {
  const r = await db
    .updateTable('workers')
    .set({ revoked_at: p.now })
    .where('id', '=', p.id)
    .where('user_id', '=', p.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function countOnlineWorkers(db: Kysely<Database>, since: number): Promise<number> {
  const r = await db
    .selectFrom('workers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('revoked_at', 'is', null)
    .where('last_seen_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
