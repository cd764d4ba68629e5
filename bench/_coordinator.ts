// The server side of the HTTP benchmarks, run as a child process of the load generator so that client
// and server do not share one event loop (they still share the machine's cores).
//
//   BENCH_MODE=coordinator (default): buildCoordinator with the config from the environment
//     (DATABASE_URL, SQLITE_SYNCHRONOUS, DATA_DIR, …), one user and BENCH_WORKERS worker keys.
//   BENCH_MODE=noop: a bare Fastify app with one no-op route, the baseline for "HTTP itself".
//
// It talks to its parent over the IPC channel: first { type: 'ready', … }, then it answers requests
// { id, cmd } with { id, result }: `stats` (SQL statements executed since the last `reset`, by kind;
// process CPU time; long-poll waiters; jobs by state), `reset`, `close`.
import { closeSync, openSync, readSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
} from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import sharp from 'sharp';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { buildCoordinator, loadConfig, type Coordinator } from '@dreamfold/server';
import type { ChildReady, ChildRequest, ChildStats } from './_protocol.js';

// --- SQL statement accounting (installed before the database is opened) ---

const statements = new Map<string, number>();
/** SQLite only: nanoseconds spent executing each kind of statement. */
const statementNs = new Map<string, number>();
/** Signatures memoised per statement text: the regexes would otherwise cost more than some statements. */
const signatures = new Map<string, string>();
let eluMark: EventLoopUtilization = performance.eventLoopUtilization();
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let sqlitePrepareNs = 0;
let sqliteExecNs = 0;
// Garbage-collection pauses on the main thread (each one stops every request in flight).
const gc = { count: 0, ms: 0, maxMs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    // NODE_PERFORMANCE_GC_MAJOR (mark-compact) is 4; minor (scavenge) 1, incremental 8, weak callbacks 16.
    if ((e as { detail?: { kind?: number } }).detail?.kind === 4) gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

/** "update jobs", "select generations", "begin", … — enough to tell the statements of a cycle apart. */
function signature(text: string): string {
  const s = text.trim().replace(/\s+/g, ' ').toLowerCase();
  const verb = /^(\w+)/.exec(s)?.[1] ?? '?';
  let table: string | undefined;
  if (verb === 'select') table = /\bfrom "?(\w+)"?/.exec(s)?.[1];
  else if (verb === 'insert') table = /^insert into "?(\w+)"?/.exec(s)?.[1];
  else if (verb === 'update') table = /^update "?(\w+)"?/.exec(s)?.[1];
  else if (verb === 'delete') table = /^delete from "?(\w+)"?/.exec(s)?.[1];
  if (verb === 'select' && s.includes('pg_notify')) table = 'pg_notify()';
  return table ? `${verb} ${table}` : verb;
}

function count(text: string): string {
  let sig = signatures.get(text);
  if (sig === undefined) {
    sig = signature(text);
    signatures.set(text, sig);
  }
  statements.set(sig, (statements.get(sig) ?? 0) + 1);
  return sig;
}

type Stmt = {
  run: (...a: unknown[]) => unknown;
  all: (...a: unknown[]) => unknown;
  get: (...a: unknown[]) => unknown;
};
let statementPatched = false;
const originalPrepare = SQLite.prototype.prepare;
SQLite.prototype.prepare = function prepare(this: SQLite.Database, source: string) {
  const t0 = process.hrtime.bigint();
  const stmt = originalPrepare.call(this, source) as unknown as Stmt;
  sqlitePrepareNs += Number(process.hrtime.bigint() - t0);
  if (!statementPatched) {
    // Every Statement shares one prototype: time the executions (synchronous, on the event loop).
    statementPatched = true;
    const proto = Object.getPrototypeOf(stmt) as Stmt;
    for (const method of ['run', 'all', 'get'] as const) {
      const original = proto[method];
      proto[method] = function timed(this: unknown, ...args: unknown[]) {
        // Counted per execution, not per prepare: the coordinator memoises prepared statements.
        const sig = count((this as { source: string }).source);
        const s = process.hrtime.bigint();
        try {
          return original.apply(this, args);
        } finally {
          const ns = Number(process.hrtime.bigint() - s);
          sqliteExecNs += ns;
          statementNs.set(sig, (statementNs.get(sig) ?? 0) + ns);
        }
      };
    }
  }
  return stmt as unknown as ReturnType<typeof originalPrepare>;
} as typeof originalPrepare;

const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function query(this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
  count(text);
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalQuery;

// --- SQLite's WAL, read from its files ---

/**
 * How many times the WAL started again from its beginning (the checkpoint sequence number in the -wal
 * file's header, big-endian at byte 12, counts them) and how many frames it holds now (mxFrame in the
 * wal-index header of the -shm file, native byte order at byte 16). Undefined when not on a SQLite file.
 */
function walState(): { restarts: number; frames: number } | undefined {
  const url = process.env.DATABASE_URL ?? '';
  if (!url.startsWith('sqlite:')) return undefined;
  const path = url.slice('sqlite:'.length);
  const read = (file: string, offset: number): Buffer | undefined => {
    try {
      const fd = openSync(file, 'r');
      try {
        const buf = Buffer.alloc(4);
        return readSync(fd, buf, 0, 4, offset) === 4 ? buf : undefined;
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
  };
  const seq = read(`${path}-wal`, 12);
  const frames = read(`${path}-shm`, 16);
  if (!seq || !frames) return undefined;
  return { restarts: seq.readUInt32BE(0), frames: frames.readUInt32LE(0) };
}

// Sampled every 10 ms: the most frames the WAL held before each restart tells a restart at the main
// connection's fallback checkpoint (16,384 frames: copied on the event loop) from one after the
// background checkpointer had caught up (any size).
const walSampler = { restarts: 0, frames: 0, peak: 0, peaksBeforeRestart: [] as number[] };
setInterval(() => {
  const w = walState();
  if (!w) return;
  if (w.restarts !== walSampler.restarts && walSampler.restarts !== 0)
    walSampler.peaksBeforeRestart.push(walSampler.peak);
  if (w.restarts !== walSampler.restarts) walSampler.peak = 0;
  walSampler.restarts = w.restarts;
  walSampler.peak = Math.max(walSampler.peak, w.frames);
}, 10).unref();

// --- the server ---

function send(message: unknown): void {
  process.send?.(message);
}

async function startNoop(): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/noop', async () => ({ ok: true }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  serve({ close: () => app.close() });
  const ready: ChildReady = { type: 'ready', url, userKey: '', workerKeys: [], info: info() };
  send(ready);
}

function info(): ChildReady['info'] {
  return {
    pid: process.pid,
    cpus: cpus().length,
    sharpConcurrency: sharp.concurrency(),
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
}

async function startCoordinator(): Promise<void> {
  // The queue and upload benches measure the queue: the NSFW classifier, result verification and the
  // unservable-request check have their own benches, and are off unless the environment turns them on.
  const config = loadConfig({
    NSFW_CLASSIFIER: 'off',
    TRUST_VERIFY: 'off',
    UNSERVABLE_WINDOW_SECONDS: '0',
    ...process.env,
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'silent',
    PORT: '0',
  });
  const coordinator: Coordinator = await buildCoordinator({ config, logger: false });
  const url = await coordinator.app.listen({ host: '127.0.0.1', port: 0 });
  coordinator.services.config.publicUrl = url;
  const { accounts, workers } = coordinator.services;
  const user = await accounts.createUser('bench@example.org', 'user');
  const workerKeys: string[] = [];
  const n = Number(process.env.BENCH_WORKERS ?? '16');
  for (let i = 0; i < n; i++) workerKeys.push((await workers.register(user.user.id, `bench-${i}`)).key);
  serve({
    close: () => coordinator.close(),
    waiters: () => coordinator.services.leases.waiters.size,
    states: async () => {
      const rows = await coordinator.services.database.db
        .selectFrom('jobs')
        .select(['state', sql<number>`count(*)`.as('n')])
        .groupBy('state')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
  });
  const ready: ChildReady = { type: 'ready', url, userKey: user.key, workerKeys, info: info() };
  send(ready);
}

function serve(hooks: {
  close: () => Promise<void>;
  waiters?: () => number;
  states?: () => Promise<Record<string, number>>;
}): void {
  process.on('message', (raw) => {
    const req = raw as ChildRequest;
    const answer = async (): Promise<unknown> => {
      switch (req.cmd) {
        case 'reset':
          statements.clear();
          statementNs.clear();
          sqlitePrepareNs = 0;
          sqliteExecNs = 0;
          eluMark = performance.eventLoopUtilization();
          loopDelay.reset();
          Object.assign(gc, { count: 0, ms: 0, maxMs: 0, major: 0 });
          walSampler.peaksBeforeRestart = [];
          return null;
        case 'waiters':
          return hooks.waiters?.() ?? 0;
        case 'stats': {
          const stats: ChildStats = {
            statements: Object.fromEntries(statements),
            statementMs: Object.fromEntries([...statementNs].map(([k, ns]) => [k, ns / 1e6])),
            sqlitePrepareMs: sqlitePrepareNs / 1e6,
            sqliteExecMs: sqliteExecNs / 1e6,
            cpu: process.cpuUsage(),
            monotonicUs: Number(process.hrtime.bigint() / 1000n),
            eventLoopUtilization: performance.eventLoopUtilization(eluMark).utilization,
            loopDelayMs: {
              p50: loopDelay.percentile(50) / 1e6,
              p99: loopDelay.percentile(99) / 1e6,
              max: loopDelay.max / 1e6,
            },
            gc: { ...gc },
            wal: { ...walState(), peaksBeforeRestart: [...walSampler.peaksBeforeRestart] },
            waiters: hooks.waiters?.() ?? 0,
            states: (await hooks.states?.()) ?? {},
          };
          return stats;
        }
        case 'close':
          await hooks.close();
          // Let the reply go out, then exit normally so that --cpu-prof writes its profile.
          setTimeout(() => process.exit(0), 50);
          return null;
      }
    };
    answer().then(
      (result) => send({ id: req.id, result }),
      (err: Error) => send({ id: req.id, error: err.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.env.BENCH_MODE === 'noop') await startNoop();
else await startCoordinator();
