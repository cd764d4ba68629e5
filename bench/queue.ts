// Queue throughput and wake-up latency through HTTP, on SQLite and PostgreSQL.
//
// A job cycle is: a requester submits (POST /v1/generations) → a worker pops it (POST /v1/workers/pop)
// → uploads a 64×64 PNG (PUT /v1/jobs/:id/result) → the job is done. 16 workers loop pop → upload while
// submitters keep a bounded backlog queued. Figures are printed beside a bare Fastify no-op route measured
// with the same client in the same run. The coordinator runs in a child process (bench/_coordinator.ts);
// the load generator and it share this machine's cores.
//
// Environment: DATABASE_URL (PostgreSQL admin URL; default postgres://postgres@127.0.0.1:5432/test; set
// BENCH_PG=0 to skip PostgreSQL), BENCH_SCENARIOS (a comma list of normal, full, pg: run only those),
// BENCH_PHASE_MS (default 6000), BENCH_PROFILE=1 (run the coordinator under --cpu-prof during the cycle
// phases and print where its time goes; BENCH_PROFILE_KEEP=FILE also keeps the raw .cpuprofile).
//
// The issue states its targets beside two yardsticks "for scale" (a no-op Fastify route under autocannon,
// ~75k req/s; a bare PostgreSQL SKIP LOCKED loop, ~4.7k jobs/s). Both are measured again just before each
// database's cycles (bench/_references.ts), and each target is also printed scaled by them.
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import sharp from 'sharp';
import type { Pool } from 'undici';
import { createTestDatabase, tempDir, type TestDatabase } from '@dreamfold/server/testing';
import type { ChildStats } from './_protocol.js';
import {
  client,
  closedLoop,
  cpuMs,
  fmt,
  hit,
  latencySummary,
  requestJson,
  sleep,
  statementBreakdown,
  startServerChild,
  summarizeProfile,
  type ServerChild,
} from './_harness.js';
import { autocannonRps, ISSUE_SCALE, scaledTarget, skipLockedJobsPerSecond } from './_references.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 6000);
const WARMUP_MS = 1500;
/** How long each yardstick runs (after its own 1 s warm-up). */
const REFERENCE_MS = 3000;
const WORKERS = 16;
const PROFILE = process.env.BENCH_PROFILE === '1';
const PG_ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
// createTestDatabase reads the admin URL from DATABASE_URL.
process.env.DATABASE_URL = PG_ADMIN_URL;

interface Assignment {
  id: string;
  upload: { kind: 'direct' | 'presigned'; url: string };
}
type PopAnswer = { job: Assignment | null };

const POP_BODY = { backend: 'test-pattern', models: ['bench'], maxPixels: 64 * 64, version: 'bench' };
const generation = (n: number) => ({ prompt: 'a bench', model: 'bench', width: 64, height: 64, steps: 1, n });

/** Distinct small PNGs (noise), as a worker would upload; distinct so each is stored under its own hash. */
async function smallPngs(count: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toBuffer(),
    ),
  );
}

function uploadPath(a: Assignment): string {
  const u = new URL(a.upload.url);
  return u.pathname + u.search;
}

async function upload(pool: Pool, key: string, job: Assignment, png: Buffer): Promise<void> {
  const r = await requestJson(pool, 'PUT', uploadPath(job), { key, body: png, contentType: 'image/png' });
  if (r.status !== 200) throw new Error(`upload answered ${r.status}: ${JSON.stringify(r.body)}`);
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'RequestAbortedError');
}

interface CycleResult {
  cycles: number;
  seconds: number;
  submitted: number;
  latencies: { submit: number[]; pop: number[]; upload: number[] };
  before: ChildStats;
  after: ChildStats;
  clientCpuMs: number;
}

