// Phase 2 of a release: DuckDB turns the staged rows into every Parquet table. Ratings and preferences
// are kept only where all the images they name are in the release, and the rating / pairwise columns
// of metadata.parquet are computed from exactly those rows, so the files agree with each other.
//
// Row order is part of a release's bytes, and DuckDB keeps it only through order-preserving operators
// (scans, filters, projections, POSITIONAL JOIN), not through joins. So the wide image rows are never
// joined or sorted: only the narrow (row, id) table is, into `aligned` (one row of aggregates per image,
// in image order), which a POSITIONAL JOIN then lays beside the staged images as they are read once.
// A guard in that query fails the release if the two sides ever disagree on the row. Aggregates run over
// sorted input, so a parallel sum cannot change the last bit of a mean between two runs.

import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import { PARQUET, sqlString } from '../duckdb.js';
import { readStaged } from '../staging.js';
import { FLAG_NAMES } from '../types.js';
import { STAGED_IMAGE_COLUMNS, STAGED_PREFERENCE_COLUMNS, STAGED_RATING_COLUMNS } from './stage-inputs.js';

export interface TablesInput {
  /** The release folder being written. */
  folder: string;
  imagesFile: string;
  ratingsFile: string;
  preferencesFile: string;
  /** The previous release's metadata.parquet (already checked against its manifest). */
  previousMetadata: string | undefined;
  aggregateRatingKind: string | undefined;
  /** Also write the LAION-compatible view metadata/metadata_0000.parquet. */
  laionView: boolean;
}

