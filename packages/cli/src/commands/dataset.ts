// `dreamfold dataset release`: an open dataset release built from the configured database and blob
// store (DATABASE_URL / DATA_DIR / BLOB_URL, as the coordinator reads them), recorded in the database so
// the API lists it and the next release knows its predecessor. Ctrl-C stops it and leaves nothing behind.
import { join, resolve } from 'node:path';
import {
  DatasetError,
  DatasetService,
  openBlobStore,
  openDatabase,
  systemClock,
  type ReleaseRecord,
} from '@dreamfold/server';
import { CliError } from '../errors.js';
import { progressBar, type Progress } from '../progress.js';
import { configFrom, describeDatabase } from './up.js';

export interface DatasetReleaseOptions {
  /** Parent folder: the release is written to <out>/<name>. */
  out?: string;
  previous?: string;
  name?: string;
}

const PHASE_LABELS: Record<string, string> = { images: 'images', shards: 'shards' };

export async function release(
  options: DatasetReleaseOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const config = configFrom(env);
  let database;
  try {
    database = await openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  } catch (err) {
    throw new CliError(
      `Could not open the database ${describeDatabase(config.databaseUrl)}: ${(err as Error).message}`,
    );
  }
  const blobs = openBlobStore(config.blobUrl);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  // A bar per phase with a known size, drawn only when stdout is a terminal.
  let bar: Progress | undefined;
  let barPhase = '';
  let result: ReleaseRecord;
  try {
    const service = new DatasetService(database, blobs, systemClock, {
      dir: join(config.dataDir, 'datasets'),
    });
    result = await service.release({
      name: options.name,
      outDir: options.out === undefined ? undefined : resolve(options.out),
      previous: options.previous === undefined ? undefined : resolve(options.previous),
      startedBy: 'cli',
      signal: controller.signal,
      onProgress: (p) => {
        const label = PHASE_LABELS[p.phase];
        if (label === undefined || p.total === undefined) return;
        if (barPhase !== p.phase) {
          bar?.stop();
          bar = progressBar(label.padEnd(6), process.stdout);
          barPhase = p.phase;
        }
        bar?.update(p.done, p.total);
      },
    });
  } catch (err) {
    if (err instanceof DatasetError) {
      if (err.code === 'aborted') throw new CliError('Interrupted; nothing was written.', 130);
      throw new CliError(err.message);
    }
    const code = (err as { code?: string }).code;
    if (code === 'conflict' || code === 'validation_failed') {
      throw new CliError(`${(err as Error).message} Choose another --name.`);
    }
    throw err;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    await blobs.close();
    await database.close();
  }
  const c = result.manifest.counts;
  console.log(`Released ${result.name} in ${result.path}`);
  console.log(
    `  ${c.images} images in ${c.shards} shard${c.shards === 1 ? '' : 's'}, ${c.embeddings} embeddings, ${c.ratings} ratings, ${c.preferences} preferences`,
  );
  console.log(
    `  since ${result.previous ?? 'nothing (first release)'}: ${c.added} added, ${c.removed} removed`,
  );
  console.log(`  manifest.json SHA-256 ${result.manifestSha256}`);
}
