// Benchmark of the NSFW classifier (nsfwjs MobileNetV2, bundled in the npm package) on the CPU:
//   node --conditions=development --import tsx bench/classifier.ts     (or: npm run bench -- classifier)
// Figures, all in this one run on the same 512×512 PNGs:
//   1. sharp alone: decode + resize to 224×224 (the part of the work that runs on libuv's pool);
//   2. the network alone on the WebAssembly backend (tfjs-backend-wasm, XNNPACK), in its thread;
//   3. both together, as the coordinator classifies a stored image;
//   4. the coordinator's scanner end to end: images uploaded through the worker protocol, then the wall
//      time until every one is classified (blob read, decode, inference, verdict and hide in SQLite);
//   baseline: the same network on the pure-JavaScript CPU backend (tfjs-backend-cpu), a few images.
import sharp from 'sharp';
import { NsfwjsClassifier, toModelInput } from '@dreamfold/server';
import { startTestCoordinator } from '@dreamfold/server/testing';
import { fmt } from './_harness.js';

const SIDE = 512;
const IMAGES = 48;
const CPU_BASELINE_IMAGES = 3;
const SCANNER_IMAGES = 48;
const MAX_PIXELS = SIDE * SIDE;

/** Varied drawings: gradients, shapes and stripes, so no two inputs are alike. */
function picture(i: number): Promise<Buffer> {
  const hue = (i * 37) % 360;
  const shapes = Array.from({ length: 6 }, (_, k) => {
    const x = (i * 53 + k * 97) % 100;
    const y = (i * 29 + k * 61) % 100;
    const r = 5 + ((i + k * 7) % 20);
    return `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${(hue + k * 50) % 360},70%,55%)" opacity="0.8"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIDE}" height="${SIDE}" viewBox="0 0 100 100">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${hue},50%,20%)"/><stop offset="1" stop-color="hsl(${(hue + 90) % 360},60%,80%)"/>
    </linearGradient></defs><rect width="100" height="100" fill="url(#g)"/>${shapes}
    <path d="M0 ${70 + (i % 15)} Q30 ${50 + (i % 20)} 60 ${72 + (i % 10)} T100 70 V100 H0 Z" fill="hsl(${(hue + 150) % 360},40%,30%)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

const perSecond = (x: number) => (x < 10 ? x.toFixed(2) : fmt(x));
const rate = (n: number, seconds: number) =>
  `${perSecond(n / seconds)} images/s (${fmt((seconds * 1000) / n)} ms each)`;

async function main(): Promise<void> {
  console.log(`classifier bench: ${IMAGES} drawings of ${SIDE}×${SIDE}, nsfwjs MobileNetV2 (224×224 input)`);
  const pngs = await Promise.all(Array.from({ length: IMAGES }, (_, i) => picture(i)));

  // 1. sharp alone, one at a time (as the scanner does).
  const inputs: Uint8Array[] = [];
  const decode = await timed(async () => {
    for (const png of pngs) inputs.push(await toModelInput(png, MAX_PIXELS));
  });
  console.log(`  sharp decode + resize to 224×224:            ${rate(IMAGES, decode.seconds)}`);

  // 2 + 3. WebAssembly backend, after loading the model and a warm-up inference.
  const wasm = new NsfwjsClassifier({ backend: 'wasm', maxPixels: MAX_PIXELS });
  const load = await timed(() => wasm.classifyInput(inputs[0]!));
  console.log(`  wasm: thread start + model load + 1st image: ${fmt(load.seconds * 1000)} ms`);
  const network = await timed(async () => {
    for (const input of inputs) await wasm.classifyInput(input);
  });
  console.log(`  wasm network alone:                          ${rate(IMAGES, network.seconds)}`);
  const full = await timed(async () => {
    let max = 0;
    for (const png of pngs) max = Math.max(max, (await wasm.classify(png)).score);
    return max;
  });
  console.log(`  wasm decode + resize + network:              ${rate(IMAGES, full.seconds)}`);
  console.log(`    (highest nsfw score among these drawings: ${full.value.toFixed(3)})`);
  await wasm.close();

  // Baseline: the pure-JavaScript backend, same network, a few images.
  const cpu = new NsfwjsClassifier({ backend: 'cpu', maxPixels: MAX_PIXELS });
  await cpu.classifyInput(inputs[0]!);
  const js = await timed(async () => {
    for (const input of inputs.slice(1, 1 + CPU_BASELINE_IMAGES)) await cpu.classifyInput(input);
  });
  console.log(`  baseline: pure-JS cpu backend, network only:  ${rate(CPU_BASELINE_IMAGES, js.seconds)}`);
  console.log(
    `  → WebAssembly is ${fmt(js.seconds / CPU_BASELINE_IMAGES / (network.seconds / IMAGES))}× the pure-JS backend`,
  );
  await cpu.close();

  // 4. The coordinator end to end on SQLite, with the classifier and without it (the same uploads).
  const on = await throughCoordinator('nsfwjs', pngs);
  const off = await throughCoordinator('off', pngs);
  console.log(
    `  coordinator, ${SCANNER_IMAGES} uploads via the worker protocol until all are classified: ${rate(SCANNER_IMAGES, on)}`,
  );
  console.log(
    `  baseline: the same uploads with NSFW_CLASSIFIER=off:            ${rate(SCANNER_IMAGES, off)}`,
  );
}

/** Seconds from the first upload until every image is classified (or just uploaded, when off). */
async function throughCoordinator(classifier: 'nsfwjs' | 'off', pngs: Buffer[]): Promise<number> {
  const c = await startTestCoordinator({
    dialect: 'sqlite',
    env: { NSFW_CLASSIFIER: classifier, TRUST_VERIFY: 'off', MAX_PIXELS: String(MAX_PIXELS) },
  });
  try {
    const auth = (key: string) => ({ authorization: `Bearer ${key}` });
    const worker = (
      await c.app.inject({
        method: 'POST',
        url: '/v1/workers',
        headers: auth(c.userKey),
        payload: { name: 'bench' },
      })
    ).json().key as string;
    const deliver = async (n: number, offset: number) => {
      for (let i = 0; i < n; i++) {
        const g = await c.app.inject({
          method: 'POST',
          url: '/v1/generations',
          headers: auth(c.userKey),
          payload: { prompt: 'bench', model: 'bench', width: SIDE, height: SIDE, steps: 1 },
        });
        if (g.statusCode !== 201) throw new Error(g.body);
        const job = (
          await c.app.inject({
            method: 'POST',
            url: '/v1/workers/pop',
            headers: auth(worker),
            payload: { backend: 'bench', models: ['bench'], maxPixels: MAX_PIXELS, waitSeconds: 0 },
          })
        ).json().job as { id: string; leaseId: string };
        const up = await c.app.inject({
          method: 'PUT',
          url: `/v1/jobs/${job.id}/result?leaseId=${job.leaseId}`,
          headers: { ...auth(worker), 'content-type': 'image/png' },
          payload: pngs[(offset + i) % pngs.length]!,
        });
        if (up.statusCode !== 200) throw new Error(up.body);
      }
    };
    const drained = async () => {
      for (;;) {
        const s = (await c.app.inject({ url: '/v1/moderation/safety', headers: auth(c.adminKey) })).json();
        if (s.pending === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    // One image first, so the model is loaded before the clock starts.
    await deliver(1, 0);
    await drained();
    // Uploads and classification overlap, as in production: the scanner works while uploads arrive.
    const run = await timed(async () => {
      await deliver(SCANNER_IMAGES, 1);
      await drained();
    });
    return run.seconds;
  } finally {
    await c.shutdown();
  }
}

await main();
