// The public gallery through HTTP: GET /v1/images (first page, a deep page, aesthetic order, prompt search
// with few and with no matches), one image's details, its PNG and its WebP thumbnail — beside a bare
// Fastify no-op route measured with the same client in the same run.
//
// Setup (not timed): a fresh database is seeded in this process with BENCH_IMAGES finished images
// (default 20,000; one generation each, six-word prompts, half of them scored, 2% hidden by a moderator,
// 5% owned by a user who withdrew their images) and BENCH_FILES real 512×512 PNGs in the blob store
// that the images share; the coordinator then starts in a child process (bench/_coordinator.ts) on that
// database. Timed: closed loops of GETs on 8 connections, anonymous (the public path).
//
// Environment: DATABASE_URL (PostgreSQL admin URL; default postgres://postgres@127.0.0.1:5432/test; set
// BENCH_PG=0 to skip PostgreSQL), BENCH_PHASE_MS (default 3000), BENCH_IMAGES, BENCH_FILES.
import { cpus, loadavg } from 'node:os';
import { createHash, randomInt } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { sql } from 'kysely';
import type { Pool } from 'undici';
import { AccountsService, FsBlobStore, openDatabase, publicImages, systemClock } from '@dreamfold/server';
import { createTestDatabase, tempDir, type TestDatabase } from '@dreamfold/server/testing';
import { client, closedLoop, fmt, hit, latencySummary, requestJson, startServerChild } from './_harness.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 3000);
const WARMUP_MS = 500;
const IMAGES = Number(process.env.BENCH_IMAGES ?? 20_000);
const FILES = Number(process.env.BENCH_FILES ?? 40);
const CONNECTIONS = 8;
const PG_ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
process.env.DATABASE_URL = PG_ADMIN_URL; // createTestDatabase reads the admin URL from it

