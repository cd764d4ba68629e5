// What changed since the previous release, found while the images stream by: the previous release's
// metadata.parquet holds its ids sorted (every release is written in id order), so one forward merge of
// its id column with the (sorted) images gives every added and removed id, already in id order. They are
// staged for changes.parquet as they are found: no join, no sort and no id table in DuckDB, whatever the
// size of either release.

import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import { DatasetError } from '../errors.js';
import { nextChunk, sqlString } from '../duckdb.js';
import type { StagingFile } from '../staging.js';

export const STAGED_CHANGE_COLUMNS: readonly [string, string][] = [
  ['id', 'VARCHAR'],
  ['change', 'VARCHAR'],
];

/** A forward-only cursor over one sorted VARCHAR column, one DuckDB chunk in memory at a time. */
class SortedIds {
  private ids: string[] = [];
  private i = 0;
  exhausted = false;

  constructor(
    private readonly result: DuckDBResult | undefined,
    private readonly path: string | undefined,
  ) {
    if (result === undefined) this.exhausted = true;
  }

  /** The current id, or undefined at the end; a Promise when a chunk must be fetched first. */
  head(): string | undefined | Promise<string | undefined> {
    if (this.exhausted) return undefined;
    if (this.i < this.ids.length) return this.ids[this.i];
    return this.load().then(() => this.head());
  }

  next(): void {
    const id = this.ids[this.i++]!;
    const following = this.ids[this.i];
    if (following !== undefined && !(following > id)) this.unsorted(id, following);
  }

  private async load(): Promise<void> {
    const last = this.ids.at(-1);
    const chunk = await nextChunk(this.result!);
    this.i = 0;
    this.ids = chunk ? (chunk.getColumnValues(0) as string[]) : [];
    this.exhausted = chunk === undefined;
    const first = this.ids[0];
    if (last !== undefined && first !== undefined && !(first > last)) this.unsorted(last, first);
  }

  private unsorted(before: string, after: string): never {
    throw new DatasetError(
      'previous_malformed',
      `its ids are not sorted and unique: ${JSON.stringify(after)} comes after ${JSON.stringify(before)}`,
      this.path,
    );
  }
}

export class ChangeTracker {
  added = 0;
  removed = 0;

  private constructor(
    private readonly previous: SortedIds,
    private readonly staging: StagingFile,
  ) {}

  /**
   * Streams the previous release's ids over `connection` (one of its own: the aggregates stream on
   * another at the same time), or none without a previous release.
   */
  static async open(
    connection: DuckDBConnection,
    previousMetadata: string | undefined,
    staging: StagingFile,
  ): Promise<ChangeTracker> {
    let result: DuckDBResult | undefined;
    if (previousMetadata !== undefined) {
      try {
        result = await connection.stream(
          `SELECT id::VARCHAR AS id FROM read_parquet(${sqlString(previousMetadata)})`,
        );
      } catch (error) {
        throw new DatasetError(
          'previous_malformed',
          `cannot read its ids: ${(error as Error).message}`,
          previousMetadata,
          { cause: error },
        );
      }
    }
    return new ChangeTracker(new SortedIds(result, previousMetadata), staging);
  }

  /** Records one image of this release (ids in increasing order); synchronous unless ids must be fetched. */
  image(id: string): void | Promise<void> {
    for (;;) {
      const head = this.previous.head();
      if (head instanceof Promise) return head.then(() => this.image(id));
      if (head === undefined || head > id) {
        this.added++;
        if (this.write(id, 'added')) return this.staging.flush();
        return;
      }
      this.previous.next();
      if (head === id) return;
      this.removed++;
      if (this.write(head, 'removed')) return this.staging.flush().then(() => this.image(id));
    }
  }

  /** Every previous id after the last image was removed; then the staged file is complete. */
  async finish(): Promise<void> {
    for (;;) {
      const head = await this.previous.head();
      if (head === undefined) break;
      this.previous.next();
      this.removed++;
      if (this.write(head, 'removed')) await this.staging.flush();
    }
    await this.staging.close();
  }

  /** Stages one change; true when the staged buffer should be flushed. */
  private write(id: string, change: 'added' | 'removed'): boolean {
    this.staging.begin(id.length * 6 + 16);
    this.staging.text(id);
    this.staging.ascii(change);
    return this.staging.end();
  }

  async abort(): Promise<void> {
    await this.staging.abort();
  }
}