export interface TablesResult {
  ratings: number;
  preferences: number;
  ratingsLeftOut: number;
  preferencesLeftOut: number;
  added: number;
  removed: number;
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(sql);
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/** The image columns of metadata.parquet before the aggregates, from the staged row `i`. */
const IMAGE_COLUMNS = `i.id, i.sha256, i.shard, i.key, i.prompt, i.negative_prompt, i.model, i.sampler, i.steps,
  i.guidance_scale, i.seed, i.width, i.height, (DATE '1970-01-01' + i.created_day) AS created_day,
  i.creator, i.worker`;

/** The columns after the aggregates. */
const TAIL_COLUMNS = `i.aesthetic_score, i.punsafe,
  {${['answers', ...FLAG_NAMES].map((n) => `'${n}': i.flag_${n}`).join(', ')}} AS flags,
  i.has_embedding`;

export async function writeTables(connection: DuckDBConnection, input: TablesInput): Promise<TablesResult> {
  const out = (file: string) => sqlString(join(input.folder, file));
  const stagedImages = readStaged(input.imagesFile, STAGED_IMAGE_COLUMNS);
  await connection.run(`CREATE TABLE image_ids AS SELECT row, id FROM ${stagedImages}`);
  await connection.run(
    `CREATE TABLE ratings_in AS SELECT * FROM ${readStaged(input.ratingsFile, STAGED_RATING_COLUMNS)}`,
  );
  await connection.run(
    `CREATE TABLE preferences_in AS SELECT * FROM ${readStaged(input.preferencesFile, STAGED_PREFERENCE_COLUMNS)}`,
  );
  // Only rows whose images are all published: a rating of a taken-down image must not reveal its id.
  await connection.run(
    `CREATE TABLE ratings AS SELECT r.* FROM ratings_in r SEMI JOIN image_ids i ON i.id = r.image_id`,
  );
  await connection.run(`
    CREATE TABLE preferences AS
    SELECT p.* FROM preferences_in p
    SEMI JOIN image_ids a ON a.id = p.image_a
    SEMI JOIN image_ids b ON b.id = p.image_b`);
  const ratings = await count(connection, 'SELECT count(*) FROM ratings');
  const preferences = await count(connection, 'SELECT count(*) FROM preferences');

  if (ratings + preferences === 0) {
    // Nothing to aggregate (e.g. before anyone rated): no join at all.
    await connection.run(`
      COPY (
        SELECT ${IMAGE_COLUMNS},
               NULL::DOUBLE AS rating_mean, 0::INTEGER AS rating_count, NULL::DOUBLE AS rating_std,
               0::INTEGER AS pairwise_wins, 0::INTEGER AS pairwise_losses, 0::INTEGER AS pairwise_ties,
               ${TAIL_COLUMNS}
        FROM ${stagedImages} i
      ) TO ${out('metadata.parquet')} ${PARQUET}`);
  } else {
    const kindFilter =
      input.aggregateRatingKind === undefined ? '' : `WHERE kind = ${sqlString(input.aggregateRatingKind)}`;
    await connection.run(`
      CREATE TABLE aligned AS
      WITH rating_stats AS (
        SELECT image_id,
               avg(score ORDER BY score) AS rating_mean,
               count(*) AS rating_count,
               stddev_samp(score ORDER BY score) AS rating_std
        FROM ratings ${kindFilter}
        GROUP BY image_id
      ),
      outcomes AS (
        SELECT image_a AS id, CASE choice WHEN 'a' THEN 1 WHEN 'b' THEN -1 ELSE 0 END AS outcome FROM preferences
        UNION ALL
        SELECT image_b AS id, CASE choice WHEN 'b' THEN 1 WHEN 'a' THEN -1 ELSE 0 END AS outcome FROM preferences
      ),
      pairwise AS (
        SELECT id, count_if(outcome = 1) AS wins, count_if(outcome = -1) AS losses, count_if(outcome = 0) AS ties
        FROM outcomes GROUP BY id
      )
      SELECT i.row,
             r.rating_mean::DOUBLE AS rating_mean,
             coalesce(r.rating_count, 0)::INTEGER AS rating_count,
             r.rating_std::DOUBLE AS rating_std,
             coalesce(p.wins, 0)::INTEGER AS pairwise_wins,
             coalesce(p.losses, 0)::INTEGER AS pairwise_losses,
             coalesce(p.ties, 0)::INTEGER AS pairwise_ties
      FROM image_ids i
      LEFT JOIN rating_stats r ON r.image_id = i.id
      LEFT JOIN pairwise p ON p.id = i.id
      ORDER BY i.row`);
    await connection.run(`
      COPY (
        SELECT ${IMAGE_COLUMNS},
               a.rating_mean, a.rating_count, a.rating_std, a.pairwise_wins, a.pairwise_losses, a.pairwise_ties,
               ${TAIL_COLUMNS}
        FROM ${stagedImages} i POSITIONAL JOIN aligned a
        WHERE CASE WHEN i.row = a.row THEN true ELSE error('metadata rows and aggregates are misaligned') END
      ) TO ${out('metadata.parquet')} ${PARQUET}`);
  }

  await connection.run(`
    COPY (SELECT rater, image_id, score, kind FROM ratings ORDER BY image_id, rater, kind, score)
    TO ${out('ratings.parquet')} ${PARQUET}`);
  await connection.run(`
    COPY (
      SELECT image_a, image_b, prompt, choice,
             (CASE choice WHEN 'a' THEN 1 WHEN 'b' THEN 0 ELSE 0.5 END)::FLOAT AS label_a,
             (CASE choice WHEN 'b' THEN 1 WHEN 'a' THEN 0 ELSE 0.5 END)::FLOAT AS label_b,
             rater
      FROM preferences ORDER BY image_a, image_b, rater, choice, prompt
    ) TO ${out('preferences.parquet')} ${PARQUET}`);

  if (input.previousMetadata !== undefined) {
    try {
      await connection.run(
        `CREATE TABLE previous_ids AS SELECT id::VARCHAR AS id FROM read_parquet(${sqlString(input.previousMetadata)})`,
      );
    } catch (error) {
      throw new DatasetError(
        'previous_malformed',
        `cannot read its ids: ${(error as Error).message}`,
        input.previousMetadata,
        { cause: error },
      );
    }
  } else {
    await connection.run(`CREATE TABLE previous_ids (id VARCHAR)`);
  }
  await connection.run(`
    CREATE TABLE changes AS
    SELECT id, change FROM (
      SELECT i.id, 'added' AS change FROM image_ids i ANTI JOIN previous_ids p ON p.id = i.id
      UNION ALL
      SELECT p.id, 'removed' AS change FROM previous_ids p ANTI JOIN image_ids i ON i.id = p.id
    ) ORDER BY id`);
  await connection.run(`COPY changes TO ${out('changes.parquet')} ${PARQUET}`);

  if (input.laionView) {
    await connection.run(`
      COPY (
        SELECT key, id, prompt AS "TEXT", width::DOUBLE AS "WIDTH", height::DOUBLE AS "HEIGHT",
               aesthetic_score AS "AESTHETIC_SCORE", punsafe, has_embedding
        FROM read_parquet(${out('metadata.parquet')})
      ) TO ${out('metadata/metadata_0000.parquet')} ${PARQUET}`);
  }

  const ratingsIn = await count(connection, 'SELECT count(*) FROM ratings_in');
  const preferencesIn = await count(connection, 'SELECT count(*) FROM preferences_in');
  return {
    ratings,
    preferences,
    ratingsLeftOut: ratingsIn - ratings,
    preferencesLeftOut: preferencesIn - preferences,
    added: await count(connection, `SELECT count(*) FROM changes WHERE change = 'added'`),
    removed: await count(connection, `SELECT count(*) FROM changes WHERE change = 'removed'`),
  };
}
