// The end-to-end part of bench/datasets.ts: a coordinator SQLite database filled with N finished images
// (jobs, generations, users, the safety rows that make them public), then a release from it through
// the coordinator's release source, beside better-sqlite3 reading the same joined rows alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type SQLiteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { FsBlobStore, openDatabase } from '@dreamfold/server';
import { fmt, rssPeaksByPhase } from './_harness.js';

const USERS = 5000;

/**
 * The id of job `i` as SQL: 32 characters whose order is unrelated to the insertion order, as the
 * coordinator's random UUIDs are (ids.ts newId): the first 8 hex digits are i × 2654435761 mod 2^32 (a
 * permutation: the factor is odd), the rest i in decimal so substr(id, 25) still gives i. Rows are then read
 * in id order across the tables' insertion order, as on a real database, instead of in it.
 */
const jobId = (i: string) => `printf('%08x%024d', ((${i}) * 2654435761) % 4294967296, ${i})`;

/**
 * Fills the database with `rows` public images: INSERT … SELECT over a recursive counter, in SQLite.
 * Numbers are literals (a bound JS number arrives as REAL, and 'user-' || (i % 5000.0) is 'user-1.0').
 */
export async function fillDatabase(
  url: string,
  blobsDir: string,
  rows: number,
  png: Buffer,
  sha: string,
): Promise<void> {
  const handle = await openDatabase(url);
  const { db } = handle;
  const counter = (n: number) =>
    sql.raw(`with recursive c(i) as (select 0 union all select i + 1 from c where i < ${n - 1})`);
  await sql`${counter(USERS)} insert into users (id, email, role, created_at) select 'user-' || i, 'u' || i || '@example.org', 'user', 0 from c`.execute(
    db,
  );
  const generations = Math.ceil(rows / 4);
  await sql`${counter(generations)} insert into generations (id, user_id, prompt, negative_prompt, model, width, height, steps, guidance_scale, sampler, seed, n, created_at)
    select printf('gen%012d', i), 'user-' || (i % ${sql.lit(USERS)}), 'a painting of a lighthouse number ' || i, '', 'sd-1.5', 512, 512, 30, 7.5, 'euler', i, 4, ${sql.lit(Date.UTC(2026, 0, 1))} + i * 1000 from c`.execute(
    db,
  );
  await sql`${counter(rows)} insert into jobs (id, generation_id, idx, user_id, model, pixels, seed, priority, state, attempts, max_attempts, worker_id, step, total_steps, result_sha256, result_bytes, created_at, finished_at)
    select ${sql.raw(jobId('i'))}, printf('gen%012d', i / 4), i % 4, 'user-' || ((i / 4) % ${sql.lit(USERS)}), 'sd-1.5', 262144, i, 0, 'done', 1, 3, 'worker-' || (i % 200), 30, 30, ${sha}, ${sql.lit(png.length)}, 0, 0 from c`.execute(
    db,
  );
  await sql`insert into image_safety (image_id, state, created_at) select id, 'unchecked', 0 from jobs`.execute(
    db,
  );
  // As in the release bench without a database: every image in the annotation pool, an aesthetic score on
  // every other one, one rating per 5 images and one pairwise answer per 20 (images i and i + 1).
  await sql`insert into annotation_images (image_id, generation_id, owner_id, prompt_key, finished_at, flag_answers)
    select id, generation_id, user_id, generation_id, 0, (cast(substr(id, 25) as integer) % 4 = 0) from jobs`.execute(
    db,
  );
  await sql`insert into image_scores (image_id, aesthetic_score, model, scored_at)
    select id, 4 + (cast(substr(id, 25) as integer) % 50) / 10.0, 'bench', 0 from jobs where cast(substr(id, 25) as integer) % 2 = 1`.execute(
    db,
  );
  await sql`${counter(rows / 5)} insert into annotation_tasks (id, user_id, kind, image_a, pair_key, created_at, expires_at, answered_at, rating)
    select printf('r%012d', i), 'user-' || (i % 3000), 'rating', ${sql.raw(jobId('i * 5'))}, ${sql.raw(jobId('i * 5'))}, 0, 0, 0, 1 + i % 10 from c`.execute(
    db,
  );
  await sql`${counter(rows / 20)} insert into annotation_tasks (id, user_id, kind, image_a, image_b, pair_key, created_at, expires_at, answered_at, choice)
    select printf('p%012d', i), 'user-' || (i % 3000), 'pairwise', ${sql.raw(jobId('i * 20'))}, ${sql.raw(jobId('i * 20 + 1'))}, ${sql.raw(jobId('i * 20'))} || ':' || ${sql.raw(jobId('i * 20 + 1'))}, 0, 0, 0, case i % 3 when 0 then 'a' when 1 then 'b' else 'tie' end from c`.execute(
    db,
  );
  await handle.close();
  const blobs = new FsBlobStore(blobsDir);
  await blobs.put(`images/${sha.slice(0, 2)}/${sha}.png`, png);
}

