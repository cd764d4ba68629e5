#!/usr/bin/env node
// Runs every package's tests with Node's test runner through tsx (TypeScript sources, no build step).
// Usage: npm test [-- FILTER...]   FILTER keeps the test files whose path contains it.
// Node 20's --test does not expand globs, so the files are listed here.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';

const filters = process.argv.slice(2);
const files = [];
for (const pkg of readdirSync('packages')) {
  const src = join('packages', pkg, 'src');
  let entries = [];
  try {
    entries = readdirSync(src, { recursive: true });
  } catch {
    continue;
  }
  for (const entry of entries) {
    const path = join(src, String(entry));
    if (!/\.test\.tsx?$/.test(path)) continue;
    if (filters.length && !filters.some((f) => path.includes(f))) continue;
    files.push(path);
  }
}
files.sort();
if (files.length === 0) {
  console.error('No test files matched.');
  process.exit(1);
}
if (process.env.CI && !process.env.DATABASE_URL) {
  console.error('CI is set but DATABASE_URL is not: the PostgreSQL half of the suite would not run.');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? String(Math.max(2, availableParallelism()));
const tsx = [process.execPath, '--conditions=development', '--import', 'tsx'];

// One migrated database per dialect for the whole run; each test copies it (see
// packages/server/src/test-support/database-templates.ts). Migrating here still runs every migration on
// both databases, once.
const templatesCli = 'packages/server/src/test-support/database-templates-cli.ts';
const templateDir = mkdtempSync(join(tmpdir(), 'dreamfold-templates-'));
const created = spawnSync(tsx[0], [...tsx.slice(1), templatesCli, 'create', templateDir], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (created.status !== 0) {
  console.error('Could not migrate the template databases (see above).');
  process.exit(1);
}
const templates = JSON.parse(created.stdout);
const env = { ...process.env, NODE_ENV: 'test', DREAMFOLD_TEST_SQLITE_TEMPLATE: templates.sqlite };
if (templates.postgres) env.DREAMFOLD_TEST_PG_TEMPLATE = templates.postgres;

const child = spawn(
  tsx[0],
  [...tsx.slice(1), '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', env },
);
// Ctrl-C reaches the test processes through the terminal; wait for them, then drop the templates.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  spawnSync(tsx[0], [...tsx.slice(1), templatesCli, 'drop', JSON.stringify(templates)], { stdio: 'inherit' });
  rmSync(templateDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
