// `dreamfold worker`: a donor's daemon. The key is read from DREAMFOLD_WORKER_KEY so it does not show
// in `ps`; --key exists for quick trials.
import {
  CoordinatorClient,
  FatalWorkerError,
  GpuIdleGate,
  WORKER_VERSION,
  backendNames,
  createLogger,
  findBackend,
  resolveWorkerSettings,
  runWorker,
} from '@dreamfold/worker';
import { CliError } from '../errors.js';

export interface WorkerCommandOptions {
  server?: string;
  key?: string;
  backend?: string;
  modelDir: string[];
  provider?: string;
  name?: string;
  maxJobs?: string;
  until?: string;
  maxPixels?: string;
  /** batched (default) or sequential: two batch-1 UNet runs per step, about half the activation memory. */
  guidance?: string;
  logLevel?: string;
  /** Take jobs only while GPU utilisation is at most this percent (nvidia-smi); `true`: 10. */
  onlyWhenGpuIdle?: string | true;
}

export async function worker(
  options: WorkerCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (!options.backend) {
    throw new CliError(
      `--backend is required (one of: ${backendNames().join(', ') || 'none in this build'}).`,
    );
  }
  const factory = findBackend(options.backend);
  if (!factory) {
    const names = backendNames();
    throw new CliError(
      `Unknown backend "${options.backend}". ` +
        (names.length ? `Available backends: ${names.join(', ')}.` : 'This build has no backends available.'),
    );
  }
  let settings;
  try {
    settings = resolveWorkerSettings(options, env);
  } catch (err) {
    if (err instanceof FatalWorkerError) throw new CliError(err.message);
    throw err;
  }
  const log = createLogger({ ...(options.logLevel ? { level: options.logLevel } : {}), name: settings.name });
  if (options.key)
    log.warn('--key is visible to other users of this machine (ps); prefer DREAMFOLD_WORKER_KEY');
  let backend;
  try {
    backend = await factory.create({
      modelDirs: options.modelDir,
      ...(options.provider ? { provider: options.provider } : {}),
      ...(options.guidance ? { guidance: options.guidance } : {}),
      ...(settings.maxPixels ? { maxPixels: settings.maxPixels } : {}),
      warn: (message) => log.warn(message),
    });
  } catch (err) {
    throw new CliError(`The ${factory.name} backend could not start: ${(err as Error).message}`);
  }
  let gpuIdle: GpuIdleGate | undefined;
  if (options.onlyWhenGpuIdle !== undefined) {
    const threshold = options.onlyWhenGpuIdle === true ? 10 : Number(options.onlyWhenGpuIdle);
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) {
      throw new CliError(
        `--only-when-gpu-idle takes a utilisation percent from 0 to 100; got "${options.onlyWhenGpuIdle}".`,
      );
    }
    try {
      gpuIdle = await GpuIdleGate.create({ thresholdPercent: threshold, recheckMs: 15_000 }, log);
    } catch (err) {
      await backend.close();
      if (err instanceof FatalWorkerError) throw new CliError(err.message);
      throw err;
    }
  }
  return runWorker({ ...settings, backend, log, ...(gpuIdle ? { gpuIdle } : {}) });
}

/**
 * `dreamfold worker pause|resume`: the coordinator stops (or starts again) handing this worker jobs,
 * wherever its daemon runs; the daemon finishes a job in progress and then polls quietly. No penalty.
 */
export async function setPaused(
  paused: boolean,
  options: { server?: string; key?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  let settings;
  try {
    settings = resolveWorkerSettings(options, env);
  } catch (err) {
    if (err instanceof FatalWorkerError) throw new CliError(err.message);
    throw err;
  }
  const client = new CoordinatorClient({
    serverUrl: settings.serverUrl,
    key: settings.key,
    userAgent: `dreamfold-cli/${WORKER_VERSION}`,
  });
  let state;
  try {
    state = await client.setPaused(paused);
  } catch (err) {
    throw new CliError(`Could not ${paused ? 'pause' : 'resume'} the worker: ${(err as Error).message}`);
  }
  console.log(
    state.paused
      ? `Paused since ${state.pausedAt}: this worker takes no jobs until \`dreamfold worker resume\` (a job in progress finishes first). No penalty.`
      : 'Resumed: this worker takes jobs again from its next poll.',
  );
}
