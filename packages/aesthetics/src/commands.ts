// File-to-file operations behind `dreamfold aesthetics train|score|filter` (filter is
// filterLaionDataset itself). Each takes one plain options object and an optional progress callback,
// so the CLI only parses flags and draws a bar.

import { extname } from 'node:path';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBDataChunk, FLOAT } from '@duckdb/node-api';
import { AestheticsError, throwIfAborted } from './errors.js';
import { saveModel, loadModel } from './model/file.js';
import type { AestheticModel } from './model/mlp.js';
import { collapseModel, scoreEmbeddings } from './model/score.js';
import { NpyReader } from './npy/read.js';
import { NpyWriter } from './npy/write.js';
import { SCORE_COLUMN } from './laion/filter.js';
import { readRatedEmbeddings } from './laion/ratings.js';
import { sqlString, withDuckDB } from './laion/duckdb.js';
import { trainFromRatings, type TrainOptions, type TrainResult } from './train/train.js';

export interface TrainModelFileOptions extends Omit<TrainOptions, 'embeddings' | 'ratings' | 'dim'> {
  /** [N, D] .npy of embeddings. */
  embeddings: string;
  /** Parquet file with N rows and a rating column. */
  ratings: string;
  /** Rating column name (default "rating"). */
  column?: string;
  dim?: number;
  /** Where the model is written (safetensors). */
  out: string;
}

/** `dreamfold aesthetics train --embeddings X.npy --ratings Y.parquet --out model.safetensors` */
export async function trainModelFile(
  options: TrainModelFileOptions,
): Promise<TrainResult & { skippedRows: number }> {
  const { embeddings, ratings, column, dim, out, ...train } = options;
  const data = await readRatedEmbeddings({ embeddings, ratings, column, dim });
  const result = await trainFromRatings({
    ...train,
    embeddings: data.embeddings,
    ratings: data.ratings,
    dim: data.dim,
  });
  await mkdir(dirname(out), { recursive: true });
  await saveModel(result.model, out);
  return { ...result, skippedRows: data.skippedRows };
}

export interface ScoreFileOptions {
  model: AestheticModel | string;
  /** [N, D] .npy of embeddings (float16 or float32). */
  embeddings: string;
  /** Output: `.npy` (float32 [N, 1]) or `.parquet` (one AESTHETIC_SCORE FLOAT column, row order kept). */
  out: string;
  chunkRows?: number;
  onProgress?: (progress: { rowsDone: number; rowsTotal: number }) => void;
  signal?: AbortSignal;
}

/** `dreamfold aesthetics score --model m.safetensors --embeddings X.npy --out scores.parquet` */
export async function scoreNpyFile(options: ScoreFileOptions): Promise<{ rows: number; mean: number }> {
  const model = collapseModel(
    typeof options.model === 'string' ? await loadModel(options.model) : options.model,
  );
  const kind = extname(options.out).toLowerCase();
  if (kind !== '.npy' && kind !== '.parquet') {
    throw new AestheticsError('invalid_argument', 'output must end in .npy or .parquet', options.out);
  }
  const reader = await NpyReader.open(options.embeddings, { dim: model.dim });
  const scores = new Float32Array(reader.rows);
  try {
    for await (const chunk of reader.chunks(options.chunkRows ?? 16384)) {
      throwIfAborted(options.signal);
      scoreEmbeddings(
        model,
        chunk.data.subarray(0, chunk.rows * model.dim),
        scores.subarray(chunk.start, chunk.start + chunk.rows),
      );
      options.onProgress?.({ rowsDone: chunk.start + chunk.rows, rowsTotal: reader.rows });
    }
  } finally {
    await reader.close();
  }
  await mkdir(dirname(options.out), { recursive: true });
  if (kind === '.npy') {
    const writer = await NpyWriter.create(options.out, { dim: 1 });
    await writer.append(scores);
    await writer.close();
  } else {
    await writeScoresParquet(options.out, scores);
  }
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(scores.length, 1);
  return { rows: scores.length, mean };
}

async function writeScoresParquet(path: string, scores: Float32Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await withDuckDB(async (connection) => {
      await connection.run(`CREATE TABLE scores (${SCORE_COLUMN} FLOAT)`);
      const appender = await connection.createAppender('scores');
      for (let start = 0; start < scores.length; start += 2048) {
        const n = Math.min(2048, scores.length - start);
        const chunk = DuckDBDataChunk.create([FLOAT], n);
        chunk.setColumns([Array.from(scores.subarray(start, start + n))]);
        appender.appendDataChunk(chunk);
      }
      appender.closeSync();
      // A plain table scan with insertion order preserved (DuckDB's default) keeps row i at row i.
      await connection.run(`COPY scores TO ${sqlString(temp)} (FORMAT parquet, COMPRESSION zstd)`);
    });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
