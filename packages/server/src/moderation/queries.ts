// Moderation's SQL: one function per statement. State changes are fenced on the state they expect
// (`… and state = 'open'`, `… and suspended_at is null`), so two moderators acting at once cannot both
// succeed, and the loser learns it from the row count.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/connect.js';
import { preparedPerDialect } from '../db/prepared-per-dialect.js';
import { rowsBefore } from '../db/keyset.js';
import type { Database, HiddenImagesTable, ReportsTable, ReportStateColumn } from '../db/schema.js';

export type ReportRow = Selectable<ReportsTable>;

/** A finished image with what moderators need to judge it, whatever its visibility. */
export async function moderatedImages(db: Kysely<Database>, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('jobs')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .innerJoin('users', 'users.id', 'jobs.user_id')
    .leftJoin('hidden_images', 'hidden_images.image_id', 'jobs.id')
    .select([
      'jobs.id',
      'jobs.generation_id as generationId',
      'jobs.user_id as ownerId',
      'jobs.result_sha256 as sha256',
      'users.suspended_at as ownerSuspendedAt',
      'generations.prompt',
      'generations.negative_prompt as negativePrompt',
      'generations.model',
      'generations.width',
      'generations.height',
      'generations.created_at as createdAt',
      'hidden_images.reason as hiddenReason',
      'hidden_images.hidden_at as hiddenAt',
    ])
    .where('jobs.id', 'in', ids)
    .where('jobs.state', '=', 'done')
    .where('jobs.result_sha256', 'is not', null)
    .execute();
}
export type ModeratedImageRow = Awaited<ReturnType<typeof moderatedImages>>[number];

export async function insertReport(db: Kysely<Database>, row: Insertable<ReportsTable>): Promise<void> {
  await db.insertInto('reports').values(row).execute();
}

export async function findOpenReport(db: Kysely<Database>, imageId: string, reporterId: string) {
  return db
    .selectFrom('reports')
    .selectAll()
    .where('image_id', '=', imageId)
    .where('reporter_id', '=', reporterId)
    .where('state', '=', 'open')
    .executeTakeFirst();
}

