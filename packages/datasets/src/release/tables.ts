// Phase 2 of a release: DuckDB turns the staged rows into every Parquet table.
//
// Row order is part of a release's bytes, and DuckDB keeps it only through order-preserving operators
// (scans, filters, projections, window functions with an empty OVER, POSITIONAL JOIN), never through
// joins. The staged image rows already carry their aggregates (aggregates.ts), so metadata.parquet is
// one scan of the staged file, in order, without a join or a sort.
//
// Ratings and preferences are published only where every image they name is in the release. A rating
// of an image not in the release only ever counted for that image, so nothing else changes; a left-out
// preference had counted for its other image too, and when that image is published its pairwise columns
// are corrected here (rare: the coordinator already streams only preferences between public images), so
// the aggregates always equal what preferences.parquet holds.

import type { DuckDBConnection } from '@duckdb/node-api';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { PARQUET, sqlString } from '../duckdb.js';
import { readStaged } from '../staging.js';
import { FLAG_NAMES } from '../types.js';
import { outcomesSql } from './aggregates.js';
import { STAGED_IMAGE_COLUMNS } from './stage-inputs.js';
import { STAGED_CHANGE_COLUMNS } from './changes.js';

export interface TablesInput {
  /** The release folder being written (metadata.parquet is already in it). */
  folder: string;
  /** Staged ids that ratings or preferences name but the release does not publish (aggregates.ts). */
  unpublished: string;
  /** Staged changes since the previous release, in id order, and their counts (changes.ts). */
  changes: string;
  added: number;
  removed: number;
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

/**
 * Writes metadata.parquet from the staged image rows (a file, or a named pipe still being written):
 * one scan in file order, no join, no sort.
 */
export async function writeMetadata(
  connection: DuckDBConnection,
  staged: string,
  metadata: string,
): Promise<void> {
  await connection.run(`
    COPY (
      SELECT ${IMAGE_COLUMNS},
             i.rating_mean, i.rating_count, i.rating_std, i.pairwise_wins, i.pairwise_losses, i.pairwise_ties,
             ${TAIL_COLUMNS}
      FROM ${readStaged(staged, STAGED_IMAGE_COLUMNS)} i
    ) TO ${sqlString(metadata)} ${PARQUET}`);
}

/** Every other table, once metadata.parquet is written. */
export async function writeTables(connection: DuckDBConnection, input: TablesInput): Promise<TablesResult> {
  const out = (file: string) => sqlString(join(input.folder, file));
  const metadata = join(input.folder, 'metadata.parquet');
  // Only rows whose images are all published: a rating of a taken-down image must not reveal its id.
  // The images they name that are not published were listed while the images streamed by: a join on
  // that short list, not on every id of the release.
  await connection.run(
    `CREATE TABLE unpublished AS SELECT * FROM ${readStaged(input.unpublished, [['id', 'VARCHAR']])}`,
  );
  await connection.run(
    `CREATE TABLE ratings AS SELECT r.* FROM ratings_in r ANTI JOIN unpublished u ON u.id = r.image_id`,
  );
  await connection.run(`
    CREATE TABLE preferences AS
    SELECT p.* FROM preferences_in p
    ANTI JOIN unpublished a ON a.id = p.image_a
    ANTI JOIN unpublished b ON b.id = p.image_b`);
  const ratings = await count(connection, 'SELECT count(*) FROM ratings');
  const preferences = await count(connection, 'SELECT count(*) FROM preferences');
  const ratingsIn = await count(connection, 'SELECT count(*) FROM ratings_in');
  const preferencesIn = await count(connection, 'SELECT count(*) FROM preferences_in');
  if (preferences < preferencesIn) await correctPairwise(connection, metadata);

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

  // Staged in id order as the images were merged with the previous release's ids: no join, no sort.
  await connection.run(`
    COPY (SELECT id, change FROM ${readStaged(input.changes, STAGED_CHANGE_COLUMNS)})
    TO ${out('changes.parquet')} ${PARQUET}`);

  if (input.laionView) {
    await connection.run(`
      COPY (
        SELECT key, id, prompt AS "TEXT", width::DOUBLE AS "WIDTH", height::DOUBLE AS "HEIGHT",
               aesthetic_score AS "AESTHETIC_SCORE", punsafe, has_embedding
        FROM read_parquet(${out('metadata.parquet')})
      ) TO ${out('metadata/metadata_0000.parquet')} ${PARQUET}`);
  }

  return {
    ratings,
    preferences,
    ratingsLeftOut: ratingsIn - ratings,
    preferencesLeftOut: preferencesIn - preferences,
    added: input.added,
    removed: input.removed,
  };
}

/**
 * Takes the outcomes of left-out preferences off the pairwise columns of the published images they
 * named, rewriting metadata.parquet: the corrections, one row per image in row order (a narrow join and
 * sort), laid beside the rows by POSITIONAL JOIN.
 */
async function correctPairwise(connection: DuckDBConnection, metadata: string): Promise<void> {
  const corrections = await count(
    connection,
    `WITH left_out AS (SELECT * FROM preferences_in EXCEPT ALL SELECT * FROM preferences)
     SELECT count(*) FROM (${outcomesSql('left_out')}) o ANTI JOIN unpublished u ON u.id = o.id`,
  );
  if (corrections === 0) return;
  await connection.run(`
    CREATE TABLE pairwise_correction AS
    WITH left_out AS (SELECT * FROM preferences_in EXCEPT ALL SELECT * FROM preferences),
    per_image AS (
      SELECT id, count_if(outcome = 1) AS wins, count_if(outcome = -1) AS losses, count_if(outcome = 0) AS ties
      FROM (${outcomesSql('left_out')}) GROUP BY id
    )
    SELECT m.row, coalesce(c.wins, 0) AS wins, coalesce(c.losses, 0) AS losses, coalesce(c.ties, 0) AS ties
    FROM (SELECT row_number() OVER () AS row, id FROM read_parquet(${sqlString(metadata)})) m
    LEFT JOIN per_image c ON c.id = m.id
    ORDER BY m.row`);
  const corrected = `${metadata}.corrected`;
  await connection.run(`
    COPY (
      SELECT m.* REPLACE (
               (m.pairwise_wins - c.wins)::INTEGER AS pairwise_wins,
               (m.pairwise_losses - c.losses)::INTEGER AS pairwise_losses,
               (m.pairwise_ties - c.ties)::INTEGER AS pairwise_ties)
      FROM read_parquet(${sqlString(metadata)}) m POSITIONAL JOIN pairwise_correction c
    ) TO ${sqlString(corrected)} ${PARQUET}`);
  await rename(corrected, metadata);
}
