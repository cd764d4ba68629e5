// The one interface every generation backend implements. The daemon knows nothing about models,
// devices or tensors: it asks a backend what it serves, hands it a job's parameters and gets a PNG back.
import type { GenerationParams, Hardware } from '@dreamfold/protocol';

export interface ModelInfo {
  /** Model id as the coordinator knows it (e.g. "sd-1.5"), matched against a job's `model`. */
  id: string;
  /** Largest width × height this model can produce on this machine. */
  maxPixels: number;
  /**
   * SHA-256 identifying the model's weights (for ONNX folders: @dreamfold/diffusion's fingerprintModel).
   * The coordinator compares results only between workers with the same fingerprint and refuses unknown
   * ones for models whose fingerprints an admin has set.
   */
  fingerprint?: string;
}

export interface GenerateOptions {
  /** Called after each denoising step; the daemon turns it into (throttled) heartbeats. */
  onProgress(step: number, totalSteps: number): void;
  /** Aborted when the job was cancelled, its lease was lost, or the worker is forced to stop. */
  signal: AbortSignal;
}

/** A CLIP image embedding of a generated image, sent to the coordinator with the result. */
export interface ImageEmbedding {
  /** L2-normalised values. */
  values: Float32Array;
  /** The image encoder, when known (e.g. openai/clip-vit-large-patch14). */
  model?: string;
}

export interface Backend {
  /** Reported to the coordinator as `backend` on pop. */
  readonly name: string;
  listModels(): Promise<ModelInfo[]>;
  /** Makes a model ready (weights in memory); called before the first job for that model. */
  load(modelId: string): Promise<void>;
  /** Resolves to PNG bytes of exactly params.width × params.height; rejects (AbortError) when aborted. */
  generate(params: GenerationParams, options: GenerateOptions): Promise<Buffer>;
  /**
   * The CLIP image embedding of a PNG this backend generated, when the loaded model has an image encoder;
   * undefined otherwise. Optional: backends without encoders leave it out.
   */
  embed?(png: Buffer, modelId: string): Promise<ImageEmbedding | undefined>;
  /** What the machine offers (GPU, VRAM, execution provider), merged into the worker's hardware report. */
  hardware(): Promise<Hardware>;
  close(): Promise<void>;
}

/** How a backend is built from the worker's command line (`--model-dir`, `--provider`, …). */
export interface BackendFactory<Options> {
  name: string;
  description: string;
  create(options: Options): Promise<Backend>;
}