type Line = (label: string, ours: number, unit: string, baselineLabel: string, baseline: number) => void;

/**
 * CPU seconds of the calling thread alone (Linux: /proc/thread-self/stat utime + stime, 10 ms ticks); the
 * release reads SQLite on a thread of its own and DuckDB works on its own, so this is the event loop's part.
 */
const threadCpuSeconds = (): number => {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const cpuSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

/** The measured children of the end-to-end part (run by datasets.ts's --child). */
export async function sqliteChild(mode: string, rows: number, dir: string): Promise<object> {
  const { DatasetService, FsBlobStore, openDatabase, systemClock } = await import('@dreamfold/server');
  const handle = await openDatabase(`sqlite:${join(dir, 'dreamfold.db')}`);
  try {
    if (mode === 'sqlite-raw') {
      // The release source's own three statements, unpaged, each row read as an array by better-sqlite3:
      // what reading the rows costs before anything is done with them.
      const { publishedImagesPage, publishableRatingsPage, publishablePreferencesPage } =
        await import('../packages/server/src/datasets/source-queries.js');
      const { RELEASE_READ_MMAP_BYTES } =
        await import('../packages/server/src/datasets/sqlite-reader-thread.js');
      const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
      const SQLite = require('better-sqlite3') as typeof SQLiteDatabase;
      const raw = new SQLite(join(dir, 'dreamfold.db'), { readonly: true });
      // Read as the release's reader thread reads it: through the same memory map.
      raw.pragma(`mmap_size = ${RELEASE_READ_MMAP_BYTES}`);
      const t = performance.now();
      const cpu = process.cpuUsage();
      let n = 0;
      for (const page of [publishedImagesPage, publishableRatingsPage, publishablePreferencesPage]) {
        const query = page(handle.db, null, rows + 1);
        for (const _ of raw
          .prepare(query.sql)
          .raw(true)
          .iterate(...query.parameters))
          n++;
      }
      const cpuSeconds = cpuSince(cpu);
      raw.close();
      return { seconds: (performance.now() - t) / 1000, cpuSeconds, rows: n };
    }
    if (mode === 'sqlite-release') {
      const blobs = new FsBlobStore(join(dir, 'blobs'));
      const service = new DatasetService(handle, blobs, systemClock, { dir: join(dir, 'datasets') });
      const t = performance.now();
      const cpu = process.cpuUsage();
      const mainStart = threadCpuSeconds();
      let mainThread = 0;
      const peaks = rssPeaksByPhase();
      // The resident size counts the mapped database file (sqlite-reader-thread.ts): page cache the
      // operating system shares and drops under pressure. The anonymous part is the release's own memory.
      let anonymousPeakMb = 0;
      const sampler = setInterval(() => {
        const kb = /RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
        anonymousPeakMb = Math.max(anonymousPeakMb, Number(kb ?? 0) / 1024);
      }, 50);
      const r = await service.release({
        name: 'bench',
        onProgress: (p) => {
          // Until the Parquet tables are written (the shards come after).
          if (p.phase === 'shards' && mainThread === 0) mainThread = threadCpuSeconds() - mainStart;
          peaks.phase(p.phase);
        },
      });
      peaks.stop();
      clearInterval(sampler);
      const cpuTotal = cpuSince(cpu);
      const wallTotal = (performance.now() - t) / 1000;
      if (r.manifest.counts.images !== rows)
        throw new Error(`released ${r.manifest.counts.images} of ${rows} images`);
      if (r.manifest.counts.ratings !== rows / 5 || r.manifest.counts.preferences !== rows / 20)
        throw new Error(`released ${JSON.stringify(r.manifest.counts)}`);
      // Before the first phase: the claim, the salt, starting the reader thread (which counts the exclusions).
      const phases = (by: Record<string, number>) => Object.values(by).reduce((a, b) => a + b, 0);
      return {
        seconds: { before: wallTotal - phases(r.seconds), ...r.seconds },
        cpuSeconds: { before: cpuTotal - phases(r.cpuSeconds), ...r.cpuSeconds },
        mainThread,
        anonymousPeakMb,
      };
    }
    throw new Error(`unknown mode ${mode}`);
  } finally {
    await handle.close();
  }
}

function child(script: string, mode: string, rows: number, dir: string): Record<string, unknown> {
  const r = spawnSync(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', script, '--child', mode, String(rows), dir],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  if (r.status !== 0) throw new Error(`${mode} failed:\n${r.stdout}\n${r.stderr}`);
  if (process.env.BENCH_TRACE) process.stderr.write(`${mode} ${rows}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** Everything before the WebDataset shards: what it takes to write the Parquet tables. */
const METADATA_PHASES = ['before', 'annotations', 'images', 'tables'] as const;
const metadataSum = (by: Record<string, number>) => METADATA_PHASES.reduce((sum, p) => sum + by[p]!, 0);

/**
 * The end-to-end figure. `range` is DuckDB alone writing the same columns from range(), measured in the
 * same run (datasets.ts), in rows per CPU-second and per second.
 */
export async function benchFromSqlite(
  rows: number,
  script: string,
  png: Buffer,
  sha: string,
  line: Line,
  range: { cpuRowsPerSecond: number; rowsPerSecond: number },
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dreamfold-bench-datasets-sqlite-'));
  try {
    const t = performance.now();
    await fillDatabase(`sqlite:${join(dir, 'dreamfold.db')}`, join(dir, 'blobs'), rows, png, sha);
    console.log(
      `\nEnd to end, from a coordinator SQLite database (${fmt(rows)} public images, ${fmt(rows / 5)} ratings, ${fmt(rows / 20)} pairwise answers; filled in ${((performance.now() - t) / 1000).toFixed(1)} s):`,
    );
    const raw = child(script, 'sqlite-raw', rows, dir);
    const release = child(script, 'sqlite-release', rows, dir);
    const cpu = release.cpuSeconds as Record<string, number>;
    const phases = release.seconds as Record<string, number>;
    line(
      'metadata rows/s by CPU seconds, from SQLite',
      rows / metadataSum(cpu),
      'rows/s',
      'DuckDB range() → Parquet, CPU s',
      range.cpuRowsPerSecond,
    );
    console.log(
      `  counts: the release process's CPU seconds (all threads: better-sqlite3 reading the database, our JavaScript,
  DuckDB writing Parquet) from the call of DatasetService.release until metadata.parquet, ratings.parquet,
  preferences.parquet and changes.parquet are written: before the first phase (the claim, the salt, the threads)
  ${cpu.before!.toFixed(2)} + annotations ${cpu.annotations!.toFixed(2)} + images ${cpu.images!.toFixed(2)} + tables ${cpu.tables!.toFixed(2)} = ${metadataSum(cpu).toFixed(2)} s`,
    );
    const main = release.mainThread as number;
    line(
      'metadata rows/s by main-thread CPU s',
      rows / main,
      'rows/s',
      'DuckDB range() → Parquet, CPU s',
      range.cpuRowsPerSecond,
    );
    console.log(
      `  the same span, CPU seconds of the main thread alone (staging and our JavaScript): ${main.toFixed(2)} of the
  ${metadataSum(cpu).toFixed(2)}; the rest ran beside it, on the SQLite reader thread and DuckDB's threads`,
    );
    const read = raw.cpuSeconds as number;
    console.log(
      `  of which reading the database alone (the source's three statements unpaged, rows as arrays, nothing done
  with them): ${read.toFixed(2)} CPU s = ${((100 * read) / metadataSum(cpu)).toFixed(0)} % (with nothing else to do, at most ${fmt(rows / read)} rows/s)`,
    );
    line(
      'metadata rows/s by wall time, from SQLite',
      rows / metadataSum(phases),
      'rows/s',
      'DuckDB range() → Parquet',
      range.rowsPerSecond,
    );
    console.log(
      `  CPU seconds by phase: ${Object.entries(cpu)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}; wall: ${Object.entries(phases)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(
          ', ',
        )}; peak RSS ${fmt(release.maxRssMb as number)} MB, of which anonymous at most ${fmt(release.anonymousPeakMb as number)} MB (the rest file-backed: the database, mapped)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
