// Real child processes for end-to-end tests: their JSON log lines are collected so a test can wait for
// "job started" or "coordinator unavailable" instead of sleeping, and every process is killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TEST_WORKER_MAIN = fileURLToPath(new URL('./test-worker-main.ts', import.meta.url));

export interface LogLine {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

export interface TestProcess {
  child: ChildProcess;
  /** Parsed JSON lines from stdout (pino logs). */
  logs: LogLine[];
  /** Raw stdout and stderr, for messages that are not JSON and for failure reports. */
  output(): string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `node --conditions=development --import tsx SCRIPT ARGS` with the given environment. */
export function startTsProcess(script: string, args: string[], env: Record<string, string>): TestProcess {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', script, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: LogLine[] = [];
  let text = '';
  let pending = '';
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line; it stays in the raw text.
      }
    }
    changed();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    changed();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then stdout is drained, so every log line the process wrote is in `logs`.
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
      changed();
    });
  });

  function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. Output:\n${text.slice(-4000)}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  }

  return {
    child,
    logs,
    output: () => text,
    waitForLog: (match, timeoutMs = 15_000) => waitFor(() => logs.find(match), 'a log line', timeoutMs),
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      waitFor(() => text.match(pattern) ?? undefined, String(pattern), timeoutMs),
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export interface TestWorkerOptions {
  url: string;
  key: string;
  args?: string[];
  env?: Record<string, string>;
}

/** A real worker process running the test-pattern backend through the same runtime as `dreamfold worker`. */
export function startTestWorker(options: TestWorkerOptions): TestProcess {
  return startTsProcess(TEST_WORKER_MAIN, ['--server', options.url, ...(options.args ?? [])], {
    DREAMFOLD_WORKER_KEY: options.key,
    ...options.env,
  });
}
