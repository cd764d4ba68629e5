// Mistakes a newcomer makes get one clear line and exit 1, not a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '@dreamfold/server/testing';
import { runCli } from '../test-support/cli-process.js';

test('a bad setting, an unknown backend and a folder that is no model each get one line and exit 1', async () => {
  const badPort = runCli(['up'], { PORT: 'eighty', DATA_DIR: '/nonexistent-never-created' });
  const badBackend = runCli(['worker', '--server', 'http://127.0.0.1:9', '--backend', 'dall-e'], {
    DREAMFOLD_WORKER_KEY: 'dfw_unused',
  });
  const badModel = runCli(
    ['worker', '--server', 'http://127.0.0.1:9', '--backend', 'onnx', '--model-dir', tempDir()],
    {
      DREAMFOLD_WORKER_KEY: 'dfw_unused',
    },
  );
  const [port, backend, model] = await Promise.all([badPort.exited, badBackend.exited, badModel.exited]);
  assert.equal(port.code, 1);
  assert.match(badPort.output(), /^dreamfold: Configuration error: PORT must be an integer/m);
  assert.equal(backend.code, 1);
  assert.match(badBackend.output(), /^dreamfold: Unknown backend "dall-e"\./m);
  assert.match(badBackend.output(), /Available backends: onnx\./);
  assert.equal(model.code, 1);
  assert.match(badModel.output(), /^dreamfold: The onnx backend could not start: .*model_index\.json/m);
  for (const output of [badPort.output(), badBackend.output(), badModel.output()])
    assert.doesNotMatch(output, /\n\s+at /);
});
