#!/usr/bin/env node
// Runs the benchmarks in bench/: `npm run bench` (all) or `npm run bench -- NAME [NAME…]`.
// Each bench is a standalone TypeScript script that prints its figures beside a baseline measured in
// the same run. Benchmarks are never tests: nothing here asserts a timing.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const all = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n=== bench: ${name} ===`);
  const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', `bench/${name}.ts`], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