/** 16 workers pop → upload; submitters keep up to `backlog` jobs ahead of them, `n` jobs per request. */
async function runCycles(
  server: ServerChild,
  pngs: Buffer[],
  opts: { n: number; submitters: number; backlog: number },
): Promise<CycleResult> {
  const pool = client(server.url);
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  let submitted = 0; // jobs whose submission was answered
  let requested = 0; // jobs asked for (answered or in flight)
  let completed = 0;
  let submitting = true;
  let inWindow = false;
  const parked: (() => void)[] = [];
  const wakeSubmitters = () => parked.splice(0).forEach((wake) => wake());
  const latencies = { submit: [] as number[], pop: [] as number[], upload: [] as number[] };

  const worker = async (key: string, i: number) => {
    let k = i;
    while (!stop.signal.aborted) {
      let answer: PopAnswer;
      const t0 = performance.now();
      try {
        const r = await requestJson<PopAnswer>(pool, 'POST', '/v1/workers/pop', {
          key,
          json: { ...POP_BODY, waitSeconds: 5 },
          signal: stop.signal,
        });
        if (r.status !== 200) throw new Error(`pop answered ${r.status}: ${JSON.stringify(r.body)}`);
        answer = r.body;
      } catch (err) {
        if (isAbort(err)) return;
        throw err;
      }
      const job = answer.job;
      if (!job) continue;
      const t1 = performance.now();
      await upload(pool, key, job, pngs[k++ % pngs.length] as Buffer);
      const t2 = performance.now();
      completed++;
      if (inWindow) {
        latencies.pop.push(t1 - t0);
        latencies.upload.push(t2 - t1);
      }
      wakeSubmitters();
    }
  };
  const submitter = async () => {
    while (submitting) {
      if (requested - completed + opts.n > opts.backlog) {
        await new Promise<void>((r) => parked.push(r));
        continue;
      }
      requested += opts.n;
      const t0 = performance.now();
      const r = await requestJson(pool, 'POST', '/v1/generations', {
        key: server.userKey,
        json: generation(opts.n),
      });
      if (r.status !== 201) throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (inWindow) latencies.submit.push(performance.now() - t0);
      submitted += opts.n;
    }
  };

  const workers = server.workerKeys.slice(0, WORKERS).map((key, i) => worker(key, i));
  const submitters = Array.from({ length: opts.submitters }, () => submitter());

  await sleep(WARMUP_MS);
  await server.reset();
  const before = await server.stats();
  const clientBefore = process.cpuUsage();
  const startCompleted = completed;
  const started = performance.now();
  inWindow = true;
  await sleep(PHASE_MS);
  inWindow = false;
  const cycles = completed - startCompleted;
  const seconds = (performance.now() - started) / 1000;
  const after = await server.stats();
  const clientCpuMs = cpuMs(clientBefore, process.cpuUsage());

  // Stop submitting, let the workers drain the queue, then end their idle long-polls.
  submitting = false;
  wakeSubmitters();
  await Promise.all(submitters);
  while (completed < submitted) await sleep(5);
  stop.abort();
  await Promise.all(workers);
  await pool.close();
  return { cycles, seconds, submitted, latencies, before, after, clientCpuMs };
}

/**
 * Wake-up latency: every worker idles in a long-poll; one generation (n=1) is submitted at a time and we
 * measure from the start of the submission to the arrival of the pop answer that carries it.
 */
async function runWakeups(server: ServerChild, pngs: Buffer[], ms: number, maxSamples: number) {
  const pool = client(server.url);
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const samples: number[] = [];
  const submitLatency: number[] = [];
  let t0 = 0;
  let delivered: (() => void) | undefined;
  let submitted = 0;

  const worker = async (key: string, i: number) => {
    while (!stop.signal.aborted) {
      let answer: PopAnswer;
      try {
        answer = (
          await requestJson<PopAnswer>(pool, 'POST', '/v1/workers/pop', {
            key,
            json: { ...POP_BODY, waitSeconds: 30 },
            signal: stop.signal,
          })
        ).body;
      } catch (err) {
        if (isAbort(err)) return;
        throw err;
      }
      if (!answer.job) continue;
      samples.push(performance.now() - t0);
      await upload(pool, key, answer.job, pngs[i % pngs.length] as Buffer);
      delivered?.();
    }
  };
  const workers = server.workerKeys.slice(0, WORKERS).map((key, i) => worker(key, i));

  const until = performance.now() + ms;
  while (performance.now() < until && samples.length < maxSamples) {
    // Only submit once every worker is parked in its long-poll.
    while ((await server.waiters()) < WORKERS) await sleep(0.5);
    const done = new Promise<void>((r) => (delivered = r));
    t0 = performance.now();
    const r = await requestJson(pool, 'POST', '/v1/generations', {
      key: server.userKey,
      json: generation(1),
    });
    submitLatency.push(performance.now() - t0);
    if (r.status !== 201) throw new Error(`submit answered ${r.status}`);
    submitted++;
    await done;
  }
  stop.abort();
  await Promise.all(workers);
  await pool.close();
  return { samples, submitLatency, submitted };
}

async function verify(server: ServerChild, expectedDone: number): Promise<string> {
  const { states } = await server.stats();
  const pool = client(server.url, 1);
  const stats = await requestJson<{ imagesGenerated: number; queueLength: number }>(pool, 'GET', '/v1/stats');
  await pool.close();
  const ok =
    (states.done ?? 0) === expectedDone &&
    stats.body.imagesGenerated === expectedDone &&
    Object.entries(states).every(([s, n]) => s === 'done' || n === 0);
  return `${ok ? 'OK' : 'MISMATCH'}: submitted ${fmt(expectedDone)} jobs; jobs by state ${JSON.stringify(states)}; /v1/stats imagesGenerated ${fmt(stats.body.imagesGenerated)}, queueLength ${stats.body.queueLength}`;
}

