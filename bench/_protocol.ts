// Messages between a benchmark (parent) and its server child process (bench/_coordinator.ts).

export interface ChildReady {
  type: 'ready';
  url: string;
  userKey: string;
  workerKeys: string[];
  info: { pid: number; cpus: number; sharpConcurrency: number; uvThreadpoolSize: string };
}

export interface ChildRequest {
  id: number;
  cmd: 'stats' | 'reset' | 'waiters' | 'close';
}

export interface ChildStats {
  /** SQL statements executed since the last reset, by "verb table". */
  statements: Record<string, number>;
  /** SQLite only: milliseconds spent executing each kind of statement since the last reset. */
  statementMs: Record<string, number>;
  /** SQLite only: time on the event loop compiling and running statements. */
  sqlitePrepareMs: number;
  sqliteExecMs: number;
  /** CLOCK_MONOTONIC in µs, the clock of V8 CPU profiles: bounds a window inside a profile. */
  monotonicUs: number;
  /** Process CPU time (every thread: event loop, libuv pool, libvips). */
  cpu: NodeJS.CpuUsage;
  /** Share of wall time the event loop was busy since the last reset (0–1). */
  eventLoopUtilization: number;
  /** Event-loop delay since the last reset (how late timers fire: time the loop was blocked). */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** Garbage collections on the main thread since the last reset: how many, their pauses, how many major. */
  gc: { count: number; ms: number; maxMs: number; major: number };
  /**
   * SQLite file: WAL restarts so far (not since the reset), the frames the WAL holds now, and (sampled
   * every 10 ms, since the reset) the most frames it held before each restart.
   */
  wal: { restarts?: number; frames?: number; peaksBeforeRestart: number[] };
  waiters: number;
  states: Record<string, number>;
}
