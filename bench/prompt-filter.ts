// What the prompt filter adds to POST /v1/generations.
//  1. In-process, one thread: checking prompts against a large rule list, beside the request-body
//     validation (the compiled TypeBox validator of CreateGenerationBody) on the same bodies.
//  2. The whole route through app.inject on a SQLite coordinator (temporary directory): POST
//     /v1/generations with no rules, then with the large list set through PUT /v1/admin/prompt-filter,
//     one request at a time, alternating phases.
//
// Rules: BENCH_WORDS generated blocked words (default 5,000) and BENCH_PATTERNS patterns (default 200),
// both far larger than a real list. Prompts: clean (they break no rule, so every rule is tried), 200 and
// 2,000 characters (the protocol's maximum), built from a vocabulary disjoint from the blocked words.
import { randomInt } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Compile } from 'typebox/compile';
import { CreateGenerationBody } from '@dreamfold/protocol';
import { buildCoordinator, compileRules, loadConfig } from '@dreamfold/server';
import { tempDir } from '@dreamfold/server/testing';
import { fmt } from './_harness.js';

const WORDS = Number(process.env.BENCH_WORDS ?? 5000);
const PATTERNS = Number(process.env.BENCH_PATTERNS ?? 200);
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 2000);

const letters = 'abcdefghijklmnopqrstuvwxyz';
const word = (min: number, max: number, alphabet = letters) =>
  Array.from({ length: randomInt(min, max + 1) }, () => alphabet[randomInt(alphabet.length)]).join('');

// Blocked words use the first half of the alphabet, prompt words the second: no accidental match.
const blocked = Array.from({ length: WORDS }, () => word(4, 10, 'abcdefghijklm'));
const patterns = Array.from(
  { length: PATTERNS },
  (_, i) => `/\\b${word(3, 6, 'abcdefghijklm')}[0-9]{${1 + (i % 3)}}\\b/i`,
);
const vocabulary = Array.from({ length: 2000 }, () => word(3, 9, 'nopqrstuvwxyz'));
const prompt = (chars: number) => {
  let s = '';
  while (s.length < chars)
    s += `${vocabulary[randomInt(vocabulary.length)]}${randomInt(8) === 0 ? ', ' : ' '}`;
  return s.slice(0, chars).trim();
};

/** Runs `fn` over `inputs` round-robin for PHASE_MS; returns calls per second and µs per call. */
function measure<T>(inputs: T[], fn: (x: T) => unknown): { perSecond: number; usEach: number } {
  for (let i = 0; i < 2000; i++) fn(inputs[i % inputs.length] as T); // warm-up (JIT)
  let n = 0;
  const t0 = performance.now();
  const until = t0 + PHASE_MS;
  while (performance.now() < until) {
    for (let k = 0; k < 100; k++) fn(inputs[n++ % inputs.length] as T);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: n / seconds, usEach: (seconds * 1e6) / n };
}

/** Closed loop of one: POST /v1/generations with 200-character prompts; requests per second. */
async function routePhase(inject: (body: object) => Promise<number>): Promise<number> {
  const bodies = Array.from({ length: 200 }, () => ({
    prompt: prompt(200),
    model: 'sd-1.5',
    width: 64,
    height: 64,
  }));
  let n = 0;
  const t0 = performance.now();
  const until = t0 + PHASE_MS;
  while (performance.now() < until) {
    const status = await inject(bodies[n++ % bodies.length] as object);
    if (status !== 201) throw new Error(`POST /v1/generations answered ${status}`);
  }
  return n / ((performance.now() - t0) / 1000);
}

async function route(): Promise<void> {
  const dir = tempDir('dreamfold-bench-');
  const c = await buildCoordinator({
    config: loadConfig({ DATA_DIR: dir, RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'silent' }),
    logger: false,
  });
  try {
    const admin = await c.services.accounts.createUser('admin@bench.example', 'admin');
    const user = await c.services.accounts.createUser('user@bench.example', 'user');
    const inject = async (body: object) =>
      (
        await c.app.inject({
          method: 'POST',
          url: '/v1/generations',
          headers: { authorization: `Bearer ${user.key}` },
          payload: body,
        })
      ).statusCode;
    const setRules = async (words: string[], pats: string[]) => {
      const r = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/prompt-filter',
        headers: { authorization: `Bearer ${admin.key}` },
        payload: { words, patterns: pats },
      });
      if (r.statusCode !== 200)
        throw new Error(`PUT /v1/admin/prompt-filter answered ${r.statusCode}: ${r.body}`);
    };
    await routePhase(inject); // warm-up
    const rates: Record<string, number[]> = { none: [], large: [] };
    for (let round = 0; round < 2; round++) {
      await setRules([], []);
      rates.none?.push(await routePhase(inject));
      await setRules(blocked, patterns);
      rates.large?.push(await routePhase(inject));
    }
    const mean = (xs: number[] = []) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const none = mean(rates.none);
    const large = mean(rates.large);
    console.log(
      `\nPOST /v1/generations through app.inject, SQLite (synchronous=NORMAL), 200-character prompts, 1 at a time:`,
    );
    console.log(`  no rules:    ${fmt(none)} req/s (${(1000 / none).toFixed(2)} ms each) — the baseline`);
    console.log(
      `  large list:  ${fmt(large)} req/s (${(1000 / large).toFixed(2)} ms each) — ${(((large - none) / none) * 100).toFixed(1)}% vs the baseline`,
    );
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `Prompt filter benchmark — in-process, one thread; ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; phases of ${PHASE_MS / 1000} s.`,
  );
  const t0 = performance.now();
  const rules = compileRules({ words: blocked, patterns });
  console.log(
    `Compiling ${fmt(WORDS)} words + ${fmt(PATTERNS)} patterns: ${(performance.now() - t0).toFixed(1)} ms (once per change of the rules, not per request)`,
  );

  const validator = Compile(CreateGenerationBody);
  for (const chars of [200, 2000]) {
    const bodies = Array.from({ length: 500 }, () => ({
      prompt: prompt(chars),
      negativePrompt: prompt(60),
      model: 'sd-1.5',
    }));
    for (const b of bodies) {
      if (rules.match(b.prompt) || rules.match(b.negativePrompt)) throw new Error('a "clean" prompt matched');
      if (!validator.Check(b)) throw new Error('a body failed validation');
    }
    const filter = measure(bodies, (b) => rules.match(b.prompt) ?? rules.match(b.negativePrompt));
    const baseline = measure(bodies, (b) => validator.Check(b));
    console.log(`\n${fmt(chars)}-character prompts (+ a 60-character negative prompt), clean:`);
    console.log(`  filter:   ${fmt(filter.perSecond)} checks/s, ${filter.usEach.toFixed(1)} µs per request`);
    console.log(
      `  baseline: body validation ${fmt(baseline.perSecond)} checks/s, ${baseline.usEach.toFixed(2)} µs per request`,
    );
  }
  const evasions = ['ｆｕｌｌ ｗｉｄｔｈ', 'zero\u200Bwidth', 'àccénts', 'plain'];
  const normalizeOnly = measure(evasions, (s) => s.normalize('NFKC'));
  console.log(
    `\n(For scale: String.prototype.normalize('NFKC') on short strings: ${normalizeOnly.usEach.toFixed(2)} µs.)`,
  );
  await route();
}

await main();
