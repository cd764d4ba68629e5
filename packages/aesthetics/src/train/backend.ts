// The numeric backend for training: TensorFlow.js on its WebAssembly backend (XNNPACK kernels, SIMD).
// Chosen by measurement on the 2-core build machine (see README): a 256×768 · 768×1024 product takes
// ~18 ms there (≈ 23 GFLOP/s), against ~180 ms for the best plain Float32Array loop we wrote
// (≈ 2.3 GFLOP/s). The .wasm files ship inside the npm package and are read from disk; nothing is
// downloaded. Loaded lazily so scoring and filtering never pay for it.

import type * as Tf from '@tensorflow/tfjs-core';

let loading: Promise<typeof Tf> | undefined;

export function loadTf(): Promise<typeof Tf> {
  loading ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm')))
      throw new Error('TensorFlow.js WebAssembly backend failed to initialise');
    await tf.ready();
    return tf;
  })();
  return loading;
}
