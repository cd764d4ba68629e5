// Appeals' SQL: one function per statement. Decisions are fenced on `state = 'open'`, so of two
// moderators deciding at once only one succeeds, and the other learns it from the row count.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { AppealsTable, AppealStateColumn, Database } from '../db/schema.js';
import { rowsBefore } from '../db/keyset.js';

export type AppealRow = Selectable<AppealsTable>;

/** A finished image of this owner with what hid it (if anything). */
export async function ownedImageForAppeal(db: Kysely<Database>, imageId: string, ownerId: string) {
  return db
    .selectFrom('jobs')
    .leftJoin('hidden_images', 'hidden_images.image_id', 'jobs.id')
    .leftJoin('image_safety', 'image_safety.image_id', 'jobs.id')
    .select([
      'jobs.id',
      'hidden_images.reason as hiddenReason',
      'hidden_images.hidden_by as hiddenBy',
      'image_safety.hid',
      'image_safety.nsfw_score as score',
    ])
    .where('jobs.id', '=', imageId)
    .where('jobs.user_id', '=', ownerId)
    .where('jobs.state', '=', 'done')
    .executeTakeFirst();
}

export async function insertAppeal(db: Kysely<Database>, row: Insertable<AppealsTable>): Promise<void> {
  await db.insertInto('appeals').values(row).execute();
}

export async function findAppeal(db: Kysely<Database>, id: string) {
  return db
    .selectFrom('appeals')
    .innerJoin('jobs', 'jobs.id', 'appeals.image_id')
    .selectAll('appeals')
    .select('jobs.user_id as ownerId')
    .where('appeals.id', '=', id)
    .executeTakeFirst();
}

export async function openAppealOf(db: Kysely<Database>, imageId: string) {
  return db
    .selectFrom('appeals')
    .select('id')
    .where('image_id', '=', imageId)
    .where('state', '=', 'open')
    .executeTakeFirst();
}

/** The latest appeal of each image, for owners' views. */
export async function latestAppeals(db: Kysely<Database>, imageIds: readonly string[]) {
  if (imageIds.length === 0) return new Map<string, Pick<AppealRow, 'id' | 'state'>>();
  const rows = await db
    .selectFrom('appeals')
    .select(['id', 'image_id', 'state', 'created_at'])
    .where('image_id', 'in', imageIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  // Ascending, so the last one written per image wins.
  return new Map(rows.map((r) => [r.image_id, { id: r.id, state: r.state }]));
}

export async function decideAppeal(
  db: Kysely<Database>,
  p: { id: string; state: Exclude<AppealStateColumn, 'open'>; by: string; note: string; now: number },
): Promise<boolean> {
  const r = await db
    .updateTable('appeals')
    .set({ state: p.state, decided_at: p.now, decided_by: p.by, decision_note: p.note })
    .where('id', '=', p.id)
    .where('state', '=', 'open')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

type After = readonly [number, string];

/** One user's appeals, newest first. */
export async function appealsOfUser(
  db: Kysely<Database>,
  p: { userId: string; limit: number; after?: After },
) {
  let q = db.selectFrom('appeals').selectAll().where('user_id', '=', p.userId);
  if (p.after) q = q.where(rowsBefore('created_at', 'id', p.after));
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(p.limit).execute();
}

/** The moderators' queue: appeals in one state, oldest first, with the image's prompt. */
export async function appealQueue(
  db: Kysely<Database>,
  p: { state: AppealStateColumn; limit: number; after?: After },
) {
  let q = db
    .selectFrom('appeals')
    .innerJoin('jobs', 'jobs.id', 'appeals.image_id')
    .innerJoin('generations', 'generations.id', 'jobs.generation_id')
    .selectAll('appeals')
    .select(['generations.prompt', 'jobs.user_id as ownerId'])
    .where('appeals.state', '=', p.state);
  if (p.after) {
    const [createdAt, id] = p.after;
    q = q.where((eb) =>
      eb.or([
        eb('appeals.created_at', '>', createdAt),
        eb.and([eb('appeals.created_at', '=', createdAt), eb('appeals.id', '>', id)]),
      ]),
    );
  }
  return q.orderBy('appeals.created_at').orderBy('appeals.id').limit(p.limit).execute();
}

export async function appealCounts(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('appeals')
    .select(['source', 'rule', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['source', 'rule', 'state'])
    .orderBy('source')
    .orderBy('rule')
    .execute();
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

/**
 * Score band 0–9 of a score in [0, 1] (the last band includes 1), in SQL both dialects understand
 * (SQLite may lack floor()). Literals, not parameters: PostgreSQL cannot type parameters inside CASE.
 */
function band(column: string) {
  const ref = sql.ref(column);
  const cases = Array.from(
    { length: 9 },
    (_, i) => sql`when ${ref} < ${sql.lit((i + 1) / 10)} then ${sql.lit(i)}`,
  );
  return sql<number>`case ${sql.join(cases, sql` `)} else 9 end`;
}

/** Images the classifier hid, per score band. */
export async function classifierHidesByBand(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('image_safety')
    .select([band('nsfw_score').as('band'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('hid', '=', 1)
    .groupBy(sql`1`)
    .execute();
  return rows.map((r) => ({ band: Number(r.band), n: Number(r.n) }));
}

/** Overturned classifier appeals, per score band. */
export async function classifierOverturnsByBand(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('appeals')
    .select([band('score').as('band'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('source', '=', 'classifier')
    .where('state', '=', 'overturned')
    .where('score', 'is not', null)
    .groupBy(sql`1`)
    .execute();
  return rows.map((r) => ({ band: Number(r.band), n: Number(r.n) }));
}
