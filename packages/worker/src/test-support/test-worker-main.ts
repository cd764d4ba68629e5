// Test fixture: the same worker runtime `dreamfold worker` runs, with the test-pattern backend.
// Run as: node --conditions=development --import tsx src/test-support/test-worker-main.ts --server URL …
// (key in DREAMFOLD_WORKER_KEY). Extra flags: --step-delay-ms, --model (repeatable), --fail-with,
// --backoff-cap-ms (so a backoff test does not wait a minute for the coordinator to come back),
// --behaviour (honest, lazy, noise, replay, too-fast, wrong: see test-pattern-backend.ts), --bad-share, --gpu,
// --fingerprint-salt (another copy of the weights).
import { parseArgs } from 'node:util';
import { resolveWorkerSettings } from '../settings.js';
import { runWorker } from '../runtime.js';
import { FatalWorkerError } from '../errors.js';
import { TEST_BEHAVIOURS, TestPatternBackend, type TestBehaviour } from './test-pattern-backend.js';

function parseBehaviour(value: string): TestBehaviour {
  const found = TEST_BEHAVIOURS.find((b) => b === value);
  if (!found)
    throw new FatalWorkerError('bad_behaviour', `--behaviour must be one of ${TEST_BEHAVIOURS.join(', ')}.`);
  return found;
}

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    key: { type: 'string' },
    name: { type: 'string' },
    'max-jobs': { type: 'string' },
    until: { type: 'string' },
    'max-pixels': { type: 'string' },
    'step-delay-ms': { type: 'string' },
    model: { type: 'string', multiple: true },
    'fail-with': { type: 'string' },
    'backoff-cap-ms': { type: 'string' },
    'wait-seconds': { type: 'string' },
    behaviour: { type: 'string' },
    'bad-share': { type: 'string' },
    gpu: { type: 'string' },
    'fingerprint-salt': { type: 'string' },
  },
});

try {
  const settings = resolveWorkerSettings({
    server: values.server,
    key: values.key,
    name: values.name,
    maxJobs: values['max-jobs'],
    until: values.until,
    maxPixels: values['max-pixels'],
  });
  const backend = new TestPatternBackend({
    stepDelayMs: Number(values['step-delay-ms'] ?? 0),
    ...(values.model ? { models: values.model } : {}),
    ...(values['fail-with'] ? { failWith: values['fail-with'] } : {}),
    ...(values.behaviour ? { behaviour: parseBehaviour(values.behaviour) } : {}),
    ...(values['bad-share'] ? { badShare: Number(values['bad-share']) } : {}),
    ...(values.gpu ? { gpu: values.gpu } : {}),
    ...(values['fingerprint-salt'] ? { fingerprintSalt: values['fingerprint-salt'] } : {}),
  });
  const capMs = values['backoff-cap-ms'] ? Number(values['backoff-cap-ms']) : undefined;
  const code = await runWorker({
    ...settings,
    backend,
    ...(capMs ? { backoff: { baseMs: Math.min(250, capMs), capMs } } : {}),
    ...(values['wait-seconds'] ? { waitSeconds: Number(values['wait-seconds']) } : {}),
  });
  // Exit right away: an idle keep-alive socket must not hold a finished worker for seconds.
  process.exit(code);
} catch (err) {
  console.error(err instanceof FatalWorkerError ? err.message : err);
  process.exitCode = 1;
}
