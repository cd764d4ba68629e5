// writeRelease: one dataset release, start to finish.
//
//   1. stage   – read the caller's streams once (ratings and preferences first, their scores sorted
//                by DuckDB; then images): check rows, pseudonymise, assign shards and keys, merge the
//                aggregates and the previous release's ids, write img_emb, stage CSV for DuckDB
//                                                          (stage-inputs.ts, aggregates.ts, changes.ts)
//   2. tables  – DuckDB writes metadata / ratings / preferences / changes Parquet   (tables.ts)
//   3. shards  – WebDataset tars streamed from metadata.parquet + readImage         (write-shards.ts)
//   4. card and manifest (sizes and SHA-256 of every file)
//
// Everything is written into a hidden temp folder next to the release (`<outDir>/.<name>.partial-…`)
// and renamed into place at the end, so a failed or interrupted release never leaves a half-written
// release folder behind.

import { chmod, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DatasetError, throwIfAborted } from '../errors.js';
import { withDuckDB } from '../duckdb.js';
import { DEFAULT_PRODUCTION, renderCard } from '../card.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_FORMAT_VERSION,
  loadPreviousRelease,
  sha256File,
  type Manifest,
  type ManifestFile,
  type ReleaseCounts,
} from '../manifest.js';
import { Pseudonymizer } from '../pseudonym.js';
import { sha256 } from '../hash.js';
import type { ReleaseOptions, ReleasePhase, ReleaseProgress } from '../types.js';
import { stageImages, stagePreferences, stageRatings } from './stage-inputs.js';
import { writeMetadata, writeTables } from './tables.js';
import { StagingFile } from '../staging.js';
import { loadAnnotations, openAggregates } from './aggregates.js';
import { writeShards } from './write-shards.js';
import { ChangeTracker } from './changes.js';

export const RELEASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const DEFAULT_SHARD_SIZE = 1000;
export const DEFAULT_EMBEDDING_DIM = 768;
export const DEFAULT_EMBEDDING_MODEL = 'openai/clip-vit-large-patch14';

export interface ReleaseResult {
  /** The release folder. */
  path: string;
  name: string;
  manifest: Manifest;
  /** SHA-256 of manifest.json (what the server records). */
  manifestSha256: string;
  /** Wall-clock seconds spent in each phase. */
  seconds: Record<ReleasePhase, number>;
  /** CPU seconds of this process (JavaScript and DuckDB's threads) in each phase. */
  cpuSeconds: Record<ReleasePhase, number>;
}

function checkOptions(options: ReleaseOptions): {
  shardSize: number;
  embeddingDim: number;
  readConcurrency: number;
  threads: number;
} {
  const bad = (message: string): never => {
    throw new DatasetError('invalid_argument', message);
  };
  if (typeof options.name !== 'string' || !RELEASE_NAME.test(options.name) || options.name.includes('..')) {
    bad(
      `release name ${JSON.stringify(options.name)} must match [A-Za-z0-9][A-Za-z0-9._-]{0,99} without ".."`,
    );
  }
  if (!(options.createdAt instanceof Date) || Number.isNaN(options.createdAt.getTime()))
    bad('createdAt must be a valid Date');
  const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isInteger(shardSize) || shardSize < 1 || shardSize > 1_000_000)
    bad('shardSize must be an integer in [1, 1000000]');
  const embeddingDim = options.embeddingDim ?? DEFAULT_EMBEDDING_DIM;
  if (!Number.isInteger(embeddingDim) || embeddingDim < 1) bad('embeddingDim must be a positive integer');
  const readConcurrency = options.readConcurrency ?? 8;
  if (!Number.isInteger(readConcurrency) || readConcurrency < 1)
    bad('readConcurrency must be a positive integer');
  if (typeof options.readImage !== 'function') bad('readImage must be a function');
  const threads = options.duckdbThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256)
    bad('duckdbThreads must be an integer in [1, 256]');
  return { shardSize, embeddingDim, readConcurrency, threads };
}

