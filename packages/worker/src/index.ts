// Public surface of the worker package: what the CLI (and anyone embedding a worker) may use.
export type { Backend, BackendFactory, GenerateOptions, ModelInfo } from './backend.js';
export { BACKENDS, findBackend, backendNames, type BackendChoice } from './backends/index.js';
export { runDoctor, type DoctorCheck, type DoctorOptions, type DoctorVerdict } from './backends/doctor.js';
export { Worker, type WorkerOptions, type StopReason } from './worker.js';
export { runWorker, type RunWorkerOptions } from './runtime.js';
export {
  resolveWorkerSettings,
  WORKER_KEY_ENV,
  SERVER_URL_ENV,
  type WorkerFlags,
  type WorkerSettings,
} from './settings.js';
export { parseUntil, parseDuration } from './until.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { createLogger } from './logger.js';
export { FatalWorkerError, ProblemError, TransientError } from './errors.js';
export { WORKER_VERSION } from './version.js';
export { CoordinatorClient } from './client.js';
export { GpuIdleGate, type GpuIdleOptions } from './gpu-idle.js';
export { JobRefusedError, failureClassOf } from './failure-class.js';
export {
  probeResources,
  readNvidiaSmi,
  parseNvidiaSmi,
  selectFitting,
  estimateNeedMb,
  GUIDANCE_CHOICES,
  isGuidanceChoice,
  type GuidanceChoice,
  type Resources,
  type GpuInfo,
} from './resources.js';
