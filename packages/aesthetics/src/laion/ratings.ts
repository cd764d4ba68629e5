// Training input from files: an [N, D] .npy of embeddings and a Parquet file with N rows holding the
// mean rating of each (row i ↔ row i, the LAION pairing), so the CLI can run
//   dreamfold aesthetics train --embeddings X.npy --ratings Y.parquet --out model.safetensors

import { AestheticsError } from '../errors.js';
import { readNpy } from '../npy/read.js';
import { parquetColumns, parquetRowCount, sqlIdentifier, sqlString, withDuckDB } from './duckdb.js';

export interface ReadRatingsOptions {
  /** Path of the [N, D] .npy file. */
  embeddings: string;
  /** Path of the Parquet file with N rows. */
  ratings: string;
  /** Name of the rating column; default "rating". */
  column?: string;
  /** Expected embedding dimension (default 768). */
  dim?: number;
}

export interface RatedEmbeddings {
  embeddings: Float32Array;
  ratings: Float32Array;
  dim: number;
  rows: number;
  /** Rows left out because their rating was null or not a number. */
  skippedRows: number;
}

export async function readRatedEmbeddings(options: ReadRatingsOptions): Promise<RatedEmbeddings> {
  const column = options.column ?? 'rating';
  const npy = await readNpy(options.embeddings, { dim: options.dim ?? 768 });
  const values = await withDuckDB(async (connection) => {
    const count = await parquetRowCount(connection, options.ratings);
    if (count !== npy.rows) {
      throw new AestheticsError(
        'row_count_mismatch',
        `${npy.rows} embeddings in ${options.embeddings} but ${count} rows in ${options.ratings}`,
        options.ratings,
      );
    }
    const columns = await parquetColumns(connection, options.ratings);
    if (!columns.includes(column)) {
      throw new AestheticsError(
        'missing_column',
        `no column "${column}" (columns: ${columns.join(', ')})`,
        options.ratings,
      );
    }
    // file_row_number keeps the file's own order, which is what pairs a rating with its embedding.
    const reader = await connection.runAndReadAll(
      `SELECT ${sqlIdentifier(column)}::DOUBLE AS r FROM read_parquet(${sqlString(options.ratings)}, file_row_number = true)
       ORDER BY file_row_number`,
    );
    return reader.getColumnsJS()[0] as Array<number | null>;
  });

  const keep = values.flatMap((v, i) => (typeof v === 'number' && Number.isFinite(v) ? [i] : []));
  const embeddings = keep.length === npy.rows ? npy.data : new Float32Array(keep.length * npy.dim);
  if (embeddings !== npy.data) {
    keep.forEach((row, i) =>
      embeddings.set(npy.data.subarray(row * npy.dim, (row + 1) * npy.dim), i * npy.dim),
    );
  }
  return {
    embeddings,
    ratings: Float32Array.from(keep, (row) => values[row] as number),
    dim: npy.dim,
    rows: keep.length,
    skippedRows: npy.rows - keep.length,
  };
}
