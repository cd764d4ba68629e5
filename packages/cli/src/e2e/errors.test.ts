// Mistakes a newcomer makes get one clear line and exit 1, not a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../test-support/cli-process.js';

test('dreamfold up with a bad setting, and dreamfold worker with an unknown backend, explain and exit 1', async () => {
  const badPort = runCli(['up'], { PORT: 'eighty', DATA_DIR: '/nonexistent-never-created' });
  const badBackend = runCli(['worker', '--server', 'http://127.0.0.1:9', '--backend', 'dall-e'], {
    DREAMFOLD_WORKER_KEY: 'dfw_unused',
  });
  const [port, backend] = await Promise.all([badPort.exited, badBackend.exited]);
  assert.equal(port.code, 1);
  assert.match(badPort.output(), /^dreamfold: Configuration error: PORT must be an integer/m);
  assert.equal(backend.code, 1);
  assert.match(badBackend.output(), /^dreamfold: Unknown backend "dall-e"\./m);
  for (const output of [badPort.output(), badBackend.output()]) assert.doesNotMatch(output, /\n\s+at /);
});
