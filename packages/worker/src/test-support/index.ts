// Test helpers other packages' tests use (exported as @dreamfold/worker/testing; not part of the build).
export {
  TestPatternBackend,
  testPattern,
  testFingerprint,
  seedColour,
  TEST_BEHAVIOURS,
  type TestBehaviour,
  type TestPatternOptions,
  type PatternParams,
} from './test-pattern-backend.js';
export {
  startTsProcess,
  startTestWorker,
  TEST_WORKER_MAIN,
  type TestProcess,
  type TestWorkerOptions,
  type LogLine,
} from './processes.js';
export * from './api.js';
