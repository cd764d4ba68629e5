// Builds small LAION "parquet_npy" datasets on disk for tests: float16 embeddings and metadata with
// LAION's column names and types.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeNpy } from '../npy/write.js';
import { randomValues } from './tmp.js';

export async function writeMetadataParquet(path: string, rows: number, firstRow: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (
         SELECT 'https://example.org/' || i || '.jpg' AS URL,
                'caption ' || i AS TEXT,
                (256 + i)::DOUBLE AS WIDTH,
                (512 - i)::DOUBLE AS HEIGHT,
                (i % 100) / 100.0::DOUBLE AS similarity,
                ((i * 7) % 10 / 10.0)::FLOAT AS punsafe,
                ((i * 3) % 10 / 10.0)::FLOAT AS pwatermark,
                (i * 1000003)::BIGINT AS hash
         FROM range(${firstRow}, ${firstRow + rows}) AS t(i)
         ORDER BY i
       ) TO '${path.replaceAll("'", "''")}' (FORMAT parquet, ROW_GROUP_SIZE 64)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Writes pairs of the given sizes under root; returns the (float32) embeddings of all rows, in order. */
export async function writeLaionDataset(
  root: string,
  sizes: number[],
  dim: number,
  seed: number,
): Promise<Float32Array> {
  await mkdir(join(root, 'img_emb'), { recursive: true });
  await mkdir(join(root, 'metadata'), { recursive: true });
  const all = randomValues(sizes.reduce((a, b) => a + b, 0) * dim, seed);
  let first = 0;
  for (const [k, rows] of sizes.entries()) {
    const id = String(k).padStart(4, '0');
    await writeNpy(
      join(root, 'img_emb', `img_emb_${id}.npy`),
      all.subarray(first * dim, (first + rows) * dim),
      {
        dim,
        dtype: '<f2',
      },
    );
    await writeMetadataParquet(join(root, 'metadata', `metadata_${id}.parquet`), rows, first);
    first += rows;
  }
  return all;
}

/** A ratings table as people export them: image_id and a nullable FLOAT rating, in row order. */
export async function writeRatingsParquet(path: string, ratings: ArrayLike<number | null>): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const values = Array.from(ratings, (r, i) => `(${i}, ${r === null ? 'NULL' : r}::FLOAT)`).join(', ');
    await connection.run(
      `COPY (SELECT * FROM (VALUES ${values}) AS t(image_id, rating) ORDER BY image_id)
       TO '${path.replaceAll("'", "''")}' (FORMAT parquet, ROW_GROUP_SIZE 16)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