const vocabulary = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}${'xyz'[i % 3]}`);

interface Seeded {
  publicIds: string[];
}

/** Real PNGs in the coordinator's blob store, at the key storage/blob-store.ts's imageKey gives them. */
async function storeFiles(blobDir: string): Promise<string[]> {
  const store = new FsBlobStore(blobDir);
  const shas: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const png = await sharp({
      create: { width: 512, height: 512, channels: 3, background: { r: i * 5, g: 90, b: 200 - i * 3 } },
    })
      .composite([
        {
          input: await sharp({
            create: {
              width: 512,
              height: 512,
              channels: 3,
              background: { r: 0, g: 0, b: 0 },
              noise: { type: 'gaussian', mean: 128, sigma: 40 },
            },
          })
            .png()
            .toBuffer(),
          blend: 'soft-light',
        },
      ])
      .png({ compressionLevel: 1 })
      .toBuffer();
    const sha = createHash('sha256').update(png).digest('hex');
    await store.put(`images/${sha.slice(0, 2)}/${sha}.png`, png);
    shas.push(sha);
  }
  await store.close();
  return shas;
}

async function seed(url: string, shas: string[]): Promise<Seeded> {
  const handle = await openDatabase(url);
  const { db } = handle;
  const accounts = new AccountsService(db, systemClock);
  const owner = await accounts.createUser('owner@gallery.bench', 'user');
  const gone = await accounts.createUser('gone@gallery.bench', 'user');
  await db
    .updateTable('users')
    .set({ dataset_consent: 'withdrawn' })
    .where('id', '=', gone.user.id)
    .execute();
  const tables = new Set((await db.introspection.getTables()).map((t) => t.name));
  const start = Date.now() - IMAGES * 1000;
  for (let from = 0; from < IMAGES; from += 250) {
    const batch = Array.from({ length: Math.min(250, IMAGES - from) }, (_, k) => {
      const i = from + k;
      const words = Array.from({ length: 6 }, () => vocabulary[randomInt(vocabulary.length)]);
      if (i % 100 === 0) words[2] = 'lighthouse';
      return {
        id: createHash('sha256').update(`g${i}`).digest('hex').slice(0, 32),
        userId: i % 20 === 0 ? gone.user.id : owner.user.id,
        prompt: words.join(' '),
        at: start + i * 1000,
        sha: shas[i % shas.length] as string,
        hidden: i % 50 === 7,
        score: i % 2 === 0 ? Math.round(randomInt(1000, 9000)) / 1000 : undefined,
      };
    });
    await db
      .insertInto('generations')
      .values(
        batch.map((b) => ({
          id: b.id,
          user_id: b.userId,
          prompt: b.prompt,
          negative_prompt: '',
          model: 'sd-1.5',
          width: 512,
          height: 512,
          steps: 25,
          guidance_scale: 7,
          sampler: 'euler_a',
          seed: 1,
          n: 1,
          created_at: b.at,
        })),
      )
      .execute();
    await db
      .insertInto('jobs')
      .values(
        batch.map((b) => ({
          id: `${b.id}_0`,
          generation_id: b.id,
          idx: 0,
          user_id: b.userId,
          model: 'sd-1.5',
          pixels: 512 * 512,
          seed: 1,
          priority: 0,
          state: 'done' as const,
          attempts: 1,
          max_attempts: 3,
          lease_id: null,
          worker_id: null,
          lease_expires_at: null,
          step: 25,
          total_steps: 25,
          last_error: null,
          result_sha256: b.sha,
          result_bytes: 1,
          created_at: b.at,
          finished_at: b.at + 500,
        })),
      )
      .execute();
    const hidden = batch.filter((b) => b.hidden);
    if (hidden.length > 0)
      await db
        .insertInto('hidden_images')
        .values(
          hidden.map((b) => ({ image_id: `${b.id}_0`, reason: 'bench', hidden_by: null, hidden_at: b.at })),
        )
        .execute();
    const scored = batch.filter((b) => b.score !== undefined);
    if (scored.length > 0)
      await db
        .insertInto('image_scores')
        .values(
          scored.map((b) => ({
            image_id: `${b.id}_0`,
            aesthetic_score: b.score as number,
            model: 'bench',
            scored_at: b.at,
          })),
        )
        .execute();
    // Where the output-safety domain is present: as with no classifier configured, images may be shown.
    if (tables.has('image_safety')) {
      await db
        .insertInto('image_safety' as never)
        .values(
          batch.map((b) => ({
            image_id: `${b.id}_0`,
            state: 'unchecked',
            hid: 0,
            attempts: 0,
            created_at: b.at,
          })) as never,
        )
        .execute();
    }
  }
  // As in a database that has been running a while: the planner has statistics.
  if (url.startsWith('postgres')) await sql`analyze`.execute(db);
  const publicIds = (await publicImages(db).select('public_job.id').limit(2000).execute()).map((r) => r.id);
  await handle.close();
  return { publicIds };
}

async function phase(pool: Pool, label: string, path: () => string, noopRps: number): Promise<void> {
  await closedLoop(CONNECTIONS, WARMUP_MS, () => hit(pool, path()));
  const latencies: number[] = [];
  const r = await closedLoop(CONNECTIONS, PHASE_MS, async () => {
    const t0 = performance.now();
    await hit(pool, path());
    latencies.push(performance.now() - t0);
  });
  const rate = r.count / r.seconds;
  console.log(
    `  ${label}: ${fmt(rate)} req/s (${((100 * rate) / noopRps).toFixed(1)}% of the no-op route); ${latencySummary(latencies)}`,
  );
}

async function scenario(label: string, dialect: 'sqlite' | 'postgres', noopRps: number): Promise<void> {
  const database: TestDatabase = await createTestDatabase(dialect);
  const dataDir = tempDir('dreamfold-bench-');
  try {
    console.log(`\n${label}:`);
    const t0 = performance.now();
    const shas = await storeFiles(join(dataDir, 'blobs'));
    const seeded = await seed(database.url, shas);
    console.log(
      `  seeded ${fmt(IMAGES)} images (${fmt(seeded.publicIds.length)}+ public sampled) and ${FILES} PNGs in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const server = await startServerChild({
      mode: 'coordinator',
      env: { DATABASE_URL: database.url, DATA_DIR: dataDir, BENCH_WORKERS: '0', NSFW_CLASSIFIER: 'off' },
    });
    const pool = client(server.url, CONNECTIONS);
    try {
      // A cursor 10,000 images deep, walked the way a client would.
      let deep: string | undefined;
      for (let seen = 0; seen < 10_000; seen += 100) {
        const page = await requestJson<{ nextCursor?: string }>(
          pool,
          'GET',
          `/v1/images?limit=100${deep ? `&cursor=${deep}` : ''}`,
        );
        deep = page.body.nextCursor;
      }
      const anyId = () => seeded.publicIds[randomInt(seeded.publicIds.length)] as string;
      await phase(pool, 'gallery, first page (24, newest)', () => '/v1/images?limit=24', noopRps);
      await phase(
        pool,
        'gallery, page after 10,000 images',
        () => `/v1/images?limit=24&cursor=${deep}`,
        noopRps,
      );
      await phase(
        pool,
        'gallery, best aesthetic score first',
        () => '/v1/images?sort=aesthetic&limit=24',
        noopRps,
      );
      await phase(pool, 'search, 1% of prompts match', () => '/v1/images?q=lighthouse&limit=24', noopRps);
      await phase(
        pool,
        'search, nothing matches (full scan)',
        () => '/v1/images?q=nowhere&limit=24',
        noopRps,
      );
      await phase(pool, 'one image (details)', () => `/v1/images/${anyId()}`, noopRps);
      await phase(pool, 'PNG file (512×512)', () => `/v1/images/${anyId()}/file`, noopRps);
      // Thumbnails: the first request for each stored PNG makes and keeps its WebP.
      const byFile = new Map<string, string>();
      for (const id of seeded.publicIds) {
        const detail = await requestJson<{ sha256: string }>(pool, 'GET', `/v1/images/${id}`);
        if (!byFile.has(detail.body.sha256)) byFile.set(detail.body.sha256, id);
        if (byFile.size === FILES) break;
      }
      const cold: number[] = [];
      for (const id of byFile.values()) {
        const t = performance.now();
        await hit(pool, `/v1/images/${id}/thumb`);
        cold.push(performance.now() - t);
      }
      console.log(
        `  thumbnail, first request (sharp resize + WebP + store), one at a time: ${latencySummary(cold)}`,
      );
      await phase(pool, 'thumbnail, already made', () => `/v1/images/${anyId()}/thumb`, noopRps);
    } finally {
      await pool.close();
      await server.close();
    }
  } finally {
    await database.drop();
  }
}

async function main(): Promise<void> {
  console.log(
    `Gallery benchmark — ${cpus().length} CPU cores shared by the coordinator (child process) and the load generator; ` +
      `${CONNECTIONS} connections; phases of ${PHASE_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}.`,
  );
  const noop = await startServerChild({ mode: 'noop' });
  const noopPool = client(noop.url, CONNECTIONS);
  await closedLoop(CONNECTIONS, WARMUP_MS, () => hit(noopPool, '/noop'));
  const base = await closedLoop(CONNECTIONS, PHASE_MS, () => hit(noopPool, '/noop'));
  await noopPool.close();
  await noop.close();
  const noopRps = base.count / base.seconds;
  console.log(`\nBaseline: bare Fastify no-op GET: ${fmt(noopRps)} req/s`);
  await scenario('SQLite, synchronous=NORMAL', 'sqlite', noopRps);
  if (process.env.BENCH_PG !== '0')
    await scenario('PostgreSQL (fresh database, dropped afterwards)', 'postgres', noopRps);
  console.log(
    `\nLoad average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other processes on this machine skew every figure above).`,
  );
}

await main();