function statementLines(r: CycleResult): string[] {
  const total = Object.values(r.after.statements).reduce((a, b) => a + b, 0);
  const lines = [
    `    SQL statements per cycle: ${(total / r.cycles).toFixed(2)} (${fmt(total)} in the window)`,
  ];
  lines.push('      ' + statementBreakdown(r.after, r.cycles));
  if (r.after.sqliteExecMs > 0) {
    lines.push(
      `    SQLite on the event loop per cycle: prepare ${((1000 * r.after.sqlitePrepareMs) / r.cycles).toFixed(0)} µs + execute ${((1000 * r.after.sqliteExecMs) / r.cycles).toFixed(0)} µs`,
    );
  }
  return lines;
}

function printCycles(label: string, r: CycleResult, noopRps: number, n: number): void {
  const rate = r.cycles / r.seconds;
  const serverCpu = cpuMs(r.before.cpu, r.after.cpu);
  const requestsPerCycle = 2 + 1 / n;
  console.log(
    `  ${label}: ${fmt(rate)} job cycles/s (${fmt(r.cycles)} jobs in ${r.seconds.toFixed(1)} s, submissions n=${n})` +
      ` — ${((100 * rate) / noopRps).toFixed(1)}% of the no-op route's ${fmt(noopRps)} req/s;` +
      ` ${fmt(rate * requestsPerCycle)} HTTP req/s (${requestsPerCycle.toFixed(2)} per cycle)`,
  );
  console.log(`    submit ${latencySummary(r.latencies.submit)}`);
  console.log(`    pop    ${latencySummary(r.latencies.pop)}`);
  console.log(`    upload ${latencySummary(r.latencies.upload)}`);
  console.log(
    `    CPU per cycle: coordinator ${((1000 * serverCpu) / r.cycles).toFixed(0)} µs (in the kernel ${((r.after.cpu.system - r.before.cpu.system) / r.cycles).toFixed(0)} µs), load generator ${((1000 * r.clientCpuMs) / r.cycles).toFixed(0)} µs` +
      ` (coordinator ${((100 * serverCpu) / (r.seconds * 1000)).toFixed(0)}% of a core, client ${((100 * r.clientCpuMs) / (r.seconds * 1000)).toFixed(0)}%)`,
  );
  console.log(
    `    coordinator event loop: ${(100 * r.after.eventLoopUtilization).toFixed(0)}% busy; blocked p50 ${r.after.loopDelayMs.p50.toFixed(1)} ms, p99 ${r.after.loopDelayMs.p99.toFixed(1)} ms, max ${r.after.loopDelayMs.max.toFixed(1)} ms`,
  );
  for (const line of statementLines(r)) console.log(line);
}

async function withDatabase<T>(dialect: 'sqlite' | 'postgres', run: (url: string) => Promise<T>): Promise<T> {
  const db: TestDatabase = await createTestDatabase(dialect);
  try {
    return await run(db.url);
  } finally {
    await db.drop();
  }
}

