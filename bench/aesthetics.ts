// Benchmark of @dreamfold/aesthetics: scoring and training throughput, each beside a NumPy
// implementation of the same float32 MLP run in this same process tree (python subprocess).
//   node --conditions=development --import tsx bench/aesthetics.ts
// NumPy is looked up as `python3` then `/usr/bin/python3` (Debian: apt-get install -y python3-numpy);
// without it only the NumPy baselines are skipped.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  createModel,
  encodeOnnx,
  scoreEmbeddings,
  scoreEmbeddingsLayered,
  trainFromRatings,
  writeNpy,
  type AestheticModel,
} from '@dreamfold/aesthetics';
import { coordinatorScoring } from './_scoring-coordinator.js';

const DIM = 768;
const SCORE_ROWS = 100_000;
const TRAIN_ROWS = 10_000;
const TRAIN_EPOCHS = 2;
/** Stored embeddings the coordinator re-scores (BENCH_SCORING_ROWS). */
const COORDINATOR_ROWS = Number(process.env.BENCH_SCORING_ROWS ?? 100_000);

function normalisedEmbeddings(rows: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(rows * DIM);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  for (let r = 0; r < rows; r++) {
    const row = out.subarray(r * DIM, (r + 1) * DIM);
    const norm = Math.hypot(...row);
    for (let i = 0; i < DIM; i++) row[i] = row[i]! / norm;
  }
  return out;
}

/** Best of `repeats` timings of fn, in seconds. */
async function best(repeats: number, fn: () => unknown): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    fastest = Math.min(fastest, (performance.now() - start) / 1000);
  }
  return fastest;
}

