// `dreamfold worker`: a donor's daemon. The key is read from DREAMFOLD_WORKER_KEY so it does not show
// in `ps`; --key exists for quick trials.
import {
  FatalWorkerError,
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
  backend: string;
  modelDir: string[];
  provider?: string;
  name?: string;
  maxJobs?: string;
  until?: string;
  maxPixels?: string;
  logLevel?: string;
}

export async function worker(
  options: WorkerCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
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
      ...(settings.maxPixels ? { maxPixels: settings.maxPixels } : {}),
    });
  } catch (err) {
    throw new CliError(`The ${factory.name} backend could not start: ${(err as Error).message}`);
  }
  return runWorker({ ...settings, backend, log });
}
