// The end-to-end part of bench/datasets.ts: a coordinator SQLite database filled with N finished images
// (jobs, generations, users, the safety rows that make them public), then a release from it through
// the coordinator's release source, beside better-sqlite3 reading the same joined rows alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { FsBlobStore, openDatabase } from '@dreamfold/server';
import { fmt } from './_harness.js';

const USERS = 5000;

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
    select printf('%032d', i), printf('gen%012d', i / 4), i % 4, 'user-' || ((i / 4) % ${sql.lit(USERS)}), 'sd-1.5', 262144, i, 0, 'done', 1, 3, 'worker-' || (i % 200), 30, 30, ${sha}, ${sql.lit(png.length)}, 0, 0 from c`.execute(
    db,
  );
  await sql`insert into image_safety (image_id, state, created_at) select id, 'unchecked', 0 from jobs`.execute(
    db,
  );
  await handle.close();
  const blobs = new FsBlobStore(blobsDir);
  await blobs.put(`images/${sha.slice(0, 2)}/${sha}.png`, png);
}

type Line = (label: string, ours: number, unit: string, baselineLabel: string, baseline: number) => void;

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
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

export async function benchFromSqlite(
  rows: number,
  script: string,
  png: Buffer,
  sha: string,
  line: Line,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dreamfold-bench-datasets-sqlite-'));
  try {
    const t = performance.now();
    await fillDatabase(`sqlite:${join(dir, 'dreamfold.db')}`, join(dir, 'blobs'), rows, png, sha);
    console.log(
      `\nFrom a coordinator SQLite database (${fmt(rows)} public images, filled in ${((performance.now() - t) / 1000).toFixed(1)} s):`,
    );
    const raw = child(script, 'sqlite-raw', rows, dir);
    const release = child(script, 'sqlite-release', rows, dir);
    const phases = release.seconds as Record<string, number>;
    const metadata = phases.images! + phases.annotations! + phases.tables!;
    line(
      'metadata rows/s from SQLite (source + tables)',
      rows / metadata,
      'rows/s',
      'better-sqlite3 reading the rows',
      rows / (raw.seconds as number),
    );
    line(
      'images phase rows/s (release source + staging)',
      rows / phases.images!,
      'rows/s',
      'better-sqlite3 reading the rows',
      rows / (raw.seconds as number),
    );
    console.log(
      `  phases (s): ${Object.entries(phases)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}; peak RSS ${fmt(release.maxRssMb as number)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
