// Turns command-line flags and the environment into checked worker settings. Shared by the `dreamfold
// worker` command and the test fixture, so both run exactly the same daemon.
import { FatalWorkerError } from './errors.js';
import { parseUntil } from './until.js';

export interface WorkerFlags {
  server?: string;
  key?: string;
  name?: string;
  maxJobs?: string;
  until?: string;
  maxPixels?: string;
}

export interface WorkerSettings {
  serverUrl: string;
  key: string;
  name?: string;
  maxJobs?: number;
  until?: Date;
  maxPixels?: number;
}

export const WORKER_KEY_ENV = 'DREAMFOLD_WORKER_KEY';
export const SERVER_URL_ENV = 'DREAMFOLD_SERVER';

export function resolveWorkerSettings(
  flags: WorkerFlags,
  env: NodeJS.ProcessEnv = process.env,
): WorkerSettings {
  const server = flags.server ?? env[SERVER_URL_ENV];
  if (!server) throw invalid(`--server is required (or set ${SERVER_URL_ENV}).`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw invalid(`--server must be a URL such as https://dreamfold.example.org; got "${server}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('--server must be http(s).');
  // The environment is preferred for the key: command lines are visible to every user through `ps`.
  const key = flags.key ?? env[WORKER_KEY_ENV];
  if (!key) throw invalid(`A worker key is required: set ${WORKER_KEY_ENV} (or pass --key).`);
  if (!key.startsWith('dfw_')) {
    throw invalid(
      'That is not a worker key (worker keys start with "dfw_"; register one with POST /v1/workers).',
    );
  }
  return {
    serverUrl: url.toString().replace(/\/+$/, ''),
    key,
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.maxJobs !== undefined ? { maxJobs: positiveInt('--max-jobs', flags.maxJobs) } : {}),
    ...(flags.until !== undefined ? { until: parseUntil(flags.until) } : {}),
    ...(flags.maxPixels !== undefined ? { maxPixels: positiveInt('--max-pixels', flags.maxPixels) } : {}),
  };
}

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw invalid(`${name} must be a positive integer; got "${raw}".`);
  return n;
}

function invalid(message: string): FatalWorkerError {
  return new FatalWorkerError('invalid_option', message);
}
