// DuckDB is the release's table engine (the project's chosen dependency for Parquet). It works in memory
// under a memory limit, with one thread by default, and spills to the release's scratch folder beyond
// it, so a release of any size does not grow the process.

import {
  DuckDBInstance,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBResult,
} from '@duckdb/node-api';

export interface DuckDBOptions {
  /** ':memory:' or a database file. */
  path: string;
  tempDirectory: string;
  memoryLimit: string;
  /**
   * DuckDB's worker threads. Every query of a release is one ordered scan or a small sort, so a second
   * thread mostly waits for the first: measured on the 1,000,000-row benchmark, one thread writes
   * metadata.parquet with about half the CPU time and ~100 MB less memory than two.
   */
  threads: number;
}

export async function withDuckDB<T>(
  options: DuckDBOptions,
  work: (connection: DuckDBConnection, connect: () => Promise<DuckDBConnection>) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(options.path, {
    memory_limit: options.memoryLimit,
    temp_directory: options.tempDirectory,
    // Output order is part of a release's bytes: never let DuckDB reorder rows it was not told to sort.
    preserve_insertion_order: 'true',
    threads: String(options.threads),
  });
  const connections = [await instance.connect()];
  // More connections, for a second result streamed at the same time as the first's.
  const connect = async () => {
    const more = await instance.connect();
    connections.push(more);
    return more;
  };
  try {
    return await work(connections[0]!, connect);
  } finally {
    for (const c of connections) c.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal (file paths: COPY and read_csv take no parameters). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Parquet options used for every table of a release. */
export const PARQUET = `(FORMAT parquet, COMPRESSION zstd)`;

/** The next chunk of a streamed result, or undefined at its end (DuckDB ends a result with an empty chunk). */
export async function nextChunk(result: DuckDBResult): Promise<DuckDBDataChunk | undefined> {
  const chunk = await result.fetchChunk();
  return chunk && chunk.rowCount > 0 ? chunk : undefined;
}
