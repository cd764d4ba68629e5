// Benchmark of @dreamfold/datasets: how fast a release is written and how much memory it takes as the
// platform grows, each figure beside a baseline measured in this same run.
//   node --conditions=development --import tsx bench/datasets.ts      (npm run bench -- datasets)
// Environment: BENCH_ROWS (default 1,000,000 images), BENCH_SMALL (default 100,000), BENCH_LARGE (a third
// size for the memory figure, off by default), BENCH_SQLITE=0 skips the end-to-end run from a coordinator
// database, BENCH_LIBRARY=0 the runs of the library alone; BENCH_TRACE=1 prints each child's peak RSS by phase.
//
// Every measured release runs in a child process of its own, so its peak RSS (getrusage maxrss) is its
// own. Figures:
//   end to end       (the issue's figure) a release through the coordinator's DatasetService from a SQLite
//                    database of N public images (ids in random order, as the coordinator's UUIDs are) with
//                    N/5 ratings and N/20 pairwise answers: N ÷ the release
//                    process's CPU seconds (all threads: better-sqlite3 reading, our JavaScript, DuckDB
//                    writing) from its start until every Parquet table is written (annotations + images +
//                    tables phases); also by the main thread's CPU seconds alone (the database is read
//                    on a thread of its own, DuckDB works on its own), by wall time, and the database
//                    read alone (the source's statements unpaged, rows as arrays) as its share
//                    baseline: DuckDB alone writing the same columns for the same row count from range()
//   library alone    the same phases of writeRelease fed rows this script makes in memory (their making
//                    included, and printed on its own)
//   release samples/s the whole release including WebDataset shards (one tiny PNG per sample), manifest
//                    baseline: tar-stream alone writing the same number of 3-member samples, and the same
//                    tar bytes with headers encoded by hand (_ustar.ts)
//   peak RSS         1,000,000-row release vs the 100,000-row release (flat = ratio near 1) and vs a
//                    process that only generates the rows (the input side, without the release)
// CPU seconds are what these mostly single-threaded phases take on a quiet machine; on the shared machine
// wall time also counts waiting for a core.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { ReleaseImage } from '@dreamfold/datasets';
import { fmt, rssPeaksByPhase } from './_harness.js';

/** The part of tar-stream 3 (resolved from packages/datasets, not the root's older copy) used here. */
interface TarStream {
  pack(): NodeJS.ReadableStream & {
    entry(
      header: { name: string; size: number; mtime: Date; mode: number; uid: number; gid: number },
      data: Buffer,
    ): unknown;
    finalize(): void;
  };
}

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SMALL = Number(process.env.BENCH_SMALL ?? 100_000);
/** Optional third size for the memory figure, e.g. 3000000 (a few minutes more). */
const LARGE = Number(process.env.BENCH_LARGE ?? 0);
const SQLITE = process.env.BENCH_SQLITE !== '0';
const LIBRARY = process.env.BENCH_LIBRARY !== '0';

// --- synthetic platform rows (shared by parent and children) ---

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid 8×8 RGB PNG (~100 bytes): the bench measures the release machinery, not disk bandwidth. */
export const TINY_PNG = (() => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc(8 * 25, 7);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
})();
export const TINY_SHA = createHash('sha256').update(TINY_PNG).digest('hex');

const WORDS =
  'a painting of lighthouse fox harbour at dawn in the style of oil watercolor misty golden hour'.split(' ');

// --- children: one measured thing each, JSON on the last line ---

