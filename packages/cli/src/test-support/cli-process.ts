// Runs the real `dreamfold` entry point as child processes (through tsx, no build step), the way a newcomer
// would: `up` for the coordinator, `admin create-user` for the first account.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startTsProcess, type TestProcess } from '@dreamfold/worker/testing';

export const CLI_MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export function runCli(args: string[], env: Record<string, string>): TestProcess {
  return startTsProcess(CLI_MAIN, args, env);
}

/** A port that was free a moment ago (the coordinator must come back on the same one after a restart). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface CoordinatorEnv extends Record<string, string> {
  DATA_DIR: string;
  DATABASE_URL: string;
  PORT: string;
}

/** `dreamfold up` as a process; resolves once it printed where it listens. */
export async function startCoordinatorProcess(
  env: CoordinatorEnv,
): Promise<{ process: TestProcess; url: string }> {
  const process = runCli(['up'], {
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    PUBLIC_URL: `http://127.0.0.1:${env.PORT}`,
    ...env,
  });
  // Generous: the CLI starts from TypeScript sources through tsx, which took over 20 s on this 2-core
  // machine at load 12 (a wait for startup, not a timing check).
  const match = await process.waitForOutput(/listening on (http:\/\/\S+)/, 60_000).catch((err: unknown) => {
    // The caller never gets a handle to stop it, and a live child keeps the test file from ever exiting.
    process.kill('SIGKILL');
    throw err;
  });
  return { process, url: match[1] as string };
}

/** `dreamfold admin create-user`; answers the printed API key. */
export async function createUserWithCli(env: CoordinatorEnv, email: string, role: string): Promise<string> {
  const cli = runCli(['admin', 'create-user', '--email', email, '--role', role], env);
  const { code } = await cli.exited;
  const key = /^(dfk_\S+)$/m.exec(cli.output())?.[1];
  if (code !== 0 || !key) throw new Error(`create-user failed (exit ${code}):\n${cli.output()}`);
  return key;
}
