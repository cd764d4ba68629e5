// The CLIP-embedding part of bench/trust-thresholds.ts: cosine similarities between image embeddings of
// the same job produced along different numeric paths, and between different pictures, as the coordinator
// compares them (the worker's float16 wire format, decoded and stored L2-normalised by
// scoring/embedding-codec.ts, compared by trust/embedding-similarity.ts).
//
// The encoder is the tiny model's image_encoder/model.onnx (@dreamfold/diffusion: 32×32 average pool →
// Linear(147, 768), random weights), run with ONNX Runtime on CPU: with fp32 and fp16 weights and with one
// intra-op thread. It reads colour and layout, not meaning, so it stands for the numeric path a real CLIP
// tower takes, not for its semantics; see thresholds.ts for what that means for the threshold.
import sharp from 'sharp';
import { float32ToHalf, loadImageEncoder, type ImageEncoder } from '@dreamfold/diffusion';
import { decodeEmbedding } from '../packages/server/src/scoring/embedding-codec.js';
import { embeddingCosine } from '../packages/server/src/trust/embedding-similarity.js';
import { analyseImage, hammingDistance } from '../packages/server/src/trust/image-analysis.js';
import { THRESHOLDS } from '../packages/server/src/trust/thresholds.js';
import { complementaryColours } from '../packages/server/src/trust/testing.js';

/** PNGs of one numeric variant of the tiny model, keyed `WxH|prompt|seed`. */
export type VariantPngs = Map<string, Buffer>;

export const ENCODER_DIM = 768;

export interface EmbeddingInputs {
  fp32Dir: string;
  fp16Dir: string;
  /** [name, pngs]; the first is the reference (fp32 weights, batched guidance, default threads). */
  variants: Array<[string, VariantPngs]>;
  /** Name of the fp16-weights variant among `variants`. */
  fp16Variant: string;
  patternPngs: Buffer[];
  summary: (values: number[], digits?: number) => string;
}

/** What the coordinator stores for an embedding the worker computed: float16 on the wire, L2-normalised. */
function stored(values: Float32Array): Uint8Array {
  const half = float32ToHalf(values);
  const data = Buffer.from(half.buffer, half.byteOffset, half.byteLength).toString('base64');
  return decodeEmbedding({ dtype: 'float16', dim: values.length, data }, values.length).bytes;
}

/**
 * A replay's disguises, and an upper bound of numeric noise: +1 brightness, ×1.05 contrast, a JPEG q70
 * round trip, a half-size round trip.
 */
export async function disguisedCopies(png: Buffer): Promise<Buffer[]> {
  const meta = await sharp(png).metadata();
  return [
    await sharp(png).linear(1, 1).png().toBuffer(),
    await sharp(png).linear(1.05, -3).png().toBuffer(),
    await sharp(png)
      .jpeg({ quality: 70 })
      .toBuffer()
      .then((j) => sharp(j).png().toBuffer()),
    await sharp(png)
      .resize(meta.width! / 2, meta.height! / 2)
      .resize(meta.width!, meta.height!)
      .png()
      .toBuffer(),
  ];
}

/** The same luminance in grey: R = G = B = Y. */
async function greyscale(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = Buffer.alloc(data.length);
  for (let p = 0; p < data.length; p += 3) {
    const y = Math.round(0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!);
    out[p] = out[p + 1] = out[p + 2] = y;
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } })
    .png()
    .toBuffer();
}

