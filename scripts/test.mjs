#!/usr/bin/env node
// Runs every package's tests with Node's test runner through tsx (TypeScript sources, no build step).
// Usage: npm test [-- FILTER...]   FILTER keeps the test files whose path contains it.
// Node 20's --test does not expand globs, so the files are listed here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

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
const result = spawnSync(
  process.execPath,
  [
    '--conditions=development',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
