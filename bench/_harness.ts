// Shared pieces of the HTTP benchmarks: the server child process, an undici client, closed-loop load,
// percentiles, and a summary of a V8 CPU profile.
import { fork, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { ChildReady, ChildRequest, ChildStats } from './_protocol.js';

export interface ServerChild {
  url: string;
  userKey: string;
  workerKeys: string[];
  info: ChildReady['info'];
  /** Directory the child's --cpu-prof profile lands in, when profiling. */
  profileDir: string | undefined;
  stats(): Promise<ChildStats>;
  reset(): Promise<void>;
  waiters(): Promise<number>;
  close(): Promise<void>;
}

export interface ChildOptions {
  mode: 'coordinator' | 'noop';
  env?: Record<string, string>;
  /** Run the child under `node --cpu-prof`. */
  profile?: boolean;
}

/** Starts bench/_coordinator.ts in its own process and waits until it listens. */
export async function startServerChild(options: ChildOptions): Promise<ServerChild> {
  const profileDir = options.profile ? mkdtempSync(join(tmpdir(), 'dreamfold-prof-')) : undefined;
  const execArgv = ['--conditions=development', '--import', 'tsx'];
  if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  const child: ChildProcess = fork(new URL('./_coordinator.ts', import.meta.url).pathname, [], {
    execArgv,
    env: { ...process.env, BENCH_MODE: options.mode, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<ChildReady>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server child exited early (${code})`)));
    child.on('message', (raw) => {
      const msg = raw as ChildReady | { id: number; result?: unknown; error?: string };
      if ('type' in msg && msg.type === 'ready') {
        resolve(msg);
        return;
      }
      const m = msg as { id: number; result?: unknown; error?: string };
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
  });
  const call = <T>(cmd: ChildRequest['cmd']): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd } satisfies ChildRequest);
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: ready.url,
    userKey: ready.userKey,
    workerKeys: ready.workerKeys,
    info: ready.info,
    profileDir,
    stats: () => call<ChildStats>('stats'),
    reset: () => call<void>('reset'),
    waiters: () => call<number>('waiters'),
    close: async () => {
      await call('close');
      await exited;
    },
  };
}

// --- HTTP client (undici) ---

export function client(url: string, connections = 64): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

export interface JsonAnswer<T> {
  status: number;
  body: T;
}

export async function requestJson<T>(
  pool: Pool,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  opts: { key?: string; json?: unknown; body?: Buffer; contentType?: string; signal?: AbortSignal } = {},
): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | Buffer | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body) {
    headers['content-type'] = opts.contentType ?? 'application/octet-stream';
    body = opts.body;
  }
  const res = await pool.request({ method, path, headers, body, signal: opts.signal });
  const text = await res.body.text();
  return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Closed loop: `concurrency` loops each send a request as soon as the previous one answered, for `ms`. */
export async function closedLoop(
  concurrency: number,
  ms: number,
  once: () => Promise<void>,
): Promise<{ count: number; seconds: number }> {
  let count = 0;
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await once();
        count++;
      }
    }),
  );
  return { count, seconds: (performance.now() - started) / 1000 };
}

/** A bare request whose body is read and dropped; throws on a non-2xx answer. */
export async function hit(pool: Pool, path: string, key?: string): Promise<void> {
  const res = await pool.request({
    method: 'GET',
    path,
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  await res.body.dump();
  if (res.statusCode >= 300) throw new Error(`GET ${path} answered ${res.statusCode}`);
}

// --- numbers ---

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function latencySummary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms, max ${percentile(s, 100).toFixed(2)} ms (n=${s.length})`;
}

/**
 * SQL statements per operation by kind, most frequent first, each with its SQLite execution time per
 * operation where the child measured it: "update jobs 2.03 (41 µs) · select jobs 2.02 (12 µs) · …".
 */
export function statementBreakdown(stats: ChildStats, operations: number): string {
  return Object.entries(stats.statements)
    .sort((a, b) => b[1] - a[1])
    .map(([sig, k]) => {
      const ms = stats.statementMs[sig];
      return `${sig} ${(k / operations).toFixed(2)}${ms ? ` (${((1000 * ms) / operations).toFixed(0)} µs)` : ''}`;
    })
    .join(' · ');
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function cpuMs(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + (b.system - a.system)) / 1000;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- CPU profiles ---

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives, coarse enough to read at a glance. */
function bucket(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : `native ${fn}()`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const ours = /packages\/(\w+)\/src\/(\w+)/.exec(url);
  if (ours) return `@dreamfold/${ours[1]} ${ours[2]}/`;
  if (url.startsWith('node:')) return 'node: core';
  return url.replace(/^file:\/\//, '').slice(-40);
}

/**
 * Reads the main thread's .cpuprofile in `dir` (then deletes `dir`) and summarizes the busy time inside
 * `window` (CLOCK_MONOTONIC µs): by code location and by function, optionally per unit of work.
 */
export function summarizeProfile(
  dir: string,
  opts: { window?: [number, number]; perUnit?: { count: number; name: string }; top?: number },
): string {
  const top = opts.top ?? 15;
  // tsx's loader thread writes a profile of its own; the main thread's is the largest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size)[0]?.f;
  if (!file) return '  (no profile written)';
  // BENCH_PROFILE_KEEP=FILE keeps the raw profile (for Chrome DevTools or speedscope) and FILE.window.json
  // the measured window within it.
  if (process.env.BENCH_PROFILE_KEEP) {
    copyFileSync(join(dir, file), process.env.BENCH_PROFILE_KEEP);
    writeFileSync(`${process.env.BENCH_PROFILE_KEEP}.window.json`, JSON.stringify(opts));
  }
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = prof.startTime;
  prof.samples.forEach((id, i) => {
    t += prof.timeDeltas[i] ?? 0;
    if (opts.window && (t < opts.window[0] || t > opts.window[1])) return;
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  let total = 0;
  let idle = 0;
  const byBucket = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    // Native code (a syscall, a C++ binding) is charged to the JavaScript that called it.
    let owner: ProfileNode = n;
    for (let cur = parent.get(id); !owner.callFrame.url && cur !== undefined; cur = parent.get(cur)) {
      const p = byId.get(cur);
      if (p) owner = p;
    }
    const b = bucket(owner.callFrame.url, owner.callFrame.functionName);
    byBucket.set(b, (byBucket.get(b) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${bucket(url, functionName)}${url ? `:${lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const per = (us: number) =>
    opts.perUnit ? ` ${fmt(us / opts.perUnit.count).padStart(5)} µs/${opts.perUnit.name}` : '';
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%${per(us)}`;
  const lines = [
    `  coordinator main thread, CPU profile of the measured window: busy ${fmt(total / 1000)} ms, idle ${fmt(idle / 1000)} ms${opts.perUnit ? ` (${fmt(total / opts.perUnit.count)} µs per ${opts.perUnit.name})` : ''}`,
  ];
  lines.push('  busy time by code location (native calls charged to their JS caller):');
  for (const [b, us] of [...byBucket].sort((a, c) => c[1] - a[1]).slice(0, top))
    lines.push(`    ${pct(us)}  ${b}`);
  lines.push('  top functions (self time):');
  for (const [f, us] of [...byFn].sort((a, c) => c[1] - a[1]).slice(0, top))
    lines.push(`    ${pct(us)}  ${f}`);
  rmSync(dir, { recursive: true, force: true });
  return lines.join('\n');
}

/**
 * Peak RSS (and the heap and external memory at that moment) per phase, sampled every 50 ms while
 * BENCH_TRACE is set; `phase(name)` marks the phase now running, `stop()` prints the peaks to stderr.
 */
export function rssPeaksByPhase(): { phase(name: string): void; stop(): void } {
  let current = 'start';
  const peaks: Record<string, number> = {};
  const timer = process.env.BENCH_TRACE
    ? setInterval(() => {
        const m = process.memoryUsage();
        const rss = Math.round(m.rss / 2 ** 20);
        if (rss > (peaks[current] ?? 0)) {
          peaks[current] = rss;
          peaks[`${current}.heap`] = Math.round(m.heapUsed / 2 ** 20);
          peaks[`${current}.external`] = Math.round(m.external / 2 ** 20);
        }
      }, 50).unref() // a child that never calls stop() must still exit
    : undefined;
  return {
    phase: (name) => {
      current = name;
    },
    stop: () => {
      if (!timer) return;
      clearInterval(timer);
      console.error(`peak RSS by phase (MB, sampled every 50 ms): ${JSON.stringify(peaks)}`);
    },
  };
}
