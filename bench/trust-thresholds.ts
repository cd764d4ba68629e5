// The measurements behind the verification thresholds in packages/server/src/trust/thresholds.ts.
//
// Real outputs of the tiny random-weight ONNX Stable Diffusion model (packages/diffusion), honest
// test-pattern pictures, gradients and solid images, against random noise and lightly disguised blanks:
//   - spread (largest per-channel std dev over a 32×32 area-averaged copy) → the blank threshold;
//   - neighbouring-pixel correlation → the noise threshold;
//   - perceptual-hash (pHash, dHash) Hamming distances between the same job run with different numeric
//     paths (ONNX Runtime thread counts, graph optimisation off, sequential instead of batched guidance,
//     and fp16 weights as an upper bound of GPU-style rounding) versus different seeds and prompts → the
//     replication agreement threshold; and between an image and its disguised replays → the replay one;
//   - CLIP-embedding cosine similarities of the same pictures (the tiny model's image encoder, fp32 and fp16,
//     bench/_trust-embeddings.ts), and of pictures pHash cannot tell apart → the second agreement measure.
// Not a benchmark of speed: it prints distributions beside the thresholds in use. `npm run bench -- trust-thresholds`.
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { createTinyModel, loadPipeline, type GenerateParams, type Pipeline } from '@dreamfold/diffusion';
import { testPattern } from '@dreamfold/worker/testing';
import {
  analyseImage,
  hammingDistance,
  type ImageFeatures,
} from '../packages/server/src/trust/image-analysis.js';
import { THRESHOLDS } from '../packages/server/src/trust/thresholds.js';
import { disguisedCopies, embeddingSimilarities, ENCODER_DIM } from './_trust-embeddings.js';

const SIZES = [
  [64, 64],
  [128, 96],
] as const;
const PROMPTS = ['a lighthouse at dusk', 'a bowl of fruit, oil painting', 'portrait of an old sailor'];
const SEEDS = [1, 2, 3, 4, 5, 6];

