// Mistakes a newcomer makes get one clear line and exit 1, not a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableProviders } from '@dreamfold/diffusion';
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

test('an execution provider this machine cannot use, or an unknown --guidance, stops the worker before any model is read', async () => {
  const unavailable = (await availableProviders()).filter((p) => !p.available);
  // coreml or dml is missing on every platform; cuda and webgpu wherever their libraries or adapter are.
  assert.ok(unavailable.length > 0);
  const start = (extra: string[]) =>
    runCli(
      // The folder is no model: the provider's verdict must come first.
      ['worker', '--server', 'http://127.0.0.1:9', '--backend', 'onnx', '--model-dir', tempDir(), ...extra],
      { DREAMFOLD_WORKER_KEY: 'dfw_unused' },
    );
  const runs = unavailable.map((p) => ({ status: p, cli: start(['--provider', p.name]) }));
  const guidance = start(['--guidance', 'fast']);
  for (const { status, cli } of runs) {
    assert.equal((await cli.exited).code, 1, cli.output());
    const line = `dreamfold: The onnx backend could not start: ${status.reason}`;
    assert.ok(cli.output().includes(line), `${status.name}:\n${cli.output()}`);
    // No JavaScript stack (Dawn, WebGPU's native library, may log its own C++ location while probing).
    assert.doesNotMatch(cli.output(), /model_index\.json|\n\s+at .*\.[cm]?[jt]s:\d+:\d+/);
  }
  assert.equal((await guidance.exited).code, 1);
  assert.match(
    guidance.output(),
    /^dreamfold: The onnx backend could not start: Unknown --guidance "fast"; choose batched or sequential\.$/m,
  );
});