function findNumpy(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

const NUMPY_SCRIPT = String.raw`
import json, sys, time
import numpy as np
d = sys.argv[1]
x = np.load(d + '/x.npy')
ws = [np.load(d + f'/w{k}.npy') for k in range(5)]   # [out, in], PyTorch layout
bs = [np.load(d + f'/b{k}.npy')[:, 0] for k in range(5)]
wts = [np.ascontiguousarray(w.T) for w in ws]
def layered(x, batch=4096):
    out = np.empty(len(x), np.float32)
    for i in range(0, len(x), batch):
        h = x[i:i+batch]
        h = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
        for wt, b in zip(wts, bs):
            h = h @ wt + b
        out[i:i+batch] = h[:, 0]
    return out
v = wts[0]
for wt in wts[1:]: v = v @ wt
c = np.float32(0)
h = bs[0]
for wt, b in zip(wts[1:], bs[1:]): h = h @ wt + b
def collapsed(x):
    return (x @ v)[:, 0] / np.maximum(np.linalg.norm(x, axis=1), 1e-12) + h[0]
def best(fn, repeats=3):
    t = 1e9
    for _ in range(repeats):
        s = time.perf_counter(); r = fn(); t = min(t, time.perf_counter() - s)
    return t, r
t_layered, s_layered = best(lambda: layered(x))
t_collapsed, _ = best(lambda: collapsed(x))
np.save(d + '/numpy_scores.npy', s_layered[:, None].astype(np.float32))

# Training: the same network, hand-written backprop, Adam(1e-3), batch 256, dropout 0.2/0.2/0.1.
rng = np.random.default_rng(0)
n_train = int(sys.argv[2]); epochs = int(sys.argv[3])
xt = x[:n_train]; yt = (5 + 2 * rng.standard_normal(n_train)).astype(np.float32)[:, None]
params = [a.copy() for a in wts] + [b.copy() for b in bs]
m = [np.zeros_like(p) for p in params]; vv = [np.zeros_like(p) for p in params]; step = 0
drop = [0.2, 0.2, 0.1]
def mask(shape, p): return (rng.random(shape, dtype=np.float32) >= p).astype(np.float32) / np.float32(1 - p)
rates = []
for epoch in range(epochs):
    s = time.perf_counter()
    order = rng.permutation(n_train)
    for i in range(0, n_train, 256):
        idx = order[i:i+256]; xb = xt[idx]; yb = yt[idx]; B = len(idx)
        W = params[:5]; b = params[5:]
        m1 = mask((B, 1024), .2); m2 = mask((B, 128), .2); m3 = mask((B, 64), .1)
        d1 = (xb @ W[0] + b[0]) * m1; d2 = (d1 @ W[1] + b[1]) * m2; d3 = (d2 @ W[2] + b[2]) * m3
        h4 = d3 @ W[3] + b[3]; y = h4 @ W[4] + b[4]
        g = (2.0 / B) * (y - yb)
        grads = [None] * 10
        grads[4] = h4.T @ g; grads[9] = g.sum(0); g = g @ W[4].T
        grads[3] = d3.T @ g; grads[8] = g.sum(0); g = (g @ W[3].T) * m3
        grads[2] = d2.T @ g; grads[7] = g.sum(0); g = (g @ W[2].T) * m2
        grads[1] = d1.T @ g; grads[6] = g.sum(0); g = (g @ W[1].T) * m1
        grads[0] = xb.T @ g; grads[5] = g.sum(0)
        step += 1
        for k, (p, gr) in enumerate(zip(params, grads)):
            m[k] = 0.9 * m[k] + 0.1 * gr; vv[k] = 0.999 * vv[k] + 0.001 * gr * gr
            p -= 1e-3 * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(vv[k] / (1 - 0.999 ** step)) + 1e-8)
    rates.append(n_train / (time.perf_counter() - s))
print(json.dumps({'numpy': np.__version__, 'layered_s': t_layered, 'collapsed_s': t_collapsed, 'train_rates': rates}))
`;

function line(
  label: string,
  ours: number,
  baselineLabel: string,
  baseline: number | undefined,
  unit: string,
): void {
  const fmt = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const ratio =
    baseline === undefined ? 'baseline skipped' : `${(ours / baseline).toFixed(2)}× ${baselineLabel}`;
  console.log(
    `${label.padEnd(46)} ${fmt(ours).padStart(12)} ${unit}   ${baselineLabel}: ${baseline === undefined ? 'n/a' : fmt(baseline)} ${unit}   → ${ratio}`,
  );
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dreamfold-bench-aesthetics-'));
  try {
    const model: AestheticModel = createModel({ seed: 1 });
    const x = normalisedEmbeddings(SCORE_ROWS, 7);
    console.log(
      `aesthetics bench: ${SCORE_ROWS.toLocaleString()} × ${DIM} float32 embeddings, Node ${process.version}, ${availableParallelism()} CPUs`,
    );
    console.log('(NumPy uses every core through its BLAS unless capped; tfjs-wasm runs one thread in Node)');

    // Our scoring (collapsed affine map), single thread.
    scoreEmbeddings(model, x.subarray(0, 1000 * DIM));
    const out = new Float32Array(SCORE_ROWS);
    const tOurs = await best(5, () => scoreEmbeddings(model, x, out));
    const oursRate = SCORE_ROWS / tOurs;

    // Reference layered pass in plain JS and the exported ONNX graph in onnxruntime-node (informative).
    const small = x.subarray(0, 2000 * DIM);
    const tJsLayered = await best(1, () => scoreEmbeddingsLayered(model, small));
    const session = await ort.InferenceSession.create(encodeOnnx(model));
    const ortRun = async (): Promise<void> => {
      for (let i = 0; i < SCORE_ROWS; i += 4096) {
        const n = Math.min(4096, SCORE_ROWS - i);
        await session.run({
          embedding: new ort.Tensor('float32', x.subarray(i * DIM, (i + n) * DIM), [n, DIM]),
        });
      }
    };
    const tOrt = await best(2, ortRun);
    await session.release();

    // NumPy: same weights and inputs through .npy files written by this package.
    const python = findNumpy();
    let numpy: { numpy: string; layered_s: number; collapsed_s: number; train_rates: number[] } | undefined;
    let numpy1: typeof numpy;
    if (python === undefined) {
      console.log(
        'NumPy not found (tried python3, /usr/bin/python3; apt-get install -y python3-numpy): NumPy baselines skipped',
      );
    } else {
      await writeNpy(join(dir, 'x.npy'), x, { dim: DIM });
      for (const [k, layer] of model.layers.entries()) {
        await writeNpy(join(dir, `w${k}.npy`), layer.weight, { dim: layer.inputs });
        await writeNpy(join(dir, `b${k}.npy`), layer.bias, { dim: 1 });
      }
      const runNumpy = (threads?: string): NonNullable<typeof numpy> => {
        // Thread caps for OpenBLAS / MKL / OpenMP, whichever BLAS NumPy was built with.
        const env = threads
          ? {
              ...process.env,
              OPENBLAS_NUM_THREADS: threads,
              OMP_NUM_THREADS: threads,
              MKL_NUM_THREADS: threads,
            }
          : process.env;
        const run = spawnSync(python, ['-c', NUMPY_SCRIPT, dir, String(TRAIN_ROWS), String(TRAIN_EPOCHS)], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
          env,
        });
        if (run.status !== 0) throw new Error(`NumPy baseline failed: ${run.stderr}`);
        return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as NonNullable<typeof numpy>;
      };
      numpy1 = runNumpy('1');
      numpy = runNumpy();
      const { readNpy } = await import('@dreamfold/aesthetics');
      const theirs = (await readNpy(join(dir, 'numpy_scores.npy'), { dim: 1 })).data;
      let maxDiff = 0;
      for (let i = 0; i < SCORE_ROWS; i++) maxDiff = Math.max(maxDiff, Math.abs(theirs[i]! - out[i]!));
      console.log(
        `NumPy ${numpy!.numpy} via ${python}; max |ours − NumPy layered| over all rows: ${maxDiff.toExponential(2)}`,
      );
    }

    console.log('\nScoring throughput (embeddings/s, best of several runs):');
    const npLayered = numpy ? SCORE_ROWS / numpy.layered_s : undefined;
    line('ours: collapsed affine map (JS, 1 thread)', oursRate, 'NumPy layered f32', npLayered, 'emb/s');
    line(
      'ours: exported ONNX, onnxruntime-node CPU',
      SCORE_ROWS / tOrt,
      'NumPy layered f32',
      npLayered,
      'emb/s',
    );
    line(
      'ours: collapsed affine map (JS, 1 thread)',
      oursRate,
      'NumPy layered, 1 thread',
      numpy1 ? SCORE_ROWS / numpy1.layered_s : undefined,
      'emb/s',
    );
    line(
      'ours: literal layered pass (JS reference)',
      2000 / tJsLayered,
      'NumPy layered f32',
      npLayered,
      'emb/s',
    );
    line(
      'ours: collapsed affine map (JS, 1 thread)',
      oursRate,
      'NumPy collapsed',
      numpy ? SCORE_ROWS / numpy.collapsed_s : undefined,
      'emb/s',
    );

    // The coordinator's background scorer re-scoring every stored embedding after an install.
    const coordinator = await coordinatorScoring(COORDINATOR_ROWS);
    console.log(
      `\nThe coordinator's background scorer, re-scoring ${COORDINATOR_ROWS.toLocaleString()} stored float16 embeddings after a predictor install (SQLite; reading pages, decoding, scoring, writing the scores; ${coordinator.rounds} rounds, ${coordinator.seconds.toFixed(1)} s wall):`,
    );
    line(
      'coordinator: embeddings/s by CPU seconds',
      coordinator.embeddings / coordinator.cpuSeconds,
      'NumPy layered f32',
      npLayered,
      'emb/s',
    );
    line(
      'coordinator: embeddings/s by CPU seconds',
      coordinator.embeddings / coordinator.cpuSeconds,
      'NumPy collapsed',
      numpy ? SCORE_ROWS / numpy.collapsed_s : undefined,
      'emb/s',
    );

    // Training throughput per epoch on synthetic ratings.
    const ratings = Float32Array.from({ length: TRAIN_ROWS }, (_, i) => 5 + 2 * Math.sin(i));
    const { history } = await trainFromRatings({
      embeddings: x.subarray(0, TRAIN_ROWS * DIM),
      ratings,
      dim: DIM,
      maxEpochs: TRAIN_EPOCHS,
      patience: TRAIN_EPOCHS,
      // Validation rows are scored, not trained on: keep the trained count equal to NumPy's.
      validationFraction: 0.01,
    });
    console.log(
      `\nTraining throughput (samples/s per epoch, ${TRAIN_ROWS.toLocaleString()} rows, batch 256, Adam):`,
    );
    history.forEach((epoch, i) => {
      line(
        `ours: tfjs-wasm (1 thread), epoch ${epoch.epoch}`,
        epoch.samplesPerSecond,
        'NumPy',
        numpy?.train_rates[i],
        'samples/s',
      );
      line(
        `ours: tfjs-wasm (1 thread), epoch ${epoch.epoch}`,
        epoch.samplesPerSecond,
        'NumPy, 1 thread',
        numpy1?.train_rates[i],
        'samples/s',
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
