// Per-image rating and pairwise aggregates, from the staged ratings and preferences, before the images
// are read: DuckDB sorts the scores and counts the pairwise outcomes, and hands them to the image stage as
// a cursor sorted by id, which computes each image's aggregates as it goes. The stage merges the cursor
// with the (id-sorted) images, so each metadata row carries its aggregates and DuckDB later writes
// metadata.parquet straight from the staged rows, in order, with no join.
//
// They are computed from every rating and preference the caller gave. One that names an image that
// turns out not to be in the release is left out of the published tables afterwards (tables.ts), and
// the pairwise columns of the images it touched are corrected there, so the files still agree.

import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import { nextChunk, sqlString } from '../duckdb.js';
import { readStaged, type StagingFile } from '../staging.js';
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
 * Streams what the aggregates of every image named by a rating or preference are made of, sorted by id
 * (bytewise, which is JavaScript's order for the ASCII ids the stage accepts): each rating's score, in
 * increasing order within its image, and one row of pairwise counts per image. The cursor computes the
 * mean and standard deviation from the sorted scores, so the last bit of a mean never depends on how
 * DuckDB's threads split a sum. One sort of the scores costs a quarter of DuckDB's ordered aggregates
 * (avg(score ORDER BY score)), which sort inside every group.
 */
export async function openAggregates(
  connection: DuckDBConnection,
  aggregateRatingKind: string | undefined,
  unpublished: StagingFile,
): Promise<AggregateCursor> {
  // Ratings of another kind count for nothing but still name their image (a row without score).
  const score =
    aggregateRatingKind === undefined
      ? 'score'
      : `CASE WHEN kind = ${sqlString(aggregateRatingKind)} THEN score END`;
  const result = await connection.stream(`
    WITH pairwise AS (
      SELECT id, count_if(outcome = 1)::INTEGER AS wins, count_if(outcome = -1)::INTEGER AS losses,
             count_if(outcome = 0)::INTEGER AS ties
      FROM (${outcomesSql('preferences_in')}) GROUP BY id
    )
    SELECT id, score, wins, losses, ties FROM (
      SELECT image_id AS id, ${score} AS score, NULL::INTEGER AS wins, NULL::INTEGER AS losses,
             NULL::INTEGER AS ties
      FROM ratings_in
      UNION ALL
      SELECT id, NULL::DOUBLE AS score, wins, losses, ties FROM pairwise
    )
    ORDER BY id, score NULLS LAST`);
  return AggregateCursor.open(result, unpublished);
}

/** Running aggregates of one image: a plain sum for the mean, Welford's recurrence for the deviation. */
class Accumulator {
  count = 0;
  sum = 0;
  mean = 0;
  m2 = 0;
  wins = 0;
  losses = 0;
  ties = 0;

  score(x: number): void {
    this.count++;
    this.sum += x;
    const delta = x - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (x - this.mean);
  }

  result(): ImageAggregates {
    const n = this.count;
    return {
      ratingMean: n === 0 ? null : this.sum / n,
      ratingCount: n,
      ratingStd: n < 2 ? null : Math.sqrt(this.m2 / (n - 1)),
      wins: this.wins,
      losses: this.losses,
      ties: this.ties,
    };
  }
}

/**
 * A forward-only cursor over the sorted aggregate rows, one DuckDB chunk in memory at a time. The ids it
 * passes over without an image asking for them are the images the ratings and preferences name but the
 * release does not publish: they are staged (once each) for tables.ts, which leaves out the ratings and
 * preferences that name them with a join on that short list instead of the release's every id.
 */
export class AggregateCursor {
  private ids: string[] = [];
  private scores: (number | null)[] = [];
  private pairwise: (number | null)[][] = [];
  private i = 0;
  private exhausted = false;
  private lastUnpublished: string | undefined;

  private constructor(
    private readonly result: DuckDBResult,
    private readonly unpublished: StagingFile,
  ) {}

  static async open(result: DuckDBResult, unpublished: StagingFile): Promise<AggregateCursor> {
    const cursor = new AggregateCursor(result, unpublished);
    await cursor.load();
    return cursor;
  }

  private async load(): Promise<void> {
    const chunk = await nextChunk(this.result);
    this.i = 0;
    if (chunk === undefined) {
      this.exhausted = true;
      this.ids = [];
      return;
    }
    this.ids = chunk.getColumnValues(0) as string[];
    this.scores = chunk.getColumnValues(1) as (number | null)[];
    this.pairwise = [2, 3, 4].map((c) => chunk.getColumnValues(c) as (number | null)[]);
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
      if (head === id) return this.collect(id, new Accumulator());
      this.i++;
      if (this.skip(head)) return this.unpublished.flush().then(() => this.find(id));
    }
    return undefined;
  }

  /** After the last image: every id left is unpublished. Closes the staged list. */
  async finish(): Promise<void> {
    for (;;) {
      if (this.i === this.ids.length) await this.load();
      if (this.exhausted) break;
      if (this.skip(this.ids[this.i++]!)) await this.unpublished.flush();
    }
    await this.unpublished.close();
  }

  async abort(): Promise<void> {
    await this.unpublished.abort();
  }

  /** Stages an id no image asked for; true when the staged buffer should be flushed. */
  private skip(id: string): boolean {
    if (id === this.lastUnpublished) return false;
    this.lastUnpublished = id;
    this.unpublished.begin(id.length * 6 + 4);
    this.unpublished.text(id);
    return this.unpublished.end();
  }

  /** Adds the rows of `id` from here on, across chunks. */
  private collect(id: string, acc: Accumulator): ImageAggregates | Promise<ImageAggregates> {
    const ids = this.ids;
    for (; this.i < ids.length && ids[this.i] === id; this.i++) {
      const score = this.scores[this.i];
      if (score !== null && score !== undefined) {
        acc.score(score);
      } else if (this.pairwise[0]![this.i] !== null) {
        acc.wins = this.pairwise[0]![this.i]!;
        acc.losses = this.pairwise[1]![this.i]!;
        acc.ties = this.pairwise[2]![this.i]!;
      }
    }
    if (this.i < ids.length) return acc.result();
    return this.load().then(() => (this.exhausted ? acc.result() : this.collect(id, acc)));
  }
}
