// An SDXL folder served for real: `dreamfold worker --backend onnx` with a tiny SDXL model (two text encoders,
// pooled embeddings, time ids) beside an SD 1.x one advertises both and generates the SDXL job.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTinyModel, readPngParameters } from '@dreamfold/diffusion';
import { startTestCoordinator, tempDir, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import {
  createGeneration,
  downloadImage,
  isFinished,
  registerWorker,
  waitForGeneration,
} from '@dreamfold/worker/testing';
import { runCli } from '../test-support/cli-process.js';

for (const dialect of testDialects()) {
  describe(`dreamfold worker --backend onnx with an SDXL folder (${dialect})`, () => {
    let c: TestCoordinator;
    const dirs: string[] = [];
    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true });
      dirs.push((await createTinyModel(join(tempDir(), 'tiny-xl'), { sdxl: true })).dir);
      dirs.push((await createTinyModel(join(tempDir(), 'tiny-sd'))).dir);
    });
    after(() => c.shutdown());

    test('advertises the SDXL model and generates it', async () => {
      const key = await registerWorker(c.url, c.userKey, 'onnx-xl');
      const g = await createGeneration(c.url, c.userKey, {
        prompt: 'a tiny lighthouse',
        model: 'tiny-xl',
        width: 64,
        height: 80,
        steps: 3,
        sampler: 'euler',
        seed: 5,
      });
      const worker = runCli(
        ['worker', '--server', c.url, '--backend', 'onnx', '--model-dir', dirs[0]!, '--model-dir', dirs[1]!],
        { DREAMFOLD_WORKER_KEY: key },
      );
      try {
        const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished);
        assert.equal(done.status, 'done', worker.output());
        const png = await downloadImage(c.url, c.userKey, g.id, 0);
        const meta = await sharp(png).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['png', 64, 80]);
        assert.equal(readPngParameters(png)?.settings['Model'], 'tiny-xl');
        const started = worker.logs.find((l) => l.msg === 'worker started');
        assert.ok(started, worker.output());
        const row = await c.services.database.db
          .selectFrom('workers')
          .select('models')
          .where('name', '=', 'onnx-xl')
          .executeTakeFirstOrThrow();
        assert.deepEqual((JSON.parse(row.models) as string[]).sort(), ['tiny-sd', 'tiny-xl']);
      } finally {
        worker.kill('SIGTERM');
        await worker.exited;
      }
    });
  });
}
