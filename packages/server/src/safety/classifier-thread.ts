// The NSFW classifier's own thread: nsfwjs (MobileNetV2, whose weights ship inside the npm package) on
// TensorFlow.js's WebAssembly backend. A 224×224 inference takes tens of milliseconds of pure CPU, so it
// never runs on the coordinator's event loop. The main thread decodes and resizes with sharp (libuv's
// pool) and sends raw RGB; this thread only runs the network. Nothing is downloaded: the model comes from
// nsfwjs's bundled modules and the .wasm binaries from the backend package's folder on disk.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { NsfwClasses } from '@dreamfold/protocol';
import type * as TfModule from '@tensorflow/tfjs';
import type { NSFWJS } from 'nsfwjs/core';
import {
  INPUT_SIZE,
  type ClassifyRequest,
  type ClassifyResponse,
  type ThreadOptions,
} from './classifier-messages.js';

// Types only: the modules themselves load lazily below, in this thread and only when it starts.
type Model = NSFWJS;
type Tf = typeof TfModule;

async function loadModel(options: ThreadOptions): Promise<{ tf: Tf; model: Model; name: string }> {
  const tf = await import('@tensorflow/tfjs');
  if (options.backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The binaries sit next to the package's entry point; point at them explicitly so a bundled or
    // relocated build still reads them from disk.
    const require = createRequire(import.meta.url);
    const pkg = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(`${join(pkg, 'dist')}/`);
  }
  if (!(await tf.setBackend(options.backend))) {
    throw new Error(`TensorFlow.js ${options.backend} backend failed to initialise`);
  }
  await tf.ready();
  // No debug checks (they re-read every tensor for NaNs); the network is fixed and known to be sound.
  tf.enableProdMode();
  const { load } = await import('nsfwjs/core');
  const { MobileNetV2Model } = await import('nsfwjs/models/mobilenet_v2');
  // nsfwjs announces the model on console.info, and tfjs suggests its native backend on console.warn;
  // a server log needs neither.
  const { info, warn } = console;
  console.info = () => {};
  console.warn = () => {};
  try {
    const model = await load('MobileNetV2', { modelDefinitions: [MobileNetV2Model] });
    return { tf, model, name: `nsfwjs/MobileNetV2 (${options.backend})` };
  } finally {
    console.info = info;
    console.warn = warn;
  }
}

const CLASS_KEYS: Record<string, keyof NsfwClasses> = {
  Drawing: 'drawing',
  Hentai: 'hentai',
  Neutral: 'neutral',
  Porn: 'porn',
  Sexy: 'sexy',
};

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('classifier-thread.ts runs as a worker thread');
  const options = workerData as ThreadOptions;
  const loading = loadModel(options);
  loading.then(
    ({ name }) => port.postMessage({ id: -1, ready: name } satisfies ClassifyResponse),
    () => {},
  );
  // One request at a time, in order: the main thread never sends the next before this one answers.
  port.on('message', (req: ClassifyRequest) => {
    void (async () => {
      try {
        const { tf, model } = await loading;
        const input = tf.tensor3d(req.rgb, [INPUT_SIZE, INPUT_SIZE, 3], 'int32');
        try {
          const predictions = await model.classify(input, 5);
          const classes: NsfwClasses = { drawing: 0, hentai: 0, neutral: 0, porn: 0, sexy: 0 };
          for (const p of predictions) {
            const key = CLASS_KEYS[p.className];
            if (key) classes[key] = p.probability;
          }
          port.postMessage({ id: req.id, classes } satisfies ClassifyResponse);
        } finally {
          input.dispose();
        }
      } catch (err) {
        port.postMessage({
          id: req.id,
          error: (err as Error).message || String(err),
        } satisfies ClassifyResponse);
      }
    })();
  });
}

void main();