async function child(mode: string, rows: number, dir: string): Promise<void> {
  const started = performance.now();
  const { writeRelease } = await import('@dreamfold/datasets');
  // Ids come sorted, as the caller must give them, in pages of 500 as the coordinator's source hands them on.
  const image = (i: number): ReleaseImage => {
    const w = i % WORDS.length;
    return {
      id: `img${String(i).padStart(12, '0')}`,
      sha256: TINY_SHA,
      prompt: `${WORDS[w]} ${WORDS[(w + 3) % WORDS.length]} ${WORDS[(w + 5) % WORDS.length]} number ${i}`,
      negativePrompt: i % 3 === 0 ? 'blurry, low quality' : '',
      model: i % 2 ? 'sd-1.5' : 'sdxl-turbo',
      sampler: 'euler',
      steps: 20 + (i % 10),
      guidanceScale: 7.5,
      seed: i * 7919,
      width: 512,
      height: 512,
      createdAt: Date.UTC(2026, 0, 1) + i * 1000,
      creatorId: `user-${i % 5000}`,
      workerId: `worker-${i % 200}`,
      aestheticScore: i % 2 ? 4 + (i % 50) / 10 : null,
      punsafe: (i % 100) / 100,
      flags: { answers: i % 4 === 0 ? 1 : 0, nsfw: 0, broken: 0, offensive: 0, does_not_match_prompt: 0 },
    };
  };
  const images = async function* (): AsyncGenerator<ReleaseImage[]> {
    for (let start = 0; start < rows; start += 500) {
      const page: ReleaseImage[] = [];
      for (let i = start; i < Math.min(rows, start + 500); i++) page.push(image(i));
      yield page;
    }
  };
  // One rating per 5 images and one preference per 20, on published images.
  const ratings = function* () {
    for (let i = 0; i < rows; i += 5)
      yield {
        imageId: `img${String(i).padStart(12, '0')}`,
        raterId: `user-${i % 3000}`,
        score: 1 + (i % 10),
        kind: 'aesthetic',
      };
  };
  const preferences = function* () {
    for (let i = 0; i + 1 < rows; i += 20)
      yield {
        imageA: `img${String(i).padStart(12, '0')}`,
        imageB: `img${String(i + 1).padStart(12, '0')}`,
        prompt: 'pair',
        choice: (['a', 'b', 'tie'] as const)[i % 3]!,
        raterId: `user-${i % 3000}`,
      };
  };
  let result: unknown;
  const peaks = rssPeaksByPhase();
  if (mode === 'generate') {
    const cpu = process.cpuUsage();
    let n = 0;
    for await (const page of images()) n += page.length;
    for (const _ of ratings()) n++;
    for (const _ of preferences()) n++;
    const used = process.cpuUsage(cpu);
    result = { rows: n, cpuSeconds: (used.user + used.system) / 1e6 };
  } else if (mode === 'release') {
    const r = await writeRelease({
      outDir: dir,
      name: 'bench',
      createdAt: new Date(Date.UTC(2026, 0, 1)),
      salt: 'benchmark salt, long enough',
      images: images(),
      ratings: process.env.BENCH_NO_ANNOTATIONS ? [] : ratings(),
      preferences: process.env.BENCH_NO_ANNOTATIONS ? [] : preferences(),
      readImage: async () => TINY_PNG,
      aggregateRatingKind: 'aesthetic',
      duckdbMemoryLimit: process.env.BENCH_DUCKDB_MEMORY,
      onProgress: (p) => peaks.phase(p.phase),
    });
    peaks.stop();
    result = {
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
      manifestSha256: r.manifestSha256,
      shards: r.manifest.counts.shards,
    };
  } else if (mode === 'duckdb-range') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    const t = performance.now();
    const cpu = process.cpuUsage();
    // The columns and types of metadata.parquet, computed from the row number alone.
    await c.run(`COPY (
      SELECT 'img' || lpad(i::VARCHAR, 12, '0') AS id, '${TINY_SHA}' AS sha256, (i // 1000)::INTEGER AS shard,
             lpad(i::VARCHAR, 8, '0') AS key, 'a painting of a lighthouse number ' || i AS prompt,
             CASE WHEN i % 3 = 0 THEN 'blurry, low quality' ELSE '' END AS negative_prompt,
             CASE WHEN i % 2 = 1 THEN 'sd-1.5' ELSE 'sdxl-turbo' END AS model, 'euler' AS sampler,
             (20 + i % 10)::INTEGER AS steps, 7.5::DOUBLE AS guidance_scale, (i * 7919)::BIGINT AS seed,
             512::INTEGER AS width, 512::INTEGER AS height, DATE '2026-01-01' + (i // 86400)::INTEGER AS created_day,
             'u' || (i % 5000) AS creator, 'w' || (i % 200) AS worker,
             CASE WHEN i % 5 = 0 THEN (1 + i % 10)::DOUBLE END AS rating_mean, (i % 5 = 0)::INTEGER AS rating_count,
             NULL::DOUBLE AS rating_std, 0::INTEGER AS pairwise_wins, 0::INTEGER AS pairwise_losses,
             0::INTEGER AS pairwise_ties, CASE WHEN i % 2 = 1 THEN (4 + (i % 50) / 10)::FLOAT END AS aesthetic_score,
             ((i % 100) / 100)::FLOAT AS punsafe,
             {'answers': (i % 4 = 0)::INTEGER, 'nsfw': 0, 'broken': 0, 'offensive': 0, 'does_not_match_prompt': 0} AS flags,
             false AS has_embedding
      FROM range(${rows}) t(i)) TO '${join(dir, 'range.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
    const used = process.cpuUsage(cpu);
    result = { seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
    c.closeSync();
    instance.closeSync();
  } else if (mode === 'tar') {
    // tar-stream (the version @dreamfold/datasets uses) written the plain way: one pack per 1,000
    // samples piped to a file stream, the same three members per sample.
    const require = createRequire(new URL('../packages/datasets/package.json', import.meta.url));
    const tar = require('tar-stream') as TarStream;
    const t = performance.now();
    const header = (name: string, size: number) => ({
      name,
      size,
      mtime: new Date(0),
      mode: 0o644,
      uid: 0,
      gid: 0,
    });
    const cpu = process.cpuUsage();
    for (let start = 0; start < rows; start += 1000) {
      const pack = tar.pack();
      const done = pipeline(pack, createWriteStream(join(dir, `${start}.tar`)));
      for (let i = start; i < Math.min(rows, start + 1000); i++) {
        const key = String(i).padStart(8, '0');
        const json = Buffer.from(`{"id":"img${i}","prompt":"a painting of a lighthouse number ${i}"}`);
        const txt = Buffer.from(`a painting of a lighthouse number ${i}`);
        pack.entry(header(`${key}.json`, json.length), json);
        pack.entry(header(`${key}.png`, TINY_PNG.length), TINY_PNG);
        pack.entry(header(`${key}.txt`, txt.length), txt);
      }
      pack.finalize();
      await done;
    }
    const used = process.cpuUsage(cpu);
    result = { seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  } else if (mode === 'ustar') {
    const { writeUstarSamples } = await import('./_ustar.js');
    result = await writeUstarSamples(rows, dir, TINY_PNG);
  } else if (mode.startsWith('sqlite-')) {
    const { sqliteChild } = await import('./_datasets-sqlite.js');
    result = await sqliteChild(mode, rows, dir);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const total = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({ ...(result as object), total, maxRssMb: process.resourceUsage().maxRSS / 1024 }),
  );
}

interface ChildResult {
  total: number;
  cpuSeconds?: number | Record<string, number>;
  maxRssMb: number;
  seconds?: number | Record<string, number>;
  manifestSha256?: string;
  rows?: number;
}

function runChild(
  mode: string,
  rows: number,
  script = new URL(import.meta.url).pathname,
  extra: string[] = [],
): ChildResult {
  const dir = mkdtempSync(join(tmpdir(), `dreamfold-bench-datasets-${mode}-`));
  try {
    const r = spawnSync(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', script, '--child', mode, String(rows), dir, ...extra],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
        env: process.env,
      },
    );
    if (r.status !== 0) throw new Error(`${mode} ${rows} failed:\n${r.stdout}\n${r.stderr}`);
    if (process.env.BENCH_TRACE) process.stderr.write(`${mode} ${rows}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function line(label: string, ours: number, unit: string, baselineLabel: string, baseline: number): void {
  console.log(
    `${label.padEnd(44)} ${fmt(ours).padStart(10)} ${unit}   ${baselineLabel}: ${fmt(baseline)} ${unit}   → ${(ours / baseline).toFixed(2)}×`,
  );
}

function libraryAlone(range: ChildResult): void {
  const release = runChild('release', ROWS);
  const phases = release.seconds as Record<string, number>;
  const metadataSeconds = phases.images! + phases.annotations! + phases.tables!;
  const tar = runChild('tar', ROWS);
  const ustar = runChild('ustar', ROWS);
  const generated = runChild('generate', ROWS);
  console.log('\nThe library alone, rows made in memory by this script (no database):');
  line(
    'metadata rows/s (stage + Parquet tables)',
    ROWS / metadataSeconds,
    'rows/s',
    'DuckDB range() → Parquet',
    ROWS / (range.seconds as number),
  );
  // CPU seconds (this process, all threads) are what a quiet machine's wall time would be for these
  // mostly single-threaded phases; on a loaded machine wall time also counts waiting for a core.
  const cpu = release.cpuSeconds as Record<string, number>;
  line(
    'metadata rows/s by CPU seconds',
    ROWS / (cpu.images! + cpu.annotations! + cpu.tables!),
    'rows/s',
    'DuckDB range() → Parquet, CPU s',
    ROWS / (range.cpuSeconds as number),
  );
  console.log(
    `  (making the rows in memory is part of it: ${(generated.cpuSeconds as number).toFixed(2)} CPU s when done alone)`,
  );
  line(
    'release samples/s (everything, tiny PNGs)',
    ROWS / (phases.images! + phases.annotations! + phases.tables! + phases.shards! + phases.manifest!),
    'samples/s',
    'tar-stream alone',
    ROWS / (tar.seconds as number),
  );
  line(
    'shards phase samples/s',
    ROWS / phases.shards!,
    'samples/s',
    'tar-stream alone',
    ROWS / (tar.seconds as number),
  );
  line(
    'shards phase samples/s by CPU seconds',
    ROWS / cpu.shards!,
    'samples/s',
    'tar-stream alone, CPU s',
    ROWS / (tar.cpuSeconds as number),
  );
  line(
    'tar-stream alone, by CPU seconds',
    ROWS / (tar.cpuSeconds as number),
    'samples/s',
    'the same tar files, headers by hand (_ustar.ts)',
    ROWS / (ustar.cpuSeconds as number),
  );
  console.log(
    `  CPU seconds by phase (JavaScript + DuckDB threads): ${Object.entries(
      release.cpuSeconds as Record<string, number>,
    )
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')}`,
  );
  console.log(
    `  phases (s): ${Object.entries(phases)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')}`,
  );

  console.log('\nPeak RSS (each in its own process):');
  const small = runChild('release', SMALL);
  const idle = generated;
  line(
    `release of ${fmt(ROWS)} rows, MB`,
    release.maxRssMb,
    'MB',
    `release of ${fmt(SMALL)} rows`,
    small.maxRssMb,
  );
  line(
    `release of ${fmt(ROWS)} rows, MB`,
    release.maxRssMb,
    'MB',
    `generating the ${fmt(ROWS)} rows only`,
    idle.maxRssMb,
  );
  if (LARGE > 0) {
    const large = runChild('release', LARGE);
    line(
      `release of ${fmt(LARGE)} rows, MB`,
      large.maxRssMb,
      'MB',
      `release of ${fmt(ROWS)} rows`,
      release.maxRssMb,
    );
  }
  const again = runChild('release', SMALL);
  console.log(
    `\nReproducible: two releases of ${fmt(SMALL)} rows have ${again.manifestSha256 === small.manifestSha256 ? 'the same' : 'DIFFERENT'} manifest SHA-256 (${small.manifestSha256?.slice(0, 16)}…)`,
  );
}

async function main(): Promise<void> {
  console.log(
    `${cpus().length} CPUs (${cpus()[0]?.model}), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${fmt(ROWS)} images, 1 rating per 5, 1 preference per 20, no embeddings`,
  );
  const range = runChild('duckdb-range', ROWS);
  if (LIBRARY) libraryAlone(range);
  if (SQLITE) {
    const { benchFromSqlite } = await import('./_datasets-sqlite.js');
    await benchFromSqlite(ROWS, new URL(import.meta.url).pathname, TINY_PNG, TINY_SHA, line, {
      cpuRowsPerSecond: ROWS / (range.cpuSeconds as number),
      rowsPerSecond: ROWS / (range.seconds as number),
    });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, Number(process.argv[4]), process.argv[5]!);
} else {
  await main();
}