export async function embeddingSimilarities(inputs: EmbeddingInputs): Promise<void> {
  const { summary } = inputs;
  const encoders: Array<[string, ImageEncoder]> = [];
  const open = async (name: string, dir: string, threads?: number) => {
    const e = await loadImageEncoder(dir, threads ? { session: { intraOpNumThreads: threads } } : {});
    if (!e) throw new Error(`${dir} has no image encoder`);
    encoders.push([name, e]);
    return e;
  };
  const fp32 = await open('fp32 encoder', inputs.fp32Dir);
  const fp32OneThread = await open('fp32 encoder, 1 intra-op thread', inputs.fp32Dir, 1);
  const fp16 = await open('fp16 encoder', inputs.fp16Dir);
  const embed = async (e: ImageEncoder, png: Buffer) => stored(await e.embed(png));

  const [referenceName, reference] = inputs.variants[0]!;
  const ref = new Map<string, Uint8Array>();
  for (const [k, png] of reference) ref.set(k, await embed(fp32, png));

  console.log(`\nCLIP-embedding cosine similarity (tiny image encoder, ${ENCODER_DIM}-d, float16 as stored)`);
  console.log(`  reference: ${referenceName}, fp32 encoder`);
  const sameJob: number[] = [];
  const row = (label: string, values: number[]) => {
    const gap = Math.max(...values.map((v) => 1 - v));
    console.log(`  same job, ${label.padEnd(46)} ${summary(values, 6)} (1 − cos ≤ ${gap.toExponential(1)})`);
    sameJob.push(...values);
  };
  for (const [name, pngs] of inputs.variants.slice(1)) {
    const values: number[] = [];
    for (const [k, png] of pngs) values.push(embeddingCosine(ref.get(k)!, await embed(fp32, png)));
    row(name, values);
  }
  for (const [name, e] of [
    ['reference picture, fp32 encoder, 1 thread', fp32OneThread],
    ['reference picture, fp16 encoder', fp16],
  ] as const) {
    const values: number[] = [];
    for (const [k, png] of reference) values.push(embeddingCosine(ref.get(k)!, await embed(e, png)));
    row(name, values);
  }
  const fp16Pngs = inputs.variants.find(([n]) => n === inputs.fp16Variant)![1];
  const fp16Everywhere: number[] = [];
  for (const [k, png] of fp16Pngs) fp16Everywhere.push(embeddingCosine(ref.get(k)!, await embed(fp16, png)));
  row('fp16 weights throughout (picture and encoder)', fp16Everywhere);

  // Perturbed copies no honest worker makes (the replay disguises of the pHash section): an upper bound of
  // how far numeric noise could move a picture.
  const lossy: number[] = [];
  for (const [k, png] of [...reference].slice(0, 12)) {
    for (const copy of await disguisedCopies(png))
      lossy.push(embeddingCosine(ref.get(k)!, await embed(fp32, copy)));
  }
  console.log(`  perturbed copies (+1, ×1.05, JPEG q70, half size)     ${summary(lossy, 6)}`);

  const entries = [...ref.entries()].map(([k, e]) => ({ k: k.split('|'), e }));
  const seeds: number[] = [];
  const prompts: number[] = [];
  for (const a of entries)
    for (const b of entries) {
      if (a === b || a.k[0] !== b.k[0]) continue;
      if (a.k[1] === b.k[1] && a.k[2] !== b.k[2]) seeds.push(embeddingCosine(a.e, b.e));
      if (a.k[1] !== b.k[1] && a.k[2] === b.k[2]) prompts.push(embeddingCosine(a.e, b.e));
    }
  console.log(`  tiny model, other seed, same prompt                    ${summary(seeds)}`);
  console.log(`  tiny model, same seed, other prompt                    ${summary(prompts)}`);
  const patternEmbeddings = await Promise.all(inputs.patternPngs.map((p) => embed(fp32, p)));
  const patterns: number[] = [];
  for (let i = 0; i < patternEmbeddings.length; i++)
    for (let j = i + 1; j < patternEmbeddings.length; j++)
      patterns.push(embeddingCosine(patternEmbeddings[i]!, patternEmbeddings[j]!));
  console.log(`  test patterns, other parameters                        ${summary(patterns)}`);

  // Pictures pHash cannot tell from the original (it reads luminance only), with other content.
  const blindSpot: number[] = [];
  for (const [label, make] of [
    ['same luminance, complementary colours', complementaryColours],
    ['same luminance, grey', greyscale],
  ] as const) {
    const cos: number[] = [];
    const bits: number[] = [];
    for (const [k, png] of reference) {
      const fake = await make(png);
      cos.push(embeddingCosine(ref.get(k)!, await embed(fp32, fake)));
      bits.push(hammingDistance((await analyseImage(png)).phash, (await analyseImage(fake)).phash));
      if (bits.at(-1)! <= THRESHOLDS.agreeDistance) blindSpot.push(cos.at(-1)!);
    }
    console.log(`  ${label.padEnd(54)} ${summary(cos)}`);
    console.log(`    its pHash distance to the original                   ${summary(bits)}`);
  }
  const gap = 1 - THRESHOLDS.agreeCosine;
  const honestGap = Math.max(...sameJob.map((v) => 1 - v));
  const lossyGap = Math.max(...lossy.map((v) => 1 - v));
  const blindGap = Math.min(...blindSpot.map((v) => 1 - v));
  console.log(
    `  → agree when cosine ≥ ${THRESHOLDS.agreeCosine} (1 − cos ≤ ${gap.toFixed(2)}): ${(gap / honestGap).toFixed(0)}× the ` +
      `largest same-job gap (${honestGap.toExponential(1)}), ${(gap / lossyGap).toFixed(0)}× the perturbed ` +
      `copies' (${lossyGap.toExponential(1)}); the closest picture pHash passes (${blindSpot.length} of ` +
      `${2 * reference.size} within ${THRESHOLDS.agreeDistance} bits) is ${(blindGap / gap).toFixed(0)}× ` +
      `further (1 − cos ${blindGap.toFixed(2)})`,
  );
  for (const [, e] of encoders) await e.dispose();
}
