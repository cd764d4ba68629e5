// Gold items (known answers), managed by moderators. One function per statement.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AnnotationGoldTable, AnnotationKindColumn, Database } from '../../db/schema.js';

export type GoldItemRow = Selectable<AnnotationGoldTable> & { answers: number; agreed: number };

/** Stores a gold item; false when a live one already covers this image (or pair) and kind. */
export async function insertGold(
  db: Kysely<Database>,
  row: Omit<Selectable<AnnotationGoldTable>, 'retired_at' | 'retired_by'>,
): Promise<boolean> {
  const inserted = await db
    .insertInto('annotation_gold')
    .values({ ...row, retired_at: null, retired_by: null })
    // The conflict target is the partial unique index annotation_gold_live.
    .onConflict((oc) => oc.columns(['kind', 'pair_key']).where('retired_at', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

function withCounts(db: Kysely<Database>) {
  return db
    .selectFrom('annotation_gold as g')
    .selectAll('g')
    .select((eb) => [
      eb
        .selectFrom('annotation_tasks as t')
        .select(sql<number>`count(*)`.as('n'))
        .whereRef('t.gold_id', '=', 'g.id')
        .where('t.answered_at', 'is not', null)
        .as('answers'),
      eb
        .selectFrom('annotation_tasks as t')
        .select(sql<number>`count(*)`.as('n'))
        .whereRef('t.gold_id', '=', 'g.id')
        .where('t.agreed', '=', 1)
        .as('agreed'),
    ]);
}

const counted = (
  r: Selectable<AnnotationGoldTable> & { answers: unknown; agreed: unknown },
): GoldItemRow => ({
  ...r,
  answers: Number(r.answers ?? 0),
  agreed: Number(r.agreed ?? 0),
});

export async function goldWithCounts(db: Kysely<Database>, id: string): Promise<GoldItemRow | undefined> {
  const row = await withCounts(db).where('g.id', '=', id).executeTakeFirst();
  return row && counted(row);
}

/** Newest first; the cursor is the (created_at, id) of the last row of the previous page. */
export async function listGold(
  db: Kysely<Database>,
  p: { kind?: AnnotationKindColumn; limit: number; before?: { createdAt: number; id: string } },
): Promise<GoldItemRow[]> {
  let q = withCounts(db);
  if (p.kind) q = q.where('g.kind', '=', p.kind);
  if (p.before) {
    const { createdAt, id } = p.before;
    q = q.where((eb) =>
      eb.or([
        eb('g.created_at', '<', createdAt),
        eb.and([eb('g.created_at', '=', createdAt), eb('g.id', '<', id)]),
      ]),
    );
  }
  const rows = await q.orderBy('g.created_at', 'desc').orderBy('g.id', 'desc').limit(p.limit).execute();
  return rows.map(counted);
}

/** Stops handing a gold item out; answers already given keep counting. False when unknown or retired. */
export async function retireGold(
  db: Kysely<Database>,
  p: { id: string; actorId: string; now: number },
): Promise<boolean> {
  const row = await db
    .updateTable('annotation_gold')
    .set({ retired_at: p.now, retired_by: p.actorId })
    .where('id', '=', p.id)
    .where('retired_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The pooled images' owners and prompt keys (gold pairs must share a prompt). */
export async function pooledImages(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<{ image_id: string; prompt_key: string }[]> {
  return db
    .selectFrom('annotation_images')
    .select(['image_id', 'prompt_key'])
    .where('image_id', 'in', [...ids])
    .execute();
}