interface Scenario {
  /** What BENCH_SCENARIOS names it by. */
  key: 'normal' | 'full' | 'pg';
  label: string;
  dialect: 'sqlite' | 'postgres';
  env: Record<string, string>;
  wakeups: boolean;
  healthz: boolean;
  batches: number[];
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `Queue benchmark — ${cpus().length} CPU cores shared by the coordinator (child process) and the load generator (this process);` +
      ` client: undici Pool, ${WORKERS} workers; phases of ${PHASE_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up;` +
      ` load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}.`,
  );
  console.log(
    'Targets (issue): ≥ 2,000 job cycles/s on SQLite, ≥ 1,000 on PostgreSQL (64×64 PNGs); wake-up p99 < 10 ms; a no-op Fastify route serves ~75k req/s here (autocannon).',
  );
  const pngs = await smallPngs(64);
  console.log(`Uploads: ${pngs.length} distinct 64×64 noise PNGs of ~${fmt(pngs[0]?.length ?? 0)} bytes.`);

  // Baseline: a bare Fastify app with a no-op route, same client, same concurrency.
  const noop = await startServerChild({ mode: 'noop' });
  const noopPool = client(noop.url);
  await closedLoop(WORKERS, 1000, () => hit(noopPool, '/noop'));
  const base = await closedLoop(WORKERS, PHASE_MS, () => hit(noopPool, '/noop'));
  await noopPool.close();
  const noopRps = base.count / base.seconds;
  console.log(
    `\nBaseline: bare Fastify no-op GET, ${WORKERS} connections: ${fmt(noopRps)} req/s (${fmt(base.count)} in ${base.seconds.toFixed(1)} s)`,
  );

  const scenarios: Scenario[] = [
    {
      key: 'normal',
      label: 'SQLite, synchronous=NORMAL',
      dialect: 'sqlite',
      env: { SQLITE_SYNCHRONOUS: 'NORMAL' },
      wakeups: true,
      healthz: true,
      batches: [4, 1],
    },
    {
      key: 'full',
      label: 'SQLite, synchronous=FULL',
      dialect: 'sqlite',
      env: { SQLITE_SYNCHRONOUS: 'FULL' },
      wakeups: false,
      healthz: false,
      batches: [4],
    },
  ];
  if (process.env.BENCH_PG !== '0') {
    scenarios.push({
      key: 'pg',
      label: 'PostgreSQL',
      dialect: 'postgres',
      env: {},
      wakeups: true,
      healthz: false,
      batches: [4, 1],
    });
  }

  const only = process.env.BENCH_SCENARIOS?.split(',');
  for (const sc of scenarios.filter((s) => !only || only.includes(s.key))) {
    await withDatabase(sc.dialect, async (databaseUrl) => {
      const dataDir = tempDir('dreamfold-bench-');
      console.log(
        `\n${sc.label}${sc.dialect === 'postgres' ? ' (fresh database, dropped afterwards)' : ''}:`,
      );
      // The yardsticks, minutes (not sessions) away from the figures they scale.
      const noopAutocannon = await autocannonRps(`${noop.url}/noop`, WORKERS, REFERENCE_MS);
      const skipLocked =
        sc.dialect === 'postgres'
          ? await skipLockedJobsPerSecond(databaseUrl, WORKERS, REFERENCE_MS)
          : undefined;
      console.log(
        `  yardsticks now: no-op route under autocannon (${WORKERS} connections) ${fmt(noopAutocannon)} req/s` +
          ` (the issue: ~${fmt(ISSUE_SCALE.noopRps)})` +
          (skipLocked === undefined
            ? ''
            : `; bare SKIP LOCKED claim-and-complete loop (${WORKERS} connections) ${fmt(skipLocked)} jobs/s (the issue: ~${fmt(ISSUE_SCALE.skipLockedJobsPerSecond)})`),
      );
      const server = await startServerChild({
        mode: 'coordinator',
        env: { ...sc.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, BENCH_WORKERS: String(WORKERS) },
        profile: PROFILE,
      });
      let done = 0;
      let profileWindow: { window: [number, number]; cycles: number } | undefined;
      if (sc.healthz && !PROFILE) {
        const pool = client(server.url);
        const h = await closedLoop(WORKERS, 2000, () => hit(pool, '/healthz'));
        await pool.close();
        const rps = h.count / h.seconds;
        console.log(
          `  coordinator GET /healthz (all hooks, no auth, no SQL): ${fmt(rps)} req/s — ${((100 * rps) / noopRps).toFixed(1)}% of the no-op route`,
        );
      }
      for (const n of PROFILE ? [4] : sc.batches) {
        const r = await runCycles(server, pngs, { n, submitters: n === 1 ? 4 : 2, backlog: 256 });
        done += r.submitted;
        profileWindow ??= { window: [r.before.monotonicUs, r.after.monotonicUs], cycles: r.cycles };
        printCycles(`cycles, n=${n}`, r, noopRps, n);
        if (n === 4) {
          const rate = r.cycles / r.seconds;
          const target = sc.dialect === 'postgres' ? ISSUE_SCALE.postgresCycles : ISSUE_SCALE.sqliteCycles;
          const noopScale = { name: 'no-op req/s', issue: ISSUE_SCALE.noopRps, measured: noopAutocannon };
          console.log(`    ${scaledTarget('target scaled by the no-op route', rate, target, noopScale)}`);
          if (skipLocked !== undefined) {
            const loopScale = {
              name: 'SKIP LOCKED jobs/s',
              issue: ISSUE_SCALE.skipLockedJobsPerSecond,
              measured: skipLocked,
            };
            console.log(
              `    ${scaledTarget('target scaled by the SKIP LOCKED loop', rate, target, loopScale)}`,
            );
          }
        }
      }
      if (sc.wakeups && !PROFILE) {
        const w = await runWakeups(server, pngs, 4000, 400);
        done += w.submitted;
        console.log(
          `  wake-up (submit start → long-polling worker receives the job), ${WORKERS} idle workers: ${latencySummary(w.samples)}`,
        );
        console.log(`    (the submission's own answer: ${latencySummary(w.submitLatency)})`);
      }
      console.log(`  verify: ${await verify(server, done)}`);
      await server.close();
      if (server.profileDir && profileWindow) {
        console.log(
          summarizeProfile(server.profileDir, {
            window: profileWindow.window,
            perUnit: { count: profileWindow.cycles, name: 'cycle' },
          }),
        );
      }
    });
  }
  await noop.close();
  console.log(
    `\nLoad average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other processes on this machine skew every figure above).`,
  );
  console.log(`\nTotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

await main();
