// Output safety's SQL: one function per statement. Verdicts are fenced on `state = 'pending'`, so two
// replicas classifying the same image cannot both write one.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, ImageSafetyState, ImageSafetyTable } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import { preparedPerDialect } from '../db/prepared-per-dialect.js';

export type SafetyRow = Selectable<ImageSafetyTable>;

/** Written with the state change that finished the job (workers/lease-service.ts). */
export async function insertSafetyRow(
  db: Kysely<Database>,
  p: { imageId: string; state: Extract<ImageSafetyState, 'pending' | 'unchecked'>; now: number },
): Promise<void> {
  await newSafetyRow(db, p.imageId, p.state, p.now);
}

// Every finished job writes one: compiled once per dialect (db/prepared-per-dialect.ts).
const newSafetyRow = preparedPerDialect(3, (db, imageId: string, state: ImageSafetyState, now: number) =>
  db
    .insertInto('image_safety')
    .values({
      image_id: imageId,
      state,
      nsfw_score: null,
      classes: null,
      model: null,
      claimed_until: null,
      last_error: null,
      created_at: now,
      classified_at: null,
    })
    .onConflict((oc) => oc.column('image_id').doNothing()),
);

/**
 * Claims the oldest pending image nobody is working on, for `claimMs`. A replica that dies mid-way
 * leaves a claim that simply runs out. PostgreSQL skips rows another replica is claiming right now.
 */
export async function claimPending(
  db: Kysely<Database>,
  dialect: Dialect,
  p: { now: number; claimMs: number },
): Promise<{ image_id: string; attempts: number; sha256: string | null } | undefined> {
  const free = sql`state = 'pending' and (claimed_until is null or claimed_until < ${p.now})`;
  const lock = dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const claimed = await sql<{ image_id: string; attempts: number }>`
    update image_safety set claimed_until = ${p.now + p.claimMs}, attempts = attempts + 1
    where image_id = (select image_id from image_safety where ${free}
                      order by created_at, image_id limit 1 ${lock})
      and ${free}
    returning image_id, attempts`.execute(db);
  const row = claimed.rows[0];
  if (!row) return undefined;
  const job = await db
    .selectFrom('jobs')
    .select('result_sha256')
    .where('id', '=', row.image_id)
    .executeTakeFirst();
  return { image_id: row.image_id, attempts: Number(row.attempts), sha256: job?.result_sha256 ?? null };
}

/** Stores the verdict; false when the image was no longer pending (another replica got there first). */
export async function storeVerdict(
  db: Kysely<Database>,
  p: { imageId: string; score: number; classes: string; model: string; now: number },
): Promise<boolean> {
  const r = await db
    .updateTable('image_safety')
    .set({
      state: 'classified',
      nsfw_score: p.score,
      classes: p.classes,
      model: p.model,
      classified_at: p.now,
      claimed_until: null,
      last_error: null,
    })
    .where('image_id', '=', p.imageId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function markHiddenByClassifier(db: Kysely<Database>, imageId: string): Promise<void> {
  await db.updateTable('image_safety').set({ hid: 1 }).where('image_id', '=', imageId).execute();
}

/** A failed attempt: released for a retry, or given up after `maxAttempts` (then it stays non-public). */
export async function recordClassifyError(
  db: Kysely<Database>,
  p: { imageId: string; error: string; maxAttempts: number },
): Promise<void> {
  await db
    .updateTable('image_safety')
    .set({
      state: sql`case when attempts >= ${p.maxAttempts} then 'failed' else 'pending' end`,
      claimed_until: null,
      last_error: p.error.slice(0, 500),
    })
    .where('image_id', '=', p.imageId)
    .where('state', '=', 'pending')
    .execute();
}

/** With no classifier configured, pending images (e.g. from before the switch) become public unchecked. */
export async function releaseAllPending(db: Kysely<Database>): Promise<number> {
  const r = await db
    .updateTable('image_safety')
    .set({ state: 'unchecked', claimed_until: null })
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function countPending(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('image_safety')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The safety side of some images with what hid them, for their owner's view. */
export async function safetyOfImages(db: Kysely<Database>, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('image_safety')
    .leftJoin('hidden_images', 'hidden_images.image_id', 'image_safety.image_id')
    .select([
      'image_safety.image_id as imageId',
      'image_safety.state',
      'image_safety.nsfw_score as score',
      'image_safety.hid',
      'hidden_images.reason as hiddenReason',
      'hidden_images.hidden_by as hiddenBy',
      'hidden_images.hidden_at as hiddenAt',
    ])
    .where('image_safety.image_id', 'in', ids)
    .execute();
}
export type ImageSafetyRow = Awaited<ReturnType<typeof safetyOfImages>>[number];

/**
 * The `punsafe` of images for dataset releases: the classifier's score, or null when no classifier has
 * judged it (NSFW_CLASSIFIER=off). Releases only contain public images, so every image asked about has
 * a row.
 */
export async function nsfwScores(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, number | null>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('image_safety')
    .select(['image_id', 'nsfw_score'])
    .where('image_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.image_id, r.nsfw_score]));
}
