// `dreamfold worker --backend onnx` for real: ONNX Runtime on CPU running a tiny random-weight Stable
// Diffusion folder written by @dreamfold/diffusion, against a real coordinator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTinyModel, fingerprintModel } from '@dreamfold/diffusion';
import { startTestCoordinator, tempDir, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import {
  call,
  createGeneration,
  downloadImage,
  isFinished,
  registerWorker,
  waitForGeneration,
} from '@dreamfold/worker/testing';
import { runCli } from '../test-support/cli-process.js';

for (const dialect of testDialects()) {
  describe(`dreamfold worker --backend onnx (${dialect})`, () => {
    let c: TestCoordinator;
    let modelDir = '';
    before(async () => {
      // With verification on: a real model's output passes the cheap checks, and the worker reports the
      // SHA-256 of its weights.
      c = await startTestCoordinator({ dialect, listen: true, env: { TRUST_VERIFY: 'full' } });
      modelDir = (await createTinyModel(join(tempDir(), 'tiny-sd'))).dir;
    });
    after(() => c.shutdown());

    test('generates a PNG with a tiny ONNX model on CPU (sequential guidance) and exits after --max-jobs', async () => {
      const key = await registerWorker(c.url, c.userKey, 'onnx-cpu');
      const g = await createGeneration(c.url, c.userKey, {
        prompt: 'a tiny lighthouse',
        model: 'tiny-sd',
        width: 64,
        height: 64,
        steps: 4,
        sampler: 'euler',
        seed: 7,
      });
      const worker = runCli(
        [
          'worker',
          '--server',
          c.url,
          '--backend',
          'onnx',
          '--model-dir',
          modelDir,
          '--provider',
          'cpu',
          '--guidance',
          'sequential',
          '--max-jobs',
          '1',
        ],
        { DREAMFOLD_WORKER_KEY: key },
      );
      const exit = await worker.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, worker.output());
      const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished);
      assert.equal(done.status, 'done');
      const png = await downloadImage(c.url, c.userKey, g.id, 0);
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 64, 64]);
      assert.ok(worker.logs.some((l) => l.msg === 'worker started' && l.backend === 'onnx'));
      const workerId = (
        await c.services.database.db
          .selectFrom('workers')
          .select('id')
          .where('name', '=', 'onnx-cpu')
          .executeTakeFirstOrThrow()
      ).id;
      const reputation = await call<{
        results: { accepted: number; rejected: number };
        fingerprints: { model: string; sha256?: string }[];
      }>(`${c.url}/v1/workers/${workerId}/reputation`, c.userKey);
      assert.deepEqual([reputation.results.accepted, reputation.results.rejected], [1, 0]);
      assert.deepEqual(
        reputation.fingerprints.map((f) => [f.model, f.sha256]),
        [['tiny-sd', (await fingerprintModel(modelDir)).sha256]],
      );
      assert.doesNotMatch(worker.output(), new RegExp(key));
    });
  });
}