export async function findReport(db: Kysely<Database>, id: string): Promise<ReportRow | undefined> {
  return db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Closes every open report on an image with one decision; returns how many it closed. */
export async function closeOpenReports(
  db: Kysely<Database>,
  p: { imageId: string; state: Exclude<ReportStateColumn, 'open'>; by: string; now: number },
): Promise<number> {
  const r = await db
    .updateTable('reports')
    .set({ state: p.state, resolved_at: p.now, resolved_by: p.by })
    .where('image_id', '=', p.imageId)
    .where('state', '=', 'open')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * One page of the queue: images with open reports, longest waiting first (by their oldest open report).
 * The cursor is the (first reported, image id) of the previous page's last group.
 */
export async function openReportGroups(
  db: Kysely<Database>,
  p: { limit: number; after?: readonly [number, string] },
) {
  let q = db
    .selectFrom('reports')
    .select((eb) => [
      'image_id as imageId',
      eb.fn.min<number>('created_at').as('firstAt'),
      eb.fn.max<number>('created_at').as('lastAt'),
      eb.fn.countAll<number | string>().as('open'),
    ])
    .where('state', '=', 'open')
    .groupBy('image_id');
  if (p.after) {
    const [firstAt, imageId] = p.after;
    q = q.having((eb) =>
      eb.or([
        eb(eb.fn.min('created_at'), '>', firstAt),
        eb.and([eb(eb.fn.min('created_at'), '=', firstAt), eb('image_id', '>', imageId)]),
      ]),
    );
  }
  const rows = await q
    .orderBy(sql`min(created_at)`)
    .orderBy('image_id')
    .limit(p.limit)
    .execute();
  return rows.map((r) => ({
    ...r,
    firstAt: Number(r.firstAt),
    lastAt: Number(r.lastAt),
    open: Number(r.open),
  }));
}

/** The newest `perImage` open reports of each image. */
export async function openReportsOf(db: Kysely<Database>, imageIds: readonly string[], perImage: number) {
  if (imageIds.length === 0) return [];
  return db
    .selectFrom((eb) =>
      eb
        .selectFrom('reports')
        .selectAll()
        .select(
          sql<number>`row_number() over (partition by image_id order by created_at desc, id desc)`.as('rank'),
        )
        .where('state', '=', 'open')
        .where('image_id', 'in', imageIds)
        .as('ranked'),
    )
    .selectAll()
    .where('rank', '<=', perImage)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function openReasonCounts(db: Kysely<Database>, imageIds: readonly string[]) {
  if (imageIds.length === 0) return [];
  const rows = await db
    .selectFrom('reports')
    .select((eb) => ['image_id as imageId', 'reason', eb.fn.countAll<number | string>().as('count')])
    .where('state', '=', 'open')
    .where('image_id', 'in', imageIds)
    .groupBy(['image_id', 'reason'])
    .orderBy('image_id')
    .orderBy('reason')
    .execute();
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

/** Hides an image unless it already is; true when this call hid it. */
export async function hideImage(db: Kysely<Database>, row: Insertable<HiddenImagesTable>): Promise<boolean> {
  const r = await db
    .insertInto('hidden_images')
    .values(row)
    .onConflict((oc) => oc.column('image_id').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function unhideImage(db: Kysely<Database>, imageId: string): Promise<boolean> {
  const r = await db.deleteFrom('hidden_images').where('image_id', '=', imageId).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** Hidden images, most recently hidden first. */
export async function listHidden(
  db: Kysely<Database>,
  p: { limit: number; after?: readonly [number, string] },
) {
  let q = db.selectFrom('hidden_images').selectAll();
  if (p.after) q = q.where(rowsBefore('hidden_at', 'image_id', p.after));
  return q.orderBy('hidden_at', 'desc').orderBy('image_id', 'desc').limit(p.limit).execute();
}

export async function findUser(db: Kysely<Database>, id: string) {
  return db
    .selectFrom('users')
    .select(['id', 'role', 'suspended_at', 'suspension_reason', 'deleted_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}
export type StandingRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

/**
 * Whether the user may have work queued: not suspended, not deleted. Read inside the transaction that
 * queues it, because the auth check before it can be stale (a suspension or deletion committed since,
 * or another replica's few-second key cache). PostgreSQL share-locks the row, so a suspension or deletion
 * in flight (it updates this row) either committed first and is seen here, or waits until this
 * transaction's jobs are in and then cancels them with the rest; SQLite runs one write transaction at a
 * time.
 */
export async function mayQueueWork(db: Kysely<Database>, dialect: Dialect, userId: string): Promise<boolean> {
  const [row] = await (dialect === 'postgres' ? accountStateShared : accountState)(db, userId);
  return row !== undefined && row.suspended_at === null && row.deleted_at === null;
}

// Every submission runs one of these: compiled once per dialect (db/prepared-per-dialect.ts).
const accountState = preparedPerDialect(1, (db, userId: string) =>
  db.selectFrom('users').select(['suspended_at', 'deleted_at']).where('id', '=', userId),
);
const accountStateShared = preparedPerDialect(1, (db, userId: string) =>
  db.selectFrom('users').select(['suspended_at', 'deleted_at']).where('id', '=', userId).forShare(),
);

/** Fenced on "not suspended yet": true when this call suspended the user. */
export async function suspendUser(
  db: Kysely<Database>,
  p: { id: string; reason: string; now: number },
): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ suspended_at: p.now, suspension_reason: p.reason })
    .where('id', '=', p.id)
    .where('suspended_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function unsuspendUser(db: Kysely<Database>, id: string): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ suspended_at: null, suspension_reason: null })
    .where('id', '=', id)
    .where('suspended_at', 'is not', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Signs a suspended user out everywhere: their web sessions end with the suspension. */
export async function deleteSessions(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
}

/** The audit log, newest first, filtered; the cursor is the (created_at, id) of the last row. */
export async function listAudit(
  db: Kysely<Database>,
  p: AuditFilter & { limit: number; after?: readonly [number, string] },
) {
  let q = db.selectFrom('audit_log').selectAll();
  if (p.actor !== undefined) q = q.where('actor_id', '=', p.actor);
  if (p.action !== undefined) q = q.where('action', '=', p.action);
  if (p.targetType !== undefined) q = q.where('target_type', '=', p.targetType);
  if (p.targetId !== undefined) q = q.where('target_id', '=', p.targetId);
  if (p.after) q = q.where(rowsBefore('created_at', 'id', p.after));
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(p.limit).execute();
}
