// Builds the web app once per test process into a temporary folder, which the test coordinator serves
// (BuildOptions.webRoot), so tests never touch packages/web/dist. A child process with
// NODE_ENV=production: the test runner sets NODE_ENV=test, under which Vite and React would produce a
// development build.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let built: Promise<string> | undefined;

function runViteBuild(outDir: string): Promise<string> {
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: WEB_ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(outDir) : reject(new Error(`vite build failed (exit ${code}):\n${output}`)),
    );
  });
}

/** The folder holding the built app (index.html, assets/). */
export function buildWebApp(): Promise<string> {
  built ??= runViteBuild(mkdtempSync(join(tmpdir(), 'dreamfold-web-')));
  return built;
}
