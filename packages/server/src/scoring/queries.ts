// Every SQL statement of the scoring domain: embeddings in, predictors, the queue of new embeddings, the
// re-scoring pass (keyset over image ids), scores out. An embedding counts only when its job is done under
// the lease it was sent with (the join on jobs in each reader), so one from a lost lease never scores or ships.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AestheticPredictorsTable, ImageEmbeddingsTable, ScoringDatabase } from './tables.js';

export type PredictorRow = Selectable<AestheticPredictorsTable>;

/**
 * Stores (or replaces) the image's embedding and queues it for the scorer, in one transaction. With
 * `keepSameLease` (the result was delivered already) an embedding sent under the same lease stays as it
 * is: answers false, and nothing changes.
 */
export async function storeEmbedding(
  db: Kysely<ScoringDatabase>,
  e: {
    imageId: string;
    leaseId: string;
    dim: number;
    data: Buffer;
    model: string | null;
    now: number;
    keepSameLease: boolean;
  },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = {
      image_id: e.imageId,
      lease_id: e.leaseId,
      dim: e.dim,
      data: e.data,
      model: e.model,
      created_at: e.now,
    };
    const written = await trx
      .insertInto('image_embeddings')
      .values(row)
      .onConflict((oc) => {
        const update = oc.column('image_id').doUpdateSet({
          lease_id: row.lease_id,
          dim: row.dim,
          data: row.data,
          model: row.model,
          created_at: row.created_at,
        });
        return e.keepSameLease ? update.where('image_embeddings.lease_id', '<>', e.leaseId) : update;
      })
      .executeTakeFirst();
    if (Number(written.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await trx
      .insertInto('scoring_queue')
      .values({ image_id: e.imageId, queued_at: e.now })
      .onConflict((oc) => oc.column('image_id').doNothing())
      .execute();
    return true;
  });
}

/** The embedding stored for an image under this lease, if any. */
export async function embeddingOfLease(
  db: Kysely<ScoringDatabase>,
  imageId: string,
  leaseId: string,
): Promise<Pick<ImageEmbeddingsTable, 'data' | 'model'> | undefined> {
  return db
    .selectFrom('image_embeddings')
    .select(['data', 'model'])
    .where('image_id', '=', imageId)
    .where('lease_id', '=', leaseId)
    .executeTakeFirst();
}

export async function insertPredictor(db: Kysely<ScoringDatabase>, row: PredictorRow): Promise<void> {
  await db.insertInto('aesthetic_predictors').values(row).execute();
}

