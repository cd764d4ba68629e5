// Drawing tasks: one function per statement. Every candidate is a pooled image that is public (the
// moderation domain's rule: finished, not hidden, owner did not withdraw), not the user's own, and not
// already handed to this user for this kind (the unique (user_id, kind, pair_key) index, which the
// insert relies on too). Candidates are taken in id order from a random starting id: image ids begin
// with random hex, so that is a uniform draw that costs an index seek, not a sort of the pool.
import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { AnnotationGoldTable, AnnotationKindColumn, Database } from '../../db/schema.js';
import { isPublicImage as isPublic } from '../../moderation/visibility.js';

export interface Draw {
  userId: string;
  /** A random id to start from; `wrap` draws from below it (the second half of the circle). */
  from: string;
  wrap: boolean;
}

/** "<smaller id>:<larger id>", whichever order the pair is shown in. */
export const pairKey = (a: string, b: string): string => (a < b ? `${a}:${b}` : `${b}:${a}`);

function pairKeySql(a: Expression<string>, b: Expression<string>): Expression<string> {
  return sql<string>`case when ${a} < ${b} then ${a} || ':' || ${b} else ${b} || ':' || ${a} end`;
}

function neverHanded(
  db: Kysely<Database>,
  userId: string,
  kind: AnnotationKindColumn,
  key: Expression<string>,
): Expression<SqlBool> {
  return sql<SqlBool>`not exists ${db
    .selectFrom('annotation_tasks as handed')
    .select('handed.id')
    .where('handed.user_id', '=', userId)
    .where('handed.kind', '=', kind)
    .where('handed.pair_key', '=', key)}`;
}

/** One image for a rating or flag task. */
export async function drawImage(
  db: Kysely<Database>,
  kind: 'rating' | 'flag',
  d: Draw,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('annotation_images as ai')
    .select('ai.image_id')
    .where('ai.image_id', d.wrap ? '<' : '>=', d.from)
    .where('ai.owner_id', '<>', d.userId)
    .where(neverHanded(db, d.userId, kind, sql.ref('ai.image_id')))
    .where(isPublic(db, sql.ref('ai.image_id')))
    .orderBy('ai.image_id')
    .limit(1)
    .executeTakeFirst();
  return row?.image_id;
}

/** Two images sharing a prompt key, for a pairwise task: an anchor from the pairable index, then a partner. */
export async function drawPair(db: Kysely<Database>, d: Draw): Promise<{ a: string; b: string } | undefined> {
  return db
    .selectFrom('annotation_images as a')
    .innerJoin('annotation_images as b', (join) =>
      join.onRef('b.prompt_key', '=', 'a.prompt_key').onRef('b.image_id', '<>', 'a.image_id'),
    )
    .select(['a.image_id as a', 'b.image_id as b'])
    .where('a.pairable', '=', sql.lit(1))
    .where('a.image_id', d.wrap ? '<' : '>=', d.from)
    .where('a.owner_id', '<>', d.userId)
    .where('b.owner_id', '<>', d.userId)
    .where(neverHanded(db, d.userId, 'pairwise', pairKeySql(sql.ref('a.image_id'), sql.ref('b.image_id'))))
    .where(isPublic(db, sql.ref('a.image_id')))
    .where(isPublic(db, sql.ref('b.image_id')))
    .orderBy('a.image_id')
    .orderBy('b.image_id')
    .limit(1)
    .executeTakeFirst();
}

export type GoldRow = Selectable<AnnotationGoldTable>;

