// Moves SQLite's WAL checkpoints off the event loop.
//
// In WAL mode every commit appends pages to the -wal file; a checkpoint copies them back into the
// database file and, with synchronous=NORMAL, fsyncs it. By default the connection that commits the
// 1,000th page runs that checkpoint inline, so one request in a few hundred pays for copying ~4 MB and
// an fsync, on the event loop, while every other request waits: that is most of the tail latency of
// the queue and of rating submissions. Here a worker thread with its own connection runs PASSIVE
// checkpoints on a timer instead. PASSIVE never blocks the writer (it copies what no reader still
// needs and leaves the rest for the next round), and the writer resets the WAL to its start by itself
// once everything in it has been copied.
//
// The main connection keeps a much larger automatic checkpoint as a safety net: if this thread ever
// stops, the WAL still cannot grow without bound.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface Checkpointer {
  /** Stops the timer and closes the thread's connection; resolves once the thread has exited. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  /** How often to checkpoint. */
  intervalMs: number;
  /** Told when a checkpoint fails (the thread goes on trying at the next interval). */
  onError?: (message: string) => void;
}

/** Pages the main connection lets the WAL reach before checkpointing inline (the fallback). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 16_384;

// Plain CommonJS, evaluated in the thread: nothing to build, and the same code under tsx and from dist.
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(path: string, options: CheckpointerOptions): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD_CODE, {
    eval: true,
    workerData: { path, module, intervalMs: options.intervalMs },
  });
  // The thread must never keep the process alive on its own (a coordinator that forgot to close the
  // database still exits).
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m.error) options.onError?.(m.error);
  });
  worker.on('error', (e) => options.onError?.(e.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.ref(); // keep the process alive until the thread has closed its connection
      worker.postMessage('stop');
      await exited;
    },
  };
}
