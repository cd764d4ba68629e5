// DuckDB is the release's table engine (the project's chosen dependency for Parquet). It works in memory
// under a memory limit and spills to the release's scratch folder beyond it, so a release of any size
// does not grow the process.

import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface DuckDBOptions {
  /** ':memory:' or a database file. */
  path: string;
  tempDirectory: string;
  memoryLimit: string;
}

export async function withDuckDB<T>(
  options: DuckDBOptions,
  work: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(options.path, {
    memory_limit: options.memoryLimit,
    temp_directory: options.tempDirectory,
    // Output order is part of a release's bytes: never let DuckDB reorder rows it was not told to sort.
    preserve_insertion_order: 'true',
  });
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal (file paths: COPY and read_csv take no parameters). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Parquet options used for every table of a release. */
export const PARQUET = `(FORMAT parquet, COMPRESSION zstd)`;
