// Runs the daemon as a process: logger, signal handling, exit code. The `dreamfold worker` command and
// the test fixture both go through here, so tests exercise exactly what donors run.
//
// Signals: the first SIGINT/SIGTERM lets the current job finish and be delivered, then exits 0; the
// second aborts it, hands its lease back (no attempt counted) and exits 128 + signal number.
import type { Logger } from 'pino';
import type { Backend } from './backend.js';
import type { BackoffOptions } from './backoff.js';
import { FatalWorkerError } from './errors.js';
import { createLogger } from './logger.js';
import type { WorkerSettings } from './settings.js';
import { Worker } from './worker.js';

export interface RunWorkerOptions extends WorkerSettings {
  backend: Backend;
  log?: Logger;
  backoff?: BackoffOptions;
  waitSeconds?: number;
  /** false when the caller handles signals itself (embedding). */
  handleSignals?: boolean;
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/** Runs until stopped; resolves to the process exit code. Closes the backend on the way out. */
export async function runWorker(options: RunWorkerOptions): Promise<number> {
  const log = options.log ?? createLogger(options.name ? { name: options.name } : {});
  const worker = new Worker({ ...options, log });
  let forcedBy: keyof typeof SIGNAL_NUMBERS | undefined;
  let signals = 0;
  const onSignal = (signal: keyof typeof SIGNAL_NUMBERS) => {
    signals++;
    if (signals === 1) {
      log.info(
        { signal },
        worker.isBusy
          ? 'finishing the current job, then exiting (send the signal again to stop now)'
          : 'stopping',
      );
      worker.stop();
    } else {
      forcedBy ??= signal;
      log.warn({ signal }, 'stopping now: aborting the current job and handing it back');
      worker.forceStop();
    }
  };
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = () => onSignal(signal);
    if (options.handleSignals !== false) process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    const reason = await worker.run();
    return reason === 'forced' ? 128 + SIGNAL_NUMBERS[forcedBy ?? 'SIGINT'] : 0;
  } catch (err) {
    if (err instanceof FatalWorkerError) {
      log.error({ code: err.code }, err.message);
    } else {
      log.error({ err }, 'worker crashed');
    }
    return 1;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    await options.backend
      .close()
      .catch((err: Error) => log.warn({ err: err.message }, 'backend close failed'));
  }
}
