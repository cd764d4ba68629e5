// The coordinator's part of bench/aesthetics.ts: embeddings scored per second by the background scorer
// (ScoringService rounds, as its timer runs them) when an admin installs a predictor and every stored
// embedding is re-scored. A coordinator is built in-process on a SQLite database holding N finished
// images, each with a stored 768-d float16 embedding; the sweep is timed from the install to its end.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type SQLiteDatabase from 'better-sqlite3';
import { createModel, encodeFloat16, encodeModel } from '@dreamfold/aesthetics';
import { buildCoordinator, loadConfig } from '@dreamfold/server';
import { fillDatabase } from './_datasets-sqlite.js';

const DIM = 768;
/** Distinct embeddings, stored in turn: the scorer's work does not depend on the values. */
const DISTINCT = 997;

export interface CoordinatorScoring {
  embeddings: number;
  seconds: number;
  cpuSeconds: number;
  rounds: number;
}

/** A SQLite coordinator database with `rows` finished images and an embedding for each. */
async function fill(dir: string, rows: number): Promise<string> {
  const url = `sqlite:${join(dir, 'dreamfold.db')}`;
  // The images' bytes are never read here.
  const png = Buffer.from('not read');
  await fillDatabase(url, join(dir, 'blobs'), rows, png, createHash('sha256').update(png).digest('hex'));
  const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
  const SQLite = require('better-sqlite3') as typeof SQLiteDatabase;
  const db = new SQLite(join(dir, 'dreamfold.db'));
  const stored: Buffer[] = [];
  let s = 12345;
  for (let k = 0; k < DISTINCT; k++) {
    const v = new Float32Array(DIM);
    for (let i = 0; i < DIM; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      v[i] = s / 2 ** 31 - 1;
    }
    const norm = Math.hypot(...v);
    const half = Buffer.alloc(2 * DIM);
    encodeFloat16(
      v.map((x) => x / norm),
      half,
    );
    stored.push(half);
  }
  // The scorer reads an embedding only while it belongs to the job's current lease.
  db.prepare(`update jobs set lease_id = 'bench-lease'`).run();
  const insert = db.prepare(
    `insert into image_embeddings (image_id, lease_id, dim, data, model, created_at) values (?, 'bench-lease', ${DIM}, ?, null, 0)`,
  );
  const ids = db.prepare('select id from jobs order by id').pluck().all() as string[];
  db.transaction(() => ids.forEach((id, i) => insert.run(id, stored[i % DISTINCT])))();
  db.close();
  return url;
}

export async function coordinatorScoring(rows: number): Promise<CoordinatorScoring> {
  const dir = await mkdtemp(join(tmpdir(), 'dreamfold-bench-scoring-'));
  try {
    const url = await fill(dir, rows);
    const config = loadConfig({ DATA_DIR: dir, DATABASE_URL: url, EMBEDDING_DIM: String(DIM) });
    // The timer is kept out of the way: the rounds below are the ones it would run, back to back.
    const c = await buildCoordinator({ config, logger: false, scoringIntervalMs: 3_600_000 });
    try {
      const scoring = c.services.scoring;
      const t = performance.now();
      const cpu = process.cpuUsage();
      await scoring.install(Buffer.from(encodeModel(createModel({ seed: 7 }))), null);
      let rounds = 0;
      for (;;) {
        rounds++;
        if (!(await scoring.round()).more) break;
      }
      const spent = process.cpuUsage(cpu);
      const { rescore, scored } = await scoring.status();
      if (!rescore.done || scored !== rows) throw new Error(`re-scored ${scored} of ${rows} embeddings`);
      return {
        embeddings: scored,
        seconds: (performance.now() - t) / 1000,
        cpuSeconds: (spent.user + spent.system) / 1e6,
        rounds,
      };
    } finally {
      await c.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