function summary(values: number[], digits = 2): string {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const f = (v: number) => v.toFixed(digits);
  return `n=${s.length} min ${f(s[0]!)} p5 ${f(q(0.05))} median ${f(q(0.5))} p95 ${f(q(0.95))} max ${f(s.at(-1)!)}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dreamfold-trust-'));
  // With an image encoder: its weights come from a stream of their own, so the other graphs (and every
  // picture) are the same as without one.
  const fp32 = (await createTinyModel(join(dir, 'tiny-sd'), { imageEncoderDim: ENCODER_DIM })).dir;
  const fp16 = (
    await createTinyModel(join(dir, 'tiny-sd-fp16'), { precision: 'float16', imageEncoderDim: ENCODER_DIM })
  ).dir;
  const variants: Array<[string, Pipeline]> = [
    ['reference (batched guidance, default threads)', await loadPipeline(fp32)],
    ['1 intra-op thread', await loadPipeline(fp32, { session: { intraOpNumThreads: 1 } })],
    [
      'graph optimisation disabled',
      await loadPipeline(fp32, { session: { graphOptimizationLevel: 'disabled' } }),
    ],
    ['sequential guidance', await loadPipeline(fp32, { guidance: 'sequential' })],
    ['fp16 weights (another fingerprint)', await loadPipeline(fp16)],
  ];

  const tiny: Record<string, ImageFeatures[]> = {};
  const byVariant = new Map<string, Map<string, ImageFeatures>>();
  const pngsByVariant: Array<[string, Map<string, Buffer>]> = [];
  for (const [name, pipeline] of variants) {
    const results = new Map<string, ImageFeatures>();
    const pngs = new Map<string, Buffer>();
    for (const [width, height] of SIZES)
      for (const prompt of PROMPTS)
        for (const seed of SEEDS) {
          const params: GenerateParams = {
            prompt,
            negativePrompt: '',
            width,
            height,
            steps: 8,
            guidanceScale: 7,
            sampler: 'euler_a',
            seed,
          };
          const { png } = await pipeline.generate(params);
          results.set(`${width}x${height}|${prompt}|${seed}`, await analyseImage(png));
          pngs.set(`${width}x${height}|${prompt}|${seed}`, png);
        }
    byVariant.set(name, results);
    pngsByVariant.push([name, pngs]);
    tiny[name] = [...results.values()];
  }
  const reference = byVariant.get(variants[0]![0])!;
  const honestPatterns: ImageFeatures[] = [];
  const patternPngs: Buffer[] = [];
  for (const [width, height] of SIZES)
    for (const prompt of PROMPTS)
      for (const seed of SEEDS) {
        const png = await testPattern({ width, height, seed, prompt, steps: 10, model: 'test-model' });
        patternPngs.push(png);
        honestPatterns.push(await analyseImage(png));
      }

  const noise: ImageFeatures[] = [];
  const disguisedBlanks: ImageFeatures[] = [];
  const solids: ImageFeatures[] = [];
  const gradients: ImageFeatures[] = [];
  for (let i = 0; i < 40; i++) {
    const [w, h] = SIZES[i % SIZES.length]!;
    noise.push(
      await analyseImage(
        await sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer(),
      ),
    );
    const colour = { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 };
    solids.push(
      await analyseImage(
        await sharp({ create: { width: w, height: h, channels: 3, background: colour } })
          .png()
          .toBuffer(),
      ),
    );
    // A blank with ±6 levels of noise sprinkled on, to slip past a naive "all pixels equal" test.
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < px.length; p++)
      px[p] = Math.max(0, Math.min(255, 120 + Math.round((Math.random() - 0.5) * 12)));
    disguisedBlanks.push(
      await analyseImage(
        await sharp(px, { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer(),
      ),
    );
    const g = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const k = (y * w + x) * 3;
        g[k] = Math.floor((x * 255) / w);
        g[k + 1] = Math.floor((y * 255) / h);
        g[k + 2] = (i * 29) % 256;
      }
    gradients.push(
      await analyseImage(
        await sharp(g, { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer(),
      ),
    );
  }

  console.log(`Thresholds in use: ${JSON.stringify(THRESHOLDS)}\n`);
  console.log('spread (blank check: below the threshold is blank)');
  console.log(
    `  tiny ONNX model outputs      ${summary(
      Object.values(tiny)
        .flat()
        .map((f) => f.spread),
    )}`,
  );
  console.log(`  honest test patterns         ${summary(honestPatterns.map((f) => f.spread))}`);
  console.log(`  gradients                    ${summary(gradients.map((f) => f.spread))}`);
  console.log(`  solid images                 ${summary(solids.map((f) => f.spread))}`);
  console.log(`  blank ± 6 levels of noise    ${summary(disguisedBlanks.map((f) => f.spread))}`);
  console.log(`  random noise                 ${summary(noise.map((f) => f.spread))}`);
  console.log('\nneighbour correlation (noise check: below the threshold is noise)');
  console.log(
    `  tiny ONNX model outputs      ${summary(
      Object.values(tiny)
        .flat()
        .map((f) => f.correlation),
    )}`,
  );
  console.log(`  honest test patterns         ${summary(honestPatterns.map((f) => f.correlation))}`);
  console.log(`  gradients                    ${summary(gradients.map((f) => f.correlation))}`);
  console.log(`  random noise                 ${summary(noise.map((f) => f.correlation))}`);
  console.log(`  blank ± 6 levels of noise    ${summary(disguisedBlanks.map((f) => f.correlation))}`);

  for (const hash of ['phash', 'dhash'] as const) {
    console.log(`\n${hash} Hamming distance (of 64 bits)`);
    for (const [name] of variants.slice(1)) {
      const other = byVariant.get(name)!;
      const d = [...reference.entries()].map(([k, f]) => hammingDistance(f[hash], other.get(k)![hash]));
      console.log(`  same job, ${name.padEnd(36)} ${summary(d)}`);
    }
    const seeds: number[] = [];
    const prompts: number[] = [];
    const entries = [...reference.entries()].map(([k, f]) => ({ k: k.split('|'), f }));
    for (const a of entries)
      for (const b of entries) {
        if (a === b || a.k[0] !== b.k[0]) continue;
        if (a.k[1] === b.k[1] && a.k[2] !== b.k[2]) seeds.push(hammingDistance(a.f[hash], b.f[hash]));
        if (a.k[1] !== b.k[1] && a.k[2] === b.k[2]) prompts.push(hammingDistance(a.f[hash], b.f[hash]));
      }
    console.log(`  tiny model, other seed, same prompt            ${summary(seeds)}`);
    console.log(`  tiny model, same seed, other prompt            ${summary(prompts)}`);
    const patterns: number[] = [];
    for (let i = 0; i < honestPatterns.length; i++)
      for (let j = i + 1; j < honestPatterns.length; j++)
        if (honestPatterns[i]!.width === honestPatterns[j]!.width)
          patterns.push(hammingDistance(honestPatterns[i]![hash], honestPatterns[j]![hash]));
    console.log(`  test patterns, other parameters                ${summary(patterns)}`);
    const replays: number[] = [];
    for (const png of patternPngs.slice(0, 12)) {
      const original = await analyseImage(png);
      for (const d of await disguisedCopies(png))
        replays.push(hammingDistance(original[hash], (await analyseImage(d))[hash]));
    }
    console.log(
      `  disguised replays (brightness, contrast, JPEG 70, half-size round trip) ${summary(replays)}`,
    );
  }
  for (const [, p] of variants) await p.dispose();
  await embeddingSimilarities({
    fp32Dir: fp32,
    fp16Dir: fp16,
    variants: pngsByVariant,
    fp16Variant: variants[4]![0],
    patternPngs,
    summary,
  });
}

await main();
