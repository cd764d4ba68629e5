// Whose fault a failed generation was, as the worker tells the coordinator: only its own failures count
// against it. Backends say so with `failureClass` on the error; @dreamfold/diffusion's errors carry a
// stable `code` that maps onto it (read by duck typing, so this module does not load ONNX Runtime).
import type { WorkerFailureClass } from '@dreamfold/protocol';

/** Thrown by a backend when the request, or this worker's copy of the model, is the problem. */
export class JobRefusedError extends Error {
  constructor(
    message: string,
    readonly failureClass: Exclude<WorkerFailureClass, 'worker'>,
  ) {
    super(message);
  }
}

/** The parameters themselves cannot be generated anywhere. */
const REQUEST_CODES = new Set(['invalid_params', 'unknown_sampler', 'invalid_init_image']);
/** This model folder cannot serve the request (another worker's may). */
const MODEL_CODES = new Set(['model_unsupported', 'img2img_unsupported']);

export function failureClassOf(err: unknown): WorkerFailureClass {
  if (err instanceof JobRefusedError) return err.failureClass;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && REQUEST_CODES.has(code)) return 'request';
  if (typeof code === 'string' && MODEL_CODES.has(code)) return 'model_mismatch';
  // Out of memory, a crash, a driver error: the worker's own.
  return 'worker';
}
