// Diffusion pipeline overhead: per-step time split into ONNX Runtime (UNet session.run) and our own work
// (input scaling, fp16 conversion, feeds, guidance, scheduler), and time from generate() ("job receipt",
// pipeline already loaded) to the first UNet step. Runs on tiny random-weight models (no real weights exist
// here), so the ONNX Runtime side is tiny and our overhead is shown in absolute terms as well.
//
// Baselines, measured in the same run: the UNet's bare session.run on pre-built feeds of the same shapes (what a
// step would cost with zero pipeline code), and the text encoder's bare session.run (the ONNX work that
// necessarily precedes the first step).
//
// Run: node --conditions=development --import tsx bench/diffusion.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { createTinyModel, float32ToHalf, loadPipeline } from '@dreamfold/diffusion';
import type { GenerateParams, SamplerName, TinyModelOptions } from '@dreamfold/diffusion';

interface Case {
  name: string;
  model: TinyModelOptions;
  size: number;
  steps: number;
  runs: number;
  sampler: SamplerName;
  guidance: 'batched' | 'sequential';
}

const REAL_SIZE = { size: 512, steps: 20, runs: 5, model: { hiddenSize: 768 } };
const CASES: Case[] = [
  {
    name: 'tiny 64x64, 4 steps, euler_a, fp32',
    model: {},
    size: 64,
    steps: 4,
    runs: 30,
    sampler: 'euler_a',
    guidance: 'batched',
  },
  {
    name: '512x512 (latents 4x64x64), D=768, 20 steps, euler, fp32',
    ...REAL_SIZE,
    sampler: 'euler',
    guidance: 'batched',
  },
  { name: '512x512, D=768, 20 steps, euler_a, fp32', ...REAL_SIZE, sampler: 'euler_a', guidance: 'batched' },
  {
    name: '512x512, D=768, 20 steps, dpmpp_2m_karras, fp32',
    ...REAL_SIZE,
    sampler: 'dpmpp_2m_karras',
    guidance: 'batched',
  },
  {
    name: '512x512, D=768, 20 steps, euler_a, fp16 graphs',
    ...REAL_SIZE,
    model: { hiddenSize: 768, precision: 'float16' },
    sampler: 'euler_a',
    guidance: 'batched',
  },
  {
    name: '512x512, D=768, 20 steps, euler_a, fp32',
    ...REAL_SIZE,
    sampler: 'euler_a',
    guidance: 'sequential',
  },
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ms = (v: number) => `${v.toFixed(3)} ms`;

/** Bare session.run of a graph on fixed feeds: the baseline no pipeline code can beat. */
async function bareRun(path: string, feeds: Record<string, ort.Tensor>, runs: number): Promise<number> {
  const session = await ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  try {
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await session.release();
  }
}

function floatFeed(type: 'float32' | 'float16', dims: number[]): ort.Tensor {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
  return type === 'float32'
    ? new ort.Tensor('float32', data, dims)
    : new ort.Tensor('float16', float32ToHalf(data), dims);
}

async function runCase(root: string, c: Case): Promise<void> {
  const dir = join(root, `${c.name.replace(/[^a-z0-9]+/gi, '-')}-${c.guidance}`);
  await createTinyModel(dir, c.model);
  const pipeline = await loadPipeline(dir, { guidance: c.guidance });
  const params: GenerateParams = {
    prompt: 'a photo of a cat',
    negativePrompt: 'a dog',
    width: c.size,
    height: c.size,
    steps: c.steps,
    guidanceScale: 7,
    sampler: c.sampler,
    seed: 1,
  };
  for (let i = 0; i < 3; i++) await pipeline.generate(params);
  const stepOnnx: number[] = [];
  const stepOverhead: number[] = [];
  const firstStep: number[] = [];
  const textEncoder: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < c.runs; i++) {
    const { timings } = await pipeline.generate({ ...params, seed: i });
    for (const s of timings.steps) {
      stepOnnx.push(s.onnxMs);
      stepOverhead.push(s.overheadMs);
    }
    firstStep.push(timings.timeToFirstStepMs);
    textEncoder.push(timings.onnx.textEncoderMs);
    totals.push(timings.totalMs);
  }
  await pipeline.dispose();

  const type = c.model.precision ?? 'float32';
  const latent = c.size / 8;
  const hidden = c.model.hiddenSize ?? 32;
  const batch = c.guidance === 'batched' ? 2 : 1;
  const unetFeeds = {
    sample: floatFeed(type, [batch, 4, latent, latent]),
    timestep: new ort.Tensor('int64', new BigInt64Array(batch).fill(500n), [batch]),
    encoder_hidden_states: floatFeed(type, [batch, 77, hidden]),
  };
  const bareUnet =
    (await bareRun(join(dir, 'unet/model.onnx'), unetFeeds, 50)) * (c.guidance === 'batched' ? 1 : 2);
  const ids = new ort.Tensor('int32', new Int32Array(2 * 77).fill(5), [2, 77]);
  const bareText = await bareRun(join(dir, 'text_encoder/model.onnx'), { input_ids: ids }, 50);

  const onnx = median(stepOnnx);
  const overhead = median(stepOverhead);
  console.log(`\n${c.name} (${c.guidance} guidance; medians of ${stepOnnx.length} steps / ${c.runs} runs)`);
  console.log(
    `  step, UNet session.run in pipeline : ${ms(onnx)}   baseline bare session.run: ${ms(bareUnet)}`,
  );
  console.log(
    `  step, our overhead                 : ${ms(overhead)}   = ${((100 * overhead) / (onnx + overhead)).toFixed(1)}% of the step`,
  );
  console.log(`  overhead stays < 5% when a UNet step takes ≥ ${ms(overhead * 19)} (20× − 1 the overhead)`);
  console.log(
    `  job receipt → first UNet step      : ${ms(median(firstStep))}   baseline bare text-encoder session.run: ${ms(bareText)} (in pipeline: ${ms(median(textEncoder))})`,
  );
  console.log(`  whole generation (incl. VAE, PNG)  : ${ms(median(totals))}`);
}

const root = mkdtempSync(join(tmpdir(), 'dreamfold-bench-diffusion-'));
try {
  console.log(`Node ${process.version}, onnxruntime-node ${ort.env.versions.common}, CPU provider`);
  for (const c of CASES) await runCase(root, c);
} finally {
  rmSync(root, { recursive: true, force: true });
}
