// What the command line says about the backend: the same shape for every backend.
export interface BackendChoice {
  /** `--model-dir`, repeatable: one model per folder, its id is the folder name. */
  modelDirs: string[];
  /** Execution provider (cpu, cuda, coreml, dml, webgpu) for backends that have one. */
  provider?: string;
  /**
   * `--guidance`: how classifier-free guidance runs the UNet, `batched` (default, fastest) or `sequential`
   * (two batch-1 runs per step: about half the activation memory, for GPUs with ~5 GB).
   */
  guidance?: string;
  /** `--max-pixels`: the largest width × height the backend should accept. */
  maxPixels?: number;
  /** Where the backend tells the donor about a model it will not serve (too big for this machine, …). */
  warn?: (message: string) => void;
}

/** Model ids travel in the protocol: lowercase letters, digits, ".", "_", "-" (see ModelName). */
export const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** What a consumer GPU handles comfortably for SD 1.x; --max-pixels lowers it (or raises it). */
export const ONNX_DEFAULT_MAX_PIXELS = 1024 * 1024;