/** The release folder must not exist, or be empty. */
async function checkTarget(target: string): Promise<void> {
  const info = await stat(target).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isDirectory() || (await readdir(target)).length > 0) {
    throw new DatasetError('output_not_empty', 'the release folder already exists and is not empty', target);
  }
}

/** Every file under `folder`, relative and '/'-separated, sorted. */
async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(folder, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

export async function writeRelease(options: ReleaseOptions): Promise<ReleaseResult> {
  // The caller may still be counting them: awaited for the card, where a failure fails the release (and
  // handled from the start, so one that fails before then is not an unhandled rejection).
  const exclusionsCounted = Promise.resolve(options.exclusions ?? []);
  exclusionsCounted.catch(() => undefined);
  // Only the progress bar waits for this one: a failure leaves its total unknown.
  Promise.resolve(options.expectedImages).catch(() => undefined);
  const { shardSize, embeddingDim, readConcurrency, threads } = checkOptions(options);
  const pseudonyms = new Pseudonymizer(options.salt);
  const target = join(options.outDir, options.name);
  await checkTarget(target);
  const previous = options.previous === undefined ? undefined : await loadPreviousRelease(options.previous);
  throwIfAborted(options.signal);

  const seconds: Record<ReleasePhase, number> = {
    annotations: 0,
    images: 0,
    tables: 0,
    shards: 0,
    manifest: 0,
  };
  const cpuSeconds: Record<ReleasePhase, number> = { ...seconds };
  let phaseStart = performance.now();
  let cpuStart = process.cpuUsage();
  const phaseDone = (phase: ReleasePhase) => {
    const now = performance.now();
    const cpu = process.cpuUsage(cpuStart);
    seconds[phase] += (now - phaseStart) / 1000;
    cpuSeconds[phase] += (cpu.user + cpu.system) / 1e6;
    phaseStart = now;
    cpuStart = process.cpuUsage();
  };
  const progress = (p: ReleaseProgress) => options.onProgress?.(p);

  await mkdir(options.outDir, { recursive: true });
  const temp = await mkdtemp(join(options.outDir, `.${options.name}.partial-`));
  // mkdtemp makes it private (0700); a release is public data, readable like any other folder.
  await chmod(temp, 0o755);
  try {
    const work = join(temp, '.work');
    await mkdir(join(work, 'duckdb-tmp'), { recursive: true });
    for (const dir of ['shards', 'img_emb', 'metadata']) await mkdir(join(temp, dir));

    // Annotations first: their per-image aggregates are merged into the image rows as they stream by.
    const ratingsFile = join(work, 'ratings.csv');
    const preferencesFile = join(work, 'preferences.csv');
    await stageRatings(options.ratings, ratingsFile, pseudonyms, options.signal, progress);
    await stagePreferences(options.preferences, preferencesFile, pseudonyms, options.signal, progress);
    const duck = {
      path: ':memory:',
      tempDirectory: join(work, 'duckdb-tmp'),
      memoryLimit: options.duckdbMemoryLimit ?? '256MB',
      threads,
    };
    const unpublishedFile = join(work, 'unpublished.csv');
    const changesFile = join(work, 'changes.csv');
    const { staged, hasEmbeddings, tables, shards } = await withDuckDB(duck, async (connection, connect) => {
      await loadAnnotations(connection, { ratings: ratingsFile, preferences: preferencesFile });
      const aggregates = await openAggregates(
        connection,
        options.aggregateRatingKind,
        await StagingFile.create(unpublishedFile),
      );
      // The previous release's ids stream beside the aggregates, on a connection of their own.
      const changes = await ChangeTracker.open(
        await connect(),
        previous?.metadataPath,
        await StagingFile.create(changesFile),
      ).catch(async (error: unknown) => {
        await aggregates.abort();
        throw error;
      });
      phaseDone('annotations');

      const imagesFile = join(work, 'images.csv');
      const staged = await stageImages(
        options,
        {
          staging: await StagingFile.create(imagesFile),
          embeddingFile: join(temp, 'img_emb', 'img_emb_0000.npy'),
          shardSize,
          embeddingDim,
        },
        pseudonyms,
        progress,
        aggregates,
        changes,
      );
      phaseDone('images');
      progress({ phase: 'tables', done: 0, total: undefined });
      await writeMetadata(connection, imagesFile, join(temp, 'metadata.parquet'));

      const hasEmbeddings = staged.embeddings > 0;
      if (!hasEmbeddings) {
        // A file of zeros (1.5 GB per million images) helps nobody: without embeddings there is no img_emb.
        await rm(join(temp, 'img_emb'), { recursive: true });
        await rm(join(temp, 'metadata'), { recursive: true });
      }
      const tables = await writeTables(connection, {
        folder: temp,
        unpublished: unpublishedFile,
        changes: changesFile,
        added: changes.added,
        removed: changes.removed,
        laionView: hasEmbeddings,
      });
      phaseDone('tables');
      throwIfAborted(options.signal);
      const shards = await writeShards(connection, {
        folder: temp,
        images: staged.count,
        mtime: options.createdAt,
        readImage: options.readImage,
        verifyImages: options.verifyImages ?? true,
        readConcurrency,
        signal: options.signal,
        progress,
      });
      phaseDone('shards');
      return { staged, hasEmbeddings, tables, shards };
    });
    await rm(work, { recursive: true });

    const counts: ReleaseCounts = {
      images: staged.count,
      shards: shards.length,
      embeddings: staged.embeddings,
      ratings: tables.ratings,
      preferences: tables.preferences,
      added: tables.added,
      removed: tables.removed,
      ratings_left_out: tables.ratingsLeftOut,
      preferences_left_out: tables.preferencesLeftOut,
    };
    const exclusions = await exclusionsCounted;
    const card = renderCard({
      title: options.title ?? `Dreamfold ${options.name}`,
      name: options.name,
      createdAt: options.createdAt,
      previous: previous?.manifest.name ?? null,
      license: options.license ?? 'CC0-1.0',
      counts,
      shardSize,
      embeddingDim,
      embeddingModel: options.embeddingModel ?? DEFAULT_EMBEDDING_MODEL,
      hasEmbeddings,
      aggregateRatingKind: options.aggregateRatingKind,
      exclusions,
      production: options.production ?? DEFAULT_PRODUCTION,
    });
    await writeFile(join(temp, 'README.md'), card);

    progress({ phase: 'manifest', done: 0, total: undefined });
    const shardHashes = new Map(shards.map((s) => [relative(temp, s.path).split(sep).join('/'), s]));
    const files: ManifestFile[] = [];
    for (const path of await listFiles(temp)) {
      const known = shardHashes.get(path);
      const full = join(temp, path);
      files.push(
        known
          ? { path, bytes: known.bytes, sha256: known.sha256 }
          : { path, bytes: (await stat(full)).size, sha256: await sha256File(full) },
      );
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      format_version: MANIFEST_FORMAT_VERSION,
      name: options.name,
      created_at: options.createdAt.toISOString(),
      previous: previous?.manifest.name ?? null,
      license: options.license ?? 'CC0-1.0',
      counts,
      exclusions: exclusions.map((e) => ({ reason: e.reason, count: e.count })),
      files,
    };
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    await writeFile(join(temp, MANIFEST_FILE), manifestText);
    phaseDone('manifest');

    throwIfAborted(options.signal);
    await checkTarget(target);
    await rmdir(target).catch(() => undefined);
    try {
      await rename(temp, target);
    } catch (error) {
      throw new DatasetError(
        'output_not_empty',
        `could not move the release into place: ${(error as Error).message}`,
        target,
        {
          cause: error,
        },
      );
    }
    return {
      path: target,
      name: options.name,
      manifest,
      manifestSha256: sha256(manifestText),
      seconds,
      cpuSeconds,
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
