#!/usr/bin/env node
// Prints the built app's size: every file gzipped, what the first visit downloads (index.html, the entry
// script, the stylesheet and the chunks the entry imports statically), and with --sources the largest
// inputs of each chunk (from its source map). Run after `npm run build -w @dreamfold/web`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const assets = join(dist, 'assets');
const gz = (path) => gzipSync(readFileSync(path), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = new Set(
  [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]).filter((f) => !f.endsWith('.map')),
);
// Static imports of the entry are loaded up front too.
for (const file of [...initial]) {
  if (!file.endsWith('.js')) continue;
  const code = readFileSync(join(assets, file), 'utf8');
  for (const m of code.matchAll(/from\s*"\.\/([^"]+\.js)"/g)) initial.add(m[1]);
}

let initialTotal = gz(join(dist, 'index.html'));
let total = initialTotal;
const rows = [];
for (const file of readdirSync(assets).sort()) {
  if (/\.(map|br|gz)$/.test(file)) continue;
  const size = gz(join(assets, file));
  total += size;
  if (initial.has(file)) initialTotal += size;
  rows.push([file, size, initial.has(file)]);
}
for (const [file, size, first] of rows) console.log(`${first ? '*' : ' '} ${kb(size).padStart(9)}  ${file}`);
console.log(`\nfirst visit (index.html + * files), gzipped: ${kb(initialTotal)}`);
console.log(`everything, gzipped: ${kb(total)}`);

if (process.argv.includes('--sources')) {
  for (const [file] of rows) {
    if (!file.endsWith('.js')) continue;
    const map = JSON.parse(readFileSync(join(assets, `${file}.map`), 'utf8'));
    const sizes = new Map();
    map.sources.forEach((source, i) => {
      const key = source.includes('node_modules/')
        ? source
            .replace(/.*node_modules\//, '')
            .split('/')
            .slice(0, source.includes('/@') ? 2 : 1)
            .join('/')
        : source.replace(/^(\.\.\/)+/, '');
      sizes.set(key, (sizes.get(key) ?? 0) + (map.sourcesContent?.[i]?.length ?? 0));
    });
    const top = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(`\n${file}: ${top.map(([k, v]) => `${k} ${kb(v)}`).join(', ')}`);
  }
}