/** A live gold item of this kind that the user may be given (same rules as any other task). */
export async function drawGold(
  db: Kysely<Database>,
  kind: AnnotationKindColumn,
  d: Draw,
): Promise<GoldRow | undefined> {
  return (
    db
      .selectFrom('annotation_gold as g')
      .innerJoin('annotation_images as ia', 'ia.image_id', 'g.image_a')
      .leftJoin('annotation_images as ib', 'ib.image_id', 'g.image_b')
      .selectAll('g')
      .where('g.kind', '=', kind)
      .where('g.retired_at', 'is', null)
      // Whoever set the known answer would only be checked against themselves.
      .where((eb) => eb.or([eb('g.created_by', 'is', null), eb('g.created_by', '<>', d.userId)]))
      .where('g.id', d.wrap ? '<' : '>=', d.from)
      .where('ia.owner_id', '<>', d.userId)
      .where((eb) => eb.or([eb('g.image_b', 'is', null), eb('ib.owner_id', '<>', d.userId)]))
      .where(neverHanded(db, d.userId, kind, sql.ref('g.pair_key')))
      .where(isPublic(db, sql.ref('g.image_a')))
      .where((eb) => eb.or([eb('g.image_b', 'is', null), isPublic(db, sql.ref<string>('g.image_b'))]))
      .orderBy('g.id')
      .limit(1)
      .executeTakeFirst()
  );
}

/** Unanswered, unexpired tasks the user holds (through the partial index on open tasks). */
export async function countOpenTasks(db: Kysely<Database>, userId: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('annotation_tasks')
    .select((eb) => eb.fn.countAll<number>().as('open'))
    .where('user_id', '=', userId)
    .where('answered_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.open);
}

export interface NewTask {
  id: string;
  user_id: string;
  kind: AnnotationKindColumn;
  image_a: string;
  image_b: string | null;
  pair_key: string;
  gold_id: string | null;
  created_at: number;
  expires_at: number;
}

/** Hands out a task; false when a concurrent hand-out gave this user the same image or pair first. */
export async function insertTask(db: Kysely<Database>, task: NewTask): Promise<boolean> {
  const row = await db
    .insertInto('annotation_tasks')
    .values(task)
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'pair_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export interface ShownImage {
  id: string;
  prompt: string;
  width: number;
  height: number;
  sha256: string;
}

/** What a task shows: the images' prompt, size and stored file. */
export async function shownImages(db: Kysely<Database>, ids: readonly string[]): Promise<ShownImage[]> {
  const rows = await db
    .selectFrom('jobs as j')
    .innerJoin('generations as g', 'g.id', 'j.generation_id')
    .select(['j.id', 'g.prompt', 'g.width', 'g.height', 'j.result_sha256'])
    .where('j.id', 'in', [...ids])
    .execute();
  return rows.map((r) => ({
    id: r.id,
    prompt: r.prompt,
    width: r.width,
    height: r.height,
    sha256: r.result_sha256 ?? '',
  }));
}

/** The stored file of image `index` of the user's task, while that image is public. */
export async function taskImageSha256(
  db: Kysely<Database>,
  p: { taskId: string; userId: string; index: 0 | 1 },
): Promise<string | undefined> {
  const column = p.index === 0 ? 't.image_a' : 't.image_b';
  const row = await db
    .selectFrom('annotation_tasks as t')
    .innerJoin('jobs as j', 'j.id', column)
    .select('j.result_sha256')
    .where('t.id', '=', p.taskId)
    .where('t.user_id', '=', p.userId)
    .where(isPublic(db, sql.ref('j.id')))
    .executeTakeFirst();
  return row?.result_sha256 ?? undefined;
}

/** Makes sure the user has a rater row (answers lock it; counters live there). */
export async function ensureRater(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await db
    .insertInto('annotation_raters')
    .values({ user_id: userId, created_at: now, excluded_at: null })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
}

/** The live gold item for this image (or pair) and kind, if there is one that `userId` did not set. */
export async function liveGoldId(
  db: Kysely<Database>,
  p: { kind: AnnotationKindColumn; pairKey: string; userId: string },
): Promise<string | undefined> {
  const row = await db
    .selectFrom('annotation_gold')
    .select('id')
    .where('kind', '=', p.kind)
    .where('pair_key', '=', p.pairKey)
    .where('retired_at', 'is', null)
    .where((eb) => eb.or([eb('created_by', 'is', null), eb('created_by', '<>', p.userId)]))
    .executeTakeFirst();
  return row?.id;
}
