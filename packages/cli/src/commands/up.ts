// `dreamfold up`: the coordinator as one process (SQLite + files under DATA_DIR by default), and what to
// do next, printed for someone who has never run it before.
import { mkdirSync } from 'node:fs';
import { ConfigError, isPostgresUrl, loadConfig, startServer, type Config } from '@dreamfold/server';
import { CliError } from '../errors.js';

export async function up(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = configFrom(env);
  mkdirSync(config.dataDir, { recursive: true });
  let url: string;
  try {
    url = (await startServer(config)).url;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(`Port ${config.port} on ${config.host} is already in use; set PORT to a free one.`);
    }
    throw new CliError(`The coordinator could not start: ${(err as Error).message}`);
  }
  console.log(banner(config, url));
}

export function configFrom(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`Configuration error: ${err.message}`);
    throw err;
  }
}

/** Where the data lives, without the password a DATABASE_URL may hold. */
export function describeDatabase(url: string): string {
  if (!isPostgresUrl(url)) return url;
  const u = new URL(url);
  return `postgres://${u.host}${u.pathname}`;
}

function banner(config: Config, url: string): string {
  const workerUrl = config.publicUrl || url;
  return [
    '',
    `Dreamfold coordinator listening on ${url}`,
    `  public URL: ${config.publicUrl}`,
    `  database:   ${describeDatabase(config.databaseUrl)}`,
    `  data dir:   ${config.dataDir}`,
    `  API docs:   ${url}/docs`,
    '',
    'Next steps (in another terminal, with the same DATA_DIR / DATABASE_URL):',
    '  1. Create the first admin; its API key is printed once:',
    '       dreamfold admin create-user --email you@example.org --role admin',
    '     (from a source checkout: npm run dreamfold -- admin create-user …)',
    '  2. Register a worker with that key; the worker key (dfw_…) is printed once:',
    `       curl -s -X POST ${url}/v1/workers -H "Authorization: Bearer $DREAMFOLD_KEY" \\`,
    `            -H 'content-type: application/json' -d '{"name":"my-gpu"}'`,
    '  3. Start a worker on a machine with a GPU and an ONNX Stable Diffusion model folder:',
    `       DREAMFOLD_WORKER_KEY=dfw_… dreamfold worker --server ${workerUrl} --backend onnx --model-dir ./models/sd-1.5`,
    '',
  ].join('\n');
}
