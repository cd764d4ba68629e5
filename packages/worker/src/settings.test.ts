import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveWorkerSettings } from './settings.js';
import { FatalWorkerError } from './errors.js';

const invalid = (message: RegExp) => (err: unknown) =>
  err instanceof FatalWorkerError && err.code === 'invalid_option' && message.test(err.message);

test('the key comes from the environment when --key is not given', () => {
  const s = resolveWorkerSettings(
    { server: 'http://127.0.0.1:8080/', maxJobs: '5', maxPixels: '262144' },
    { DREAMFOLD_WORKER_KEY: 'dfw_secret' },
  );
  assert.deepEqual(s, {
    serverUrl: 'http://127.0.0.1:8080',
    key: 'dfw_secret',
    maxJobs: 5,
    maxPixels: 262144,
  });
});

test('missing or wrong settings are refused with a message saying what to do', () => {
  assert.throws(() => resolveWorkerSettings({ key: 'dfw_x' }, {}), invalid(/--server is required/));
  assert.throws(() => resolveWorkerSettings({ server: 'ftp://x', key: 'dfw_x' }, {}), invalid(/http/));
  assert.throws(() => resolveWorkerSettings({ server: 'http://h' }, {}), invalid(/DREAMFOLD_WORKER_KEY/));
  assert.throws(() => resolveWorkerSettings({ server: 'http://h', key: 'dfk_user' }, {}), invalid(/dfw_/));
  assert.throws(
    () => resolveWorkerSettings({ server: 'http://h', key: 'dfw_x', maxJobs: '0' }, {}),
    invalid(/--max-jobs/),
  );
});
