// LAION-Aesthetics-style filtering of a parquet_npy dataset: score every embedding, then write, per
// threshold t, the metadata rows whose score is ≥ t with every original column plus AESTHETIC_SCORE
// (float32, LAION's column name). ≥, not >: LAION named its subsets "6plus", "6.5plus" for scores at
// or above the number. The comparison is on the float32 score as stored in the output column.
//
// Memory stays flat in the dataset size: embeddings are read in chunks, one pair at a time, keeping
// only one float32 score per row of the current pair; DuckDB streams the Parquet side.

import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBDataChunk, FLOAT, INTEGER, type DuckDBConnection } from '@duckdb/node-api';
import { AestheticsError, throwIfAborted } from '../errors.js';
import { encodeModel, loadModel } from '../model/file.js';
import type { AestheticModel } from '../model/mlp.js';
import { collapseModel, scoreEmbeddings } from '../model/score.js';
import { NpyReader } from '../npy/read.js';
import { parquetColumns, parquetRowCount, sqlIdentifier, sqlString, withDuckDB } from './duckdb.js';
import { findEmbeddingPairs, type EmbeddingPair } from './pairs.js';
import { loadState, saveState, type FilterState } from './state.js';

export const SCORE_COLUMN = 'AESTHETIC_SCORE';

export interface FilterOptions {
  /** Folder holding img_emb/ and metadata/. */
  input: string;
  /** Folder receiving one subfolder per threshold, plus the resume state. */
  output: string;
  /** A loaded model or the path of a model file. */
  model: AestheticModel | string;
  /** Keep rows with score ≥ each of these; default [5, 6, 6.5]. */
  thresholds?: number[];
  /** Rows read from the .npy per step (memory ≈ rows × dim × 4 bytes). Default 16,384. */
  chunkRows?: number;
  /** Ignore an existing resume state and redo every pair. */
  restart?: boolean;
  onProgress?: (progress: FilterProgress) => void;
  signal?: AbortSignal;
}

export interface FilterProgress {
  phase: 'scoring' | 'writing' | 'pair-done' | 'pair-skipped';
  pairId: string;
  pairIndex: number;
  pairCount: number;
  /** Rows scored (or skipped as already done) over the whole dataset so far. */
  rowsDone: number;
  rowsTotal: number;
}

export interface SubsetSummary {
  threshold: number;
  /** Folder name, e.g. "aesthetics_6.5plus". */
  name: string;
  path: string;
  rows: number;
}

export interface FilterResult {
  pairs: number;
  skippedPairs: number;
  rows: number;
  subsets: SubsetSummary[];
}

export function subsetName(threshold: number): string {
  return `aesthetics_${threshold}plus`;
}

export async function filterLaionDataset(options: FilterOptions): Promise<FilterResult> {
  const model = typeof options.model === 'string' ? await loadModel(options.model) : options.model;
  const thresholds = [...(options.thresholds ?? [5, 6, 6.5])].sort((a, b) => a - b);
  if (
    thresholds.length === 0 ||
    thresholds.some((t) => !Number.isFinite(t)) ||
    new Set(thresholds).size !== thresholds.length
  ) {
    throw new AestheticsError(
      'invalid_argument',
      `thresholds must be distinct finite numbers, got [${thresholds.join(', ')}]`,
    );
  }
  const chunkRows = options.chunkRows ?? 16384;
  const collapsed = collapseModel(model);
  const pairs = await findEmbeddingPairs(options.input);

  // Open every header first: a truncated or mis-shaped shard fails now, not hours into the run, and
  // the total row count gives the progress bar its length.
  const rowsPerPair: number[] = [];
  for (const pair of pairs) {
    const reader = await NpyReader.open(pair.embeddings, { dim: collapsed.dim });
    rowsPerPair.push(reader.rows);
    await reader.close();
  }
  const rowsTotal = rowsPerPair.reduce((a, b) => a + b, 0);

  await mkdir(options.output, { recursive: true });
  const subsetDirs = thresholds.map((t) => join(options.output, subsetName(t)));
  for (const dir of subsetDirs) {
    await mkdir(dir, { recursive: true });
    await removeTempFiles(dir);
  }
  const identity = {
    version: 1 as const,
    model: createHash('sha256').update(encodeModel(model)).digest('hex'),
    thresholds,
  };
  const state: FilterState = options.restart
    ? { ...identity, pairs: {} }
    : await loadState(options.output, identity);

  let rowsDone = 0;
  let skippedPairs = 0;
  await withDuckDB(async (connection) => {
    for (const [pairIndex, pair] of pairs.entries()) {
      throwIfAborted(options.signal);
      const rows = rowsPerPair[pairIndex]!;
      const report = (phase: FilterProgress['phase']): void =>
        options.onProgress?.({
          phase,
          pairId: pair.id,
          pairIndex,
          pairCount: pairs.length,
          rowsDone,
          rowsTotal,
        });
      const outputs = subsetDirs.map((dir) => join(dir, `metadata_${pair.id}.parquet`));
      if (state.pairs[pair.id]?.rows === rows && (await allExist(outputs))) {
        rowsDone += rows;
        skippedPairs++;
        report('pair-skipped');
        continue;
      }
      const scores = await scorePair(pair, collapsed, chunkRows, options.signal, (done) => {
        rowsDone += done;
        report('scoring');
      });
      throwIfAborted(options.signal);
      report('writing');
      const kept = await writeSubsets(connection, pair, scores, thresholds, outputs);
      state.pairs[pair.id] = {
        rows,
        kept: Object.fromEntries(thresholds.map((t, i) => [String(t), kept[i]!])),
      };
      await saveState(options.output, state);
      report('pair-done');
    }
  });

  return {
    pairs: pairs.length,
    skippedPairs,
    rows: rowsTotal,
    subsets: thresholds.map((threshold, i) => ({
      threshold,
      name: subsetName(threshold),
      path: subsetDirs[i]!,
      rows: Object.values(state.pairs).reduce((sum, p) => sum + (p.kept[String(threshold)] ?? 0), 0),
    })),
  };
}

