// Runs a real onnx worker (ONNX Runtime on CPU) in this process against a coordinator until it has done
// `maxJobs` jobs, for the end-to-end tests of the worker package.
import assert from 'node:assert/strict';
import pino from 'pino';
import { findBackend } from '../backends/index.js';
import { Worker } from '../worker.js';

export async function runOnnxWorker(o: {
  serverUrl: string;
  key: string;
  modelDir: string;
  maxJobs: number;
}): Promise<void> {
  const backend = await findBackend('onnx')!.create({ modelDirs: [o.modelDir], provider: 'cpu' });
  const log = pino({ level: 'silent' });
  const worker = new Worker({
    serverUrl: o.serverUrl,
    key: o.key,
    backend,
    log,
    maxJobs: o.maxJobs,
    waitSeconds: 1,
  });
  try {
    assert.equal(await worker.run(), 'max_jobs');
  } finally {
    await backend.close();
  }
}
