// DuckDB is our Parquet engine (the project's chosen dependency): it reads and writes Parquet
// out-of-core and keeps every column's type, so subsets keep all of LAION's metadata unchanged.
// Each operation gets its own in-memory database, closed when the operation ends.

import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { AestheticsError } from '../errors.js';

export async function withDuckDB<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal (for file paths: DuckDB's COPY TO takes no parameters). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Row count from the Parquet footer (no data pages read). */
export async function parquetRowCount(connection: DuckDBConnection, path: string): Promise<number> {
  try {
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::BIGINT FROM read_parquet(${sqlString(path)})`,
    );
    return Number(reader.getRows()[0]![0]);
  } catch (error) {
    throw new AestheticsError(
      'parquet_unreadable',
      `cannot read Parquet file: ${(error as Error).message}`,
      path,
      {
        cause: error,
      },
    );
  }
}

export async function parquetColumns(connection: DuckDBConnection, path: string): Promise<string[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  return reader.getRowObjectsJS().map((row) => String(row.column_name));
}