async function scorePair(
  pair: EmbeddingPair,
  model: ReturnType<typeof collapseModel>,
  chunkRows: number,
  signal: AbortSignal | undefined,
  onRows: (rows: number) => void,
): Promise<Float32Array> {
  const reader = await NpyReader.open(pair.embeddings, { dim: model.dim });
  try {
    const scores = new Float32Array(reader.rows);
    for await (const chunk of reader.chunks(chunkRows)) {
      throwIfAborted(signal);
      scoreEmbeddings(
        model,
        chunk.data.subarray(0, chunk.rows * model.dim),
        scores.subarray(chunk.start, chunk.start + chunk.rows),
      );
      onRows(chunk.rows);
    }
    return scores;
  } finally {
    await reader.close();
  }
}

/** Writes one Parquet file per threshold (temp name, then rename); returns the row count of each. */
async function writeSubsets(
  connection: DuckDBConnection,
  pair: EmbeddingPair,
  scores: Float32Array,
  thresholds: number[],
  outputs: string[],
): Promise<number[]> {
  const count = await parquetRowCount(connection, pair.metadata);
  if (count !== scores.length) {
    throw new AestheticsError(
      'row_count_mismatch',
      `${scores.length} embeddings in ${pair.embeddings} but ${count} rows in ${pair.metadata}`,
      pair.metadata,
    );
  }
  await connection.run('CREATE OR REPLACE TEMP TABLE scores (i INTEGER, s FLOAT)');
  const appender = await connection.createAppender('scores');
  // DuckDB vectors hold at most 2,048 rows, so the scores go in as chunks of that size.
  for (let start = 0; start < scores.length; start += 2048) {
    const n = Math.min(2048, scores.length - start);
    const chunk = DuckDBDataChunk.create([INTEGER, FLOAT], n);
    chunk.setColumns([
      Array.from({ length: n }, (_, k) => start + k),
      Array.from(scores.subarray(start, start + n)),
    ]);
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();

  // Every original column, in order, except a previous AESTHETIC_SCORE (re-scoring a LAION subset
  // replaces its scores rather than duplicating the column).
  const columns = (await parquetColumns(connection, pair.metadata)).filter(
    (c) => c.toUpperCase() !== SCORE_COLUMN,
  );
  const select = columns.map((c) => `m.${sqlIdentifier(c)}`).join(', ');
  const kept: number[] = [];
  for (const [i, threshold] of thresholds.entries()) {
    const temp = `${outputs[i]!}.tmp-${process.pid}`;
    const result = await connection.run(
      `COPY (
         SELECT ${select}${select ? ', ' : ''}s.s AS ${SCORE_COLUMN}
         FROM read_parquet(${sqlString(pair.metadata)}, file_row_number = true) AS m
         JOIN scores AS s ON m.file_row_number = s.i
         WHERE CAST(s.s AS DOUBLE) >= CAST(${threshold} AS DOUBLE)
         ORDER BY m.file_row_number
       ) TO ${sqlString(temp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    kept.push(Number(result.rowsChanged));
  }
  for (const output of outputs) await rename(`${output}.tmp-${process.pid}`, output);
  await connection.run('DROP TABLE scores');
  return kept;
}

async function allExist(paths: string[]): Promise<boolean> {
  for (const path of paths) {
    try {
      await stat(path);
    } catch {
      return false;
    }
  }
  return true;
}

/** Removes temp files a killed run left behind (they never carry a final name). */
async function removeTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (/\.parquet\.tmp-\d+$/.test(name)) await rm(join(dir, name), { force: true });
  }
}
