// Reading a release back the way a researcher would: Parquet through DuckDB, shards through tar-stream.

import { createReadStream } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import tar from 'tar-stream';

export async function queryParquet(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export const readParquet = (path: string): Promise<Record<string, unknown>[]> =>
  queryParquet(`SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`);

/** Column name → DuckDB type of a Parquet file. */
export async function parquetSchema(path: string): Promise<[string, string][]> {
  const rows = await queryParquet(`DESCRIBE SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`);
  return rows.map((r) => [String(r.column_name), String(r.column_type)]);
}

export interface TarMember {
  header: tar.Header;
  data: Buffer;
}

export async function readTar(path: string): Promise<TarMember[]> {
  const extract = tar.extract();
  const members: TarMember[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => {
        members.push({ header, data: Buffer.concat(parts) });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  createReadStream(path).pipe(extract);
  await done;
  return members;
}
