// 512×512 result uploads validated and re-encoded per second, end to end through HTTP
// (PUT /v1/jobs/:id/result → validateUpload → blob store → job done), beside sharp alone decoding and
// re-encoding the same PNG in this process in one pipeline at zlib level 1 without filters (the ingest
// default, and until 2026-12-07 the only re-encode), and beside the coordinator's own re-encode
// (images/sharp-reencode.ts, which stores pixels deflate cannot shrink) run alone in this process.
//
// Jobs are leased before each timed phase, so a phase measures uploads only. The coordinator runs in a
// child process (bench/_coordinator.ts, SQLite, filesystem blobs); it shares this machine's cores with
// the load generator. Environment: BENCH_PHASE_MS (default 5000), BENCH_UPLOADERS (default 8),
// BENCH_PROFILE=1 (run the coordinator under --cpu-prof and print where its main thread's time goes during
// the noise phase; BENCH_PROFILE_KEEP=FILE also keeps the raw .cpuprofile).
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { tempDir } from '@dreamfold/server/testing';
import { reencodeWithSharp } from '../packages/server/src/images/sharp-reencode.js';
import {
  client,
  closedLoop,
  cpuMs,
  fmt,
  latencySummary,
  requestJson,
  startServerChild,
  summarizeProfile,
} from './_harness.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 5000);
const UPLOADERS = Number(process.env.BENCH_UPLOADERS ?? 8);
const SIDE = 512;
const TARGET = 150;
const PROFILE = process.env.BENCH_PROFILE === '1';

/** Noise around a gradient: compresses about as badly as a detailed generated image (~0.5 MB). */
async function noisyPng(): Promise<Buffer> {
  const px = Buffer.alloc(SIDE * SIDE * 3);
  const noise = randomBytes(px.length);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * SIDE + x) * 3 + c;
        const base = c === 0 ? x / 2 : c === 1 ? y / 2 : (x + y) / 4;
        px[i] = Math.min(255, Math.max(0, Math.round(base + ((noise[i] as number) % 48) - 24)));
      }
  return sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } })
    .png()
    .toBuffer();
}

/** A smooth gradient: the easy case for the PNG encoder. */
async function gradientPng(): Promise<Buffer> {
  const px = Buffer.alloc(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      const i = (y * SIDE + x) * 3;
      px[i] = x >> 1;
      px[i + 1] = y >> 1;
      px[i + 2] = (x + y) >> 2;
    }
  return sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } })
    .png()
    .toBuffer();
}

/** What validateUpload does with sharp, and nothing else. */
function reencode(
  png: Buffer,
  options: { compressionLevel: number; adaptiveFiltering: boolean },
): Promise<Buffer> {
  return sharp(png, { limitInputPixels: SIDE * SIDE, failOn: 'warning' })
    .removeAlpha()
    .png(options)
    .toBuffer();
}

interface Leased {
  id: string;
  path: string;
  key: string;
}