/** The current predictor: the newest installed. */
export async function currentPredictor(db: Kysely<ScoringDatabase>): Promise<PredictorRow | undefined> {
  return db
    .selectFrom('aesthetic_predictors')
    .selectAll()
    .orderBy('installed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface EmbeddingRow {
  imageId: string;
  data: Buffer;
}

/** Valid embeddings (job done under the embedding's lease) after `after`, in image id order. */
export async function validEmbeddingsPage(
  db: Kysely<ScoringDatabase>,
  after: string | null,
  limit: number,
): Promise<EmbeddingRow[]> {
  let q = db
    .selectFrom('image_embeddings as e')
    .innerJoin('jobs as j', (join) =>
      join.onRef('j.id', '=', 'e.image_id').onRef('j.lease_id', '=', 'e.lease_id').on('j.state', '=', 'done'),
    )
    .select(['e.image_id as imageId', 'e.data as data'])
    .orderBy('e.image_id')
    .limit(limit);
  if (after !== null) q = q.where('e.image_id', '>', after);
  return q.execute();
}

export interface QueuedRow {
  imageId: string;
  data: Buffer | null;
  embeddingLease: string | null;
  jobLease: string | null;
  jobState: string;
}

/** Queued embeddings after `after`, with what decides their fate: the job's state and lease. */
export async function queuePage(
  db: Kysely<ScoringDatabase>,
  after: string | null,
  limit: number,
): Promise<QueuedRow[]> {
  let q = db
    .selectFrom('scoring_queue as q')
    .innerJoin('jobs as j', 'j.id', 'q.image_id')
    .leftJoin('image_embeddings as e', 'e.image_id', 'q.image_id')
    .select([
      'q.image_id as imageId',
      'e.data as data',
      'e.lease_id as embeddingLease',
      'j.lease_id as jobLease',
      'j.state as jobState',
    ])
    .orderBy('q.image_id')
    .limit(limit);
  if (after !== null) q = q.where('q.image_id', '>', after);
  return q.execute();
}

export async function dequeue(db: Kysely<ScoringDatabase>, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('scoring_queue').where('image_id', 'in', ids).execute();
}

/** Writes (or overwrites) the scores of one predictor. */
export async function upsertScores(
  db: Kysely<ScoringDatabase>,
  predictorId: string,
  scores: readonly { imageId: string; score: number }[],
  now: number,
): Promise<void> {
  if (scores.length === 0) return;
  await db
    .insertInto('image_scores')
    .values(
      scores.map((s) => ({
        image_id: s.imageId,
        aesthetic_score: s.score,
        model: predictorId,
        scored_at: now,
      })),
    )
    .onConflict((oc) =>
      oc.column('image_id').doUpdateSet((eb) => ({
        aesthetic_score: eb.ref('excluded.aesthetic_score'),
        model: eb.ref('excluded.model'),
        scored_at: eb.ref('excluded.scored_at'),
      })),
    )
    .execute();
}

/**
 * Moves the re-scoring pass from `from` to `to`. Fenced on `from`: when two coordinators score the same
 * page, only one advances the cursor (the other's scores are the same values, written twice).
 */
export async function advanceSweep(
  db: Kysely<ScoringDatabase>,
  p: { id: string; from: string | null; to: string | null; visited: number; finishedAt: number | null },
): Promise<boolean> {
  const result = await db
    .updateTable('aesthetic_predictors')
    .set((eb) => ({
      sweep_after: p.to,
      sweep_visited: eb('sweep_visited', '+', p.visited),
      sweep_finished_at: p.finishedAt,
    }))
    .where('id', '=', p.id)
    .where('sweep_finished_at', 'is', null)
    .where(p.from === null ? sql<boolean>`sweep_after is null` : sql<boolean>`sweep_after = ${p.from}`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Counts for the admin's progress view (each one statement). */
export async function scoringCounts(db: Kysely<ScoringDatabase>, predictorId: string | null) {
  const n = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? 0);
  const count = sql<number>`count(*)`.as('n');
  const embeddings = n(
    await db
      .selectFrom('image_embeddings as e')
      .innerJoin('jobs as j', (join) =>
        join
          .onRef('j.id', '=', 'e.image_id')
          .onRef('j.lease_id', '=', 'e.lease_id')
          .on('j.state', '=', 'done'),
      )
      .select(count)
      .executeTakeFirst(),
  );
  const scored =
    predictorId === null
      ? 0
      : n(
          await db
            .selectFrom('image_scores')
            .where('model', '=', predictorId)
            .select(count)
            .executeTakeFirst(),
        );
  const queued = n(await db.selectFrom('scoring_queue').select(count).executeTakeFirst());
  return { embeddings, scored, queued };
}

/**
 * Valid embeddings of the images first…last (inclusive), for a release page. The embeddings are walked
 * and each one's job looked up, never the other way round: SQLite carried the id range over to the jobs
 * (j.id = e.image_id) and walked the page's 5,000 jobs to probe for embeddings, 11 ms a page when there
 * were none (a third of a 1,000,000-image release's main-thread CPU, bench/datasets.ts). CROSS JOIN is
 * SQLite's way to fix the order of a join (sqlite.org/optoverview.html#manual_control_of_query_plans_using_cross_join);
 * to PostgreSQL it is an inner join whose conditions are in WHERE, planned as it sees fit.
 */
export async function validEmbeddingsBetween(
  db: Kysely<ScoringDatabase>,
  first: string,
  last: string,
): Promise<EmbeddingRow[]> {
  return db
    .selectFrom('image_embeddings as e')
    .crossJoin('jobs as j')
    .whereRef('j.id', '=', 'e.image_id')
    .whereRef('j.lease_id', '=', 'e.lease_id')
    .where('j.state', '=', 'done')
    .select(['e.image_id as imageId', 'e.data as data'])
    .where('e.image_id', '>=', first)
    .where('e.image_id', '<=', last)
    .execute();
}
