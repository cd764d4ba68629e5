// Starts a worker thread on one of our modules. Built, the thread is a .js file beside the caller. Under
// tsx (tests, development) it is TypeScript, and Node 20 does not carry tsx's loader into worker threads,
// so a two-line bootstrap registers it first.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A thread running the module `name` (no extension) in the folder of `callerUrl` (its import.meta.url). */
export function startModuleThread(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}