async function main(): Promise<void> {
  console.log(
    `Upload benchmark — ${cpus().length} CPU cores shared by the coordinator (child process, SQLite + filesystem blobs) and this load generator;` +
      ` ${UPLOADERS} concurrent uploads; ${PHASE_MS / 1000} s phases; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}.`,
  );
  console.log(`Target (issue): ≥ ${TARGET} 512×512 uploads validated and re-encoded per second.`);
  const images = [
    { name: 'noise', png: await noisyPng() },
    { name: 'gradient', png: await gradientPng() },
  ];
  for (const img of images) console.log(`  ${img.name} PNG: ${fmt(img.png.length)} bytes`);

  // Baseline: sharp alone, in this process, same options as validateUpload, same concurrency.
  console.log(
    `\nBaseline: sharp alone (decode + removeAlpha + PNG re-encode in one pipeline, compressionLevel 1, no adaptive filtering — the ingest default), in-process;` +
      ` sharp.concurrency() ${sharp.concurrency()}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}:`,
  );
  const baseline = new Map<string, number>();
  for (const img of images) {
    await closedLoop(UPLOADERS, 500, () =>
      reencode(img.png, { compressionLevel: 1, adaptiveFiltering: false }).then(() => {}),
    );
    const c0 = process.cpuUsage();
    const r = await closedLoop(UPLOADERS, PHASE_MS, () =>
      reencode(img.png, { compressionLevel: 1, adaptiveFiltering: false }).then(() => {}),
    );
    const rate = r.count / r.seconds;
    baseline.set(img.name, rate);
    console.log(
      `  ${img.name}: ${fmt(rate)} images/s (${fmt(r.count)} in ${r.seconds.toFixed(1)} s), CPU ${fmt(cpuMs(c0, process.cpuUsage()) / r.count, 1)} ms per image`,
    );
  }
  // The coordinator's re-encode alone (one pipeline, or decode + sampled decision + encode), in-process.
  console.log("  the coordinator's re-encode alone (images/sharp-reencode.ts), in-process:");
  for (const img of images) {
    let chosen = { level: -1, bytes: 0 };
    const c0 = process.cpuUsage();
    const r = await closedLoop(UPLOADERS, PHASE_MS / 2, async () => {
      const out = await reencodeWithSharp(img.png, SIDE, SIDE);
      chosen = { level: out.level, bytes: out.png.length };
    });
    const rate = r.count / r.seconds;
    console.log(
      `    ${img.name}: ${fmt(rate)} images/s (${((100 * rate) / (baseline.get(img.name) ?? rate)).toFixed(0)}% of the one-pipeline level 1), CPU ${fmt(cpuMs(c0, process.cpuUsage()) / r.count, 1)} ms per image; chose zlib level ${chosen.level}, ${fmt(chosen.bytes)} bytes`,
    );
  }
  // What other encoder settings would cost (shorter phases; for the report, not a target).
  console.log('  other encoder settings (what-if, 1 s each):');
  for (const img of images) {
    for (const opts of [
      { compressionLevel: 0, adaptiveFiltering: false },
      { compressionLevel: 1, adaptiveFiltering: false },
      { compressionLevel: 3, adaptiveFiltering: false },
      { compressionLevel: 6, adaptiveFiltering: false },
      { compressionLevel: 6, adaptiveFiltering: true },
    ]) {
      let bytes = 0;
      const r = await closedLoop(UPLOADERS, 1000, async () => {
        bytes = (await reencode(img.png, opts)).length;
      });
      console.log(
        `    ${img.name}, compressionLevel ${opts.compressionLevel}, adaptiveFiltering ${opts.adaptiveFiltering}: ${fmt(r.count / r.seconds)} images/s, output ${fmt(bytes)} bytes`,
      );
    }
  }

  // Through HTTP.
  const server = await startServerChild({
    mode: 'coordinator',
    env: {
      DATABASE_URL: `sqlite:${tempDir('dreamfold-bench-')}/bench.db`,
      DATA_DIR: tempDir('dreamfold-bench-'),
      LEASE_SECONDS: '600',
      BENCH_WORKERS: '16',
    },
    profile: PROFILE,
  });
  let profileWindow: { window: [number, number]; uploads: number } | undefined;
  console.log(
    `\nThrough HTTP (PUT /v1/jobs/:id/result): coordinator sharp.concurrency() ${server.info.sharpConcurrency}, UV_THREADPOOL_SIZE ${server.info.uvThreadpoolSize}:`,
  );
  const pool = client(server.url);
  let uploaded = 0;
  for (const img of images) {
    // Lease more jobs than the phase can possibly use at the baseline's rate.
    const want = Math.ceil(((baseline.get(img.name) ?? 500) * 2 * PHASE_MS) / 1000) + 200;
    const leased: Leased[] = [];
    for (let submitted = 0; submitted < want; submitted += 4) {
      const r = await requestJson(pool, 'POST', '/v1/generations', {
        key: server.userKey,
        json: { prompt: 'a bench', model: 'bench', width: SIDE, height: SIDE, steps: 1, n: 4 },
      });
      if (r.status !== 201) throw new Error(`submit answered ${r.status}`);
    }
    await Promise.all(
      server.workerKeys.map(async (key) => {
        for (;;) {
          const r = await requestJson<{ job: { id: string; upload: { url: string } } | null }>(
            pool,
            'POST',
            '/v1/workers/pop',
            {
              key,
              json: { backend: 'test-pattern', models: ['bench'], maxPixels: SIDE * SIDE, waitSeconds: 0 },
            },
          );
          if (!r.body.job) return;
          const u = new URL(r.body.job.upload.url);
          leased.push({ id: r.body.job.id, path: u.pathname + u.search, key });
        }
      }),
    );
    await server.reset();
    const before = await server.stats();
    const latencies: number[] = [];
    let next = 0;
    const r = await closedLoop(UPLOADERS, PHASE_MS, async () => {
      const job = leased[next++];
      if (!job) throw new Error('ran out of leased jobs: raise the lease count');
      const t0 = performance.now();
      const res = await requestJson(pool, 'PUT', job.path, {
        key: job.key,
        body: img.png,
        contentType: 'image/png',
      });
      if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body)}`);
      latencies.push(performance.now() - t0);
    });
    const after = await server.stats();
    profileWindow ??= { window: [before.monotonicUs, after.monotonicUs], uploads: r.count };
    uploaded += r.count;
    const rate = r.count / r.seconds;
    const serverCpu = cpuMs(before.cpu, after.cpu);
    console.log(
      `  ${img.name}: ${fmt(rate)} uploads/s (${fmt(r.count)} in ${r.seconds.toFixed(1)} s) — ${((100 * rate) / (baseline.get(img.name) ?? rate)).toFixed(0)}% of sharp alone at level 1 in one pipeline; target ${TARGET}/s`,
    );
    console.log(`    latency ${latencySummary(latencies)}`);
    console.log(
      `    coordinator CPU ${fmt(serverCpu / r.count, 1)} ms per upload (${((100 * serverCpu) / (r.seconds * 1000)).toFixed(0)}% of a core, all threads);` +
        ` event loop ${(100 * after.eventLoopUtilization).toFixed(0)}% busy, blocked p99 ${after.loopDelayMs.p99.toFixed(1)} ms`,
    );
  }
  const { states } = await server.stats();
  console.log(
    `  verify: ${(states.done ?? 0) === uploaded ? 'OK' : 'MISMATCH'}: ${fmt(uploaded)} uploads answered 200; jobs by state ${JSON.stringify(states)} (leased = spare leases never uploaded)`,
  );
  await pool.close();
  await server.close();
  if (server.profileDir && profileWindow) {
    console.log(`\nProfile of the ${images[0]?.name} phase:`);
    console.log(
      summarizeProfile(server.profileDir, {
        window: profileWindow.window,
        perUnit: { count: profileWindow.uploads, name: 'upload' },
        top: 25,
      }),
    );
  }
}

await main();
