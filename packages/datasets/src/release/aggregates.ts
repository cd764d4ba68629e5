// Per-image rating and pairwise aggregates, computed by DuckDB from the staged ratings and preferences
// before the images are read, and handed to the image stage as a cursor sorted by id: the stage merges
// it with the (id-sorted) images, so each metadata row carries its aggregates and DuckDB later writes
// metadata.parquet straight from the staged rows, in order, with no join.
//
// They are computed from every rating and preference the caller gave. One that names an image that
// turns out not to be in the release is left out of the published tables afterwards (tables.ts), and
// the pairwise columns of the images it touched are corrected there, so the files still agree.

import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';
import { readStaged } from '../staging.js';
import { STAGED_PREFERENCE_COLUMNS, STAGED_RATING_COLUMNS } from './stage-inputs.js';

export interface ImageAggregates {
  ratingMean: number | null;
  ratingCount: number;
  ratingStd: number | null;
  wins: number;
  losses: number;
  ties: number;
}

/** Outcomes of each preference for each of its two images: 1 won, -1 lost, 0 tie. */
export function outcomesSql(table: string): string {
  return `
    SELECT image_a AS id, CASE choice WHEN 'a' THEN 1 WHEN 'b' THEN -1 ELSE 0 END AS outcome FROM ${table}
    UNION ALL
    SELECT image_b AS id, CASE choice WHEN 'b' THEN 1 WHEN 'a' THEN -1 ELSE 0 END AS outcome FROM ${table}`;
}

/** Loads the staged annotations into ratings_in / preferences_in. */
export async function loadAnnotations(
  connection: DuckDBConnection,
  files: { ratings: string; preferences: string },
): Promise<void> {
  await connection.run(
    `CREATE TABLE ratings_in AS SELECT * FROM ${readStaged(files.ratings, STAGED_RATING_COLUMNS)}`,
  );
  await connection.run(
    `CREATE TABLE preferences_in AS SELECT * FROM ${readStaged(files.preferences, STAGED_PREFERENCE_COLUMNS)}`,
  );
}

/**
 * Streams the aggregates of every image named by a rating or preference, sorted by id (bytewise, which
 * is JavaScript's order for the ASCII ids the stage accepts). Aggregates run over sorted input, so a
 * parallel sum cannot change the last bit of a mean between two runs.
 */
export async function openAggregates(
  connection: DuckDBConnection,
  aggregateRatingKind: string | undefined,
): Promise<AggregateCursor> {
  const kindFilter =
    aggregateRatingKind === undefined ? '' : `WHERE kind = ${sqlString(aggregateRatingKind)}`;
  const result = await connection.stream(`
    WITH rating_stats AS (
      SELECT image_id AS id,
             avg(score ORDER BY score)::DOUBLE AS rating_mean,
             count(*)::INTEGER AS rating_count,
             stddev_samp(score ORDER BY score)::DOUBLE AS rating_std
      FROM ratings_in ${kindFilter}
      GROUP BY image_id
    ),
    pairwise AS (
      SELECT id, count_if(outcome = 1)::INTEGER AS wins, count_if(outcome = -1)::INTEGER AS losses,
             count_if(outcome = 0)::INTEGER AS ties
      FROM (${outcomesSql('preferences_in')}) GROUP BY id
    )
    SELECT coalesce(r.id, p.id) AS id, r.rating_mean, coalesce(r.rating_count, 0) AS rating_count, r.rating_std,
           coalesce(p.wins, 0) AS wins, coalesce(p.losses, 0) AS losses, coalesce(p.ties, 0) AS ties
    FROM rating_stats r FULL OUTER JOIN pairwise p ON p.id = r.id
    ORDER BY id`);
  return AggregateCursor.open(result);
}

/** A forward-only cursor over the sorted aggregates, one DuckDB chunk in memory at a time. */
export class AggregateCursor {
  private ids: string[] = [];
  private columns: (number | null)[][] = [];
  private i = 0;
  private exhausted = false;

  private constructor(private readonly result: DuckDBResult) {}

  static async open(result: DuckDBResult): Promise<AggregateCursor> {
    const cursor = new AggregateCursor(result);
    await cursor.load();
    return cursor;
  }

  private async load(): Promise<void> {
    const chunk: DuckDBDataChunk | null = await this.result.fetchChunk();
    this.i = 0;
    if (!chunk || chunk.rowCount === 0) {
      // An empty chunk is DuckDB's end of the result.
      this.exhausted = true;
      this.ids = [];
      return;
    }
    this.ids = chunk.getColumnValues(0) as string[];
    this.columns = [1, 2, 3, 4, 5, 6].map((c) => chunk.getColumnValues(c) as (number | null)[]);
  }

  /**
   * The aggregates of `id`, or undefined. Ids must be asked in increasing order; rows for smaller ids
   * (images not in the release) are skipped. Synchronous unless a new chunk must be fetched.
   */
  find(id: string): ImageAggregates | undefined | Promise<ImageAggregates | undefined> {
    while (!this.exhausted) {
      if (this.i === this.ids.length) return this.load().then(() => this.find(id));
      const head = this.ids[this.i]!;
      if (head > id) return undefined;
      if (head === id) {
        const at = this.i++;
        const c = this.columns;
        return {
          ratingMean: c[0]![at] ?? null,
          ratingCount: c[1]![at] as number,
          ratingStd: c[2]![at] ?? null,
          wins: c[3]![at] as number,
          losses: c[4]![at] as number,
          ties: c[5]![at] as number,
        };
      }
      this.i++;
    }
    return undefined;
  }
}
