// SQL of the datasets domain's own tables (dataset_releases, dataset_settings): one function per statement.
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { DatasetDatabase, DatasetReleasesTable } from './tables.js';
import { rowsBefore } from '../db/keyset.js';

export type ReleaseRow = Selectable<DatasetReleasesTable>;

export async function findRelease(
  db: Kysely<DatasetDatabase>,
  name: string,
): Promise<ReleaseRow | undefined> {
  return db.selectFrom('dataset_releases').selectAll().where('name', '=', name).executeTakeFirst();
}

/** Claims a new release name; false when a row with that name exists (see takeOverRelease). */
export async function insertBuildingRelease(
  db: Kysely<DatasetDatabase>,
  p: { name: string; path: string; now: number; startedBy: string | null },
): Promise<boolean> {
  const r = await db
    .insertInto('dataset_releases')
    .values({
      name: p.name,
      state: 'building',
      previous: null,
      path: p.path,
      created_at: p.now,
      updated_at: p.now,
      finished_at: null,
      counts: null,
      manifest_sha256: null,
      error: null,
      started_by: p.startedBy,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/**
 * Re-claims a name whose earlier attempt failed, or whose builder stopped heartbeating before
 * `staleBefore` (its coordinator died). Fenced on what was seen, so only one claimant wins.
 */
export async function takeOverRelease(
  db: Kysely<DatasetDatabase>,
  p: { name: string; path: string; now: number; staleBefore: number; startedBy: string | null },
): Promise<boolean> {
  const r = await db
    .updateTable('dataset_releases')
    .set({
      state: 'building',
      path: p.path,
      created_at: p.now,
      updated_at: p.now,
      finished_at: null,
      error: null,
      started_by: p.startedBy,
    })
    .where('name', '=', p.name)
    .where((eb) =>
      eb.or([
        eb('state', '=', 'failed'),
        eb.and([eb('state', '=', 'building'), eb('updated_at', '<', p.staleBefore)]),
      ]),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function heartbeatRelease(
  db: Kysely<DatasetDatabase>,
  name: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('dataset_releases')
    .set({ updated_at: now })
    .where('name', '=', name)
    .where('state', '=', 'building')
    .execute();
}

export async function markReleaseReady(
  db: Kysely<DatasetDatabase>,
  p: {
    name: string;
    path: string;
    previous: string | null;
    counts: string;
    manifestSha256: string;
    now: number;
  },
): Promise<void> {
  await db
    .updateTable('dataset_releases')
    .set({
      state: 'ready',
      path: p.path,
      previous: p.previous,
      counts: p.counts,
      manifest_sha256: p.manifestSha256,
      finished_at: p.now,
      updated_at: p.now,
    })
    .where('name', '=', p.name)
    .where('state', '=', 'building')
    .execute();
}

export async function markReleaseFailed(
  db: Kysely<DatasetDatabase>,
  p: { name: string; error: string; now: number },
): Promise<void> {
  await db
    .updateTable('dataset_releases')
    .set({ state: 'failed', error: p.error.slice(0, 2000), finished_at: p.now, updated_at: p.now })
    .where('name', '=', p.name)
    .where('state', '=', 'building')
    .execute();
}

/** Ready releases, newest first, after a (created_at, name) keyset cursor. */
export async function listReadyReleases(
  db: Kysely<DatasetDatabase>,
  p: { limit: number; before?: readonly [number, string] },
): Promise<ReleaseRow[]> {
  let q = db
    .selectFrom('dataset_releases')
    .selectAll()
    .where('state', '=', 'ready')
    .orderBy('created_at', 'desc')
    .orderBy('name', 'desc')
    .limit(p.limit);
  if (p.before) q = q.where(rowsBefore('created_at', 'name', p.before));
  return q.execute();
}

export async function namesStartingWith(db: Kysely<DatasetDatabase>, prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('dataset_releases')
    .select('name')
    .where('name', 'like', `${prefix}%`)
    .execute();
  return rows.map((r) => r.name);
}

/** The settings row, created with a fresh random secret the first time anyone asks. */
export async function settingsRow(db: Kysely<DatasetDatabase>, now: number) {
  await db
    .insertInto('dataset_settings')
    .values({
      id: 1,
      secret: randomBytes(32).toString('hex'),
      interval_ms: null,
      next_at: null,
      updated_at: now,
      updated_by: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return db.selectFrom('dataset_settings').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
}

export async function updateSchedule(
  db: Kysely<DatasetDatabase>,
  p: { intervalMs: number | null; nextAt: number | null; now: number; by: string | null },
): Promise<void> {
  await db
    .updateTable('dataset_settings')
    .set({ interval_ms: p.intervalMs, next_at: p.nextAt, updated_at: p.now, updated_by: p.by })
    .where('id', '=', 1)
    .execute();
}

/** Moves a due schedule forward, fenced on the next_at this coordinator saw: one replica wins a slot. */
export async function claimScheduledSlot(
  db: Kysely<DatasetDatabase>,
  p: { seenNextAt: number; nextAt: number },
): Promise<boolean> {
  const r = await db
    .updateTable('dataset_settings')
    .set({ next_at: p.nextAt })
    .where('id', '=', 1)
    .where('next_at', '=', p.seenNextAt)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
