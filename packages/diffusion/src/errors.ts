/**
 * Every failure the pipeline reports is a DiffusionError with a stable `code`, so the worker can map it to a job
 * outcome (retry elsewhere, fail the job, tell the donor to fix their install) without parsing messages.
 */
export type DiffusionErrorCode =
  /** The model folder does not exist or is not a directory. */
  | 'model_folder_missing'
  /** A required file of the model folder is absent; `file` names it. */
  | 'model_file_missing'
  /** A file exists but cannot be parsed or has the wrong shape/names/dtypes; `file` names it. */
  | 'model_file_malformed'
  /** The folder is a valid model of a kind we do not run yet (e.g. SDXL). */
  | 'model_unsupported'
  /** An execution provider name we do not know. */
  | 'provider_unknown'
  /** A known execution provider that this machine/install cannot use; the message says what is missing. */
  | 'provider_unavailable'
  /** Generation parameters out of range (size, steps, strength, seed, …). */
  | 'invalid_params'
  /** A sampler name outside the platform's list. */
  | 'unknown_sampler'
  /** The img2img init image is not a decodable PNG/JPEG within the pixel limit. */
  | 'invalid_init_image'
  /** img2img was asked of a model folder without vae_encoder/. */
  | 'img2img_unsupported'
  /** ONNX Runtime failed while running a graph. */
  | 'inference_failed'
  /** The AbortSignal fired; generation stopped between steps. */
  | 'cancelled'
  /** The pipeline was used after dispose(). */
  | 'disposed';

export class DiffusionError extends Error {
  override readonly name = 'DiffusionError';
  readonly code: DiffusionErrorCode;
  /** The model-folder-relative file the error is about, when there is one (e.g. "unet/model.onnx"). */
  readonly file: string | undefined;

  constructor(code: DiffusionErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
  }
}

export function isDiffusionError(error: unknown, code?: DiffusionErrorCode): error is DiffusionError {
  return error instanceof DiffusionError && (code === undefined || error.code === code);
}

/** The message of an unknown thrown value, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
