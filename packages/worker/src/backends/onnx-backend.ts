// The real backend: Stable Diffusion on ONNX Runtime (@dreamfold/diffusion). One model folder per
// --model-dir, its id is the folder name. Only one model is held in memory at a time, because a donor GPU
// with ~5 GB of VRAM fits one SD 1.x UNet, not two.
import { basename, resolve } from 'node:path';
import type { GenerationParams, Hardware } from '@dreamfold/protocol';
import {
  assertProviderAvailable,
  fingerprintModel,
  inspectModelFolder,
  isProviderName,
  loadImageEncoder,
  loadPipeline,
  type ImageEncoder,
  PROVIDER_NAMES,
  type Pipeline,
  type ProviderName,
} from '@dreamfold/diffusion';
import type { Backend, GenerateOptions, ImageEmbedding, ModelInfo } from '../backend.js';
import { FatalWorkerError } from '../errors.js';
import { JobRefusedError } from '../failure-class.js';
import { MODEL_ID, ONNX_DEFAULT_MAX_PIXELS, type BackendChoice } from './choice.js';
import {
  GUIDANCE_CHOICES,
  isGuidanceChoice,
  memoryOf,
  probeResources,
  selectFitting,
  type GuidanceChoice,
  type Resources,
} from '../resources.js';

interface ModelEntry {
  id: string;
  dir: string;
  /** SHA-256 over the weight files' hashes (fingerprintModel), reported to the coordinator on pop. */
  fingerprint: string;
}

export class OnnxBackend implements Backend {
  readonly name = 'onnx';
  private current: Pipeline | undefined;
  /** The current model's image_encoder/, when its folder has one. */
  private encoder: ImageEncoder | undefined;

  private constructor(
    private readonly models: ModelEntry[],
    private readonly provider: ProviderName,
    private readonly maxPixels: number,
    private readonly resources: Resources,
    private readonly guidance: GuidanceChoice,
  ) {}

  /** Checks every folder and the provider up front, and loads the first model, so mistakes show at start. */
  static async create(choice: BackendChoice): Promise<OnnxBackend> {
    if (choice.modelDirs.length === 0) {
      throw new FatalWorkerError('no_models', 'The onnx backend needs at least one --model-dir DIR.');
    }
    const provider = choice.provider ?? 'cpu';
    if (!isProviderName(provider)) {
      throw new FatalWorkerError(
        'unknown_provider',
        `Unknown --provider "${provider}"; choose one of ${PROVIDER_NAMES.join(', ')}.`,
      );
    }
    const guidance = choice.guidance ?? 'batched';
    if (!isGuidanceChoice(guidance)) {
      throw new FatalWorkerError(
        'unknown_guidance',
        `Unknown --guidance "${guidance}"; choose ${GUIDANCE_CHOICES.join(' or ')}.`,
      );
    }
    // Before reading any weights: a missing CUDA install or GPU adapter is named at once.
    await assertProviderAvailable({ provider });
    const models: ModelEntry[] = [];
    for (const dir of choice.modelDirs) {
      const info = await inspectModelFolder(dir);
      const id = info.modelId || basename(resolve(dir));
      if (!MODEL_ID.test(id)) {
        throw new FatalWorkerError(
          'invalid_model_id',
          `The folder name "${id}" is the model id and must be lowercase letters, digits, ".", "_" or "-" (e.g. sd-1.5); rename the folder.`,
        );
      }
      if (models.some((m) => m.id === id)) {
        throw new FatalWorkerError('duplicate_model', `Two --model-dir folders are both named "${id}".`);
      }
      // Read once at start (seconds for a multi-GB UNet): the coordinator compares results only between
      // workers with identical weights, and refuses other weights for models it has pinned.
      models.push({ id, dir: info.root, fingerprint: (await fingerprintModel(info.root)).sha256 });
    }
    const maxPixels = choice.maxPixels ?? ONNX_DEFAULT_MAX_PIXELS;
    // Donor autopilot: before loading anything, refuse (with the numbers) models this machine cannot hold.
    const resources = await probeResources(models[0]!.dir);
    const fitting = await selectFitting(models, {
      memory: memoryOf(provider),
      maxPixels,
      resources,
      guidance,
      warn: choice.warn,
    });
    const backend = new OnnxBackend(fitting, provider, maxPixels, resources, guidance);
    await backend.load(fitting[0]!.id);
    return backend;
  }

  async listModels(): Promise<ModelInfo[]> {
    return this.models.map((m) => ({ id: m.id, maxPixels: this.maxPixels, fingerprint: m.fingerprint }));
  }

  async load(modelId: string): Promise<void> {
    if (this.current?.modelId === modelId) return;
    const entry = this.models.find((m) => m.id === modelId);
    // The coordinator sent a model this worker does not list: not this worker's failure to count.
    if (!entry) throw new JobRefusedError(`Model ${modelId} is not served by this worker.`, 'model_mismatch');
    // Free the GPU memory of the previous model before the next one is read.
    await this.current?.dispose();
    await this.encoder?.dispose();
    this.current = undefined;
    this.encoder = undefined;
    this.encoder = await loadImageEncoder(entry.dir, { provider: this.provider });
    this.current = await loadPipeline(entry.dir, {
      provider: this.provider,
      modelId,
      maxPixels: this.maxPixels,
      guidance: this.guidance,
    });
  }

  async generate(params: GenerationParams, options: GenerateOptions): Promise<Buffer> {
    await this.load(params.model);
    const pipeline = this.current!;
    const result = await pipeline.generate(
      {
        prompt: params.prompt,
        negativePrompt: params.negativePrompt,
        width: params.width,
        height: params.height,
        steps: params.steps,
        guidanceScale: params.guidanceScale,
        sampler: params.sampler,
        seed: params.seed,
      },
      { signal: options.signal, onProgress: (step, total) => options.onProgress(step, total) },
    );
    return result.png;
  }

  async hardware(): Promise<Hardware> {
    const gpu = this.resources.gpus?.reduce((a, g) => (g.totalMb > a.totalMb ? g : a));
    return {
      provider: this.provider,
      ...(gpu ? { gpu: gpu.name.slice(0, 200), vramMb: Math.round(gpu.totalMb) } : {}),
    };
  }

  async embed(png: Buffer, modelId: string): Promise<ImageEmbedding | undefined> {
    if (this.current?.modelId !== modelId || !this.encoder) return undefined;
    return { values: await this.encoder.embed(png) };
  }

  async close(): Promise<void> {
    await this.current?.dispose();
    await this.encoder?.dispose();
    this.current = undefined;
    this.encoder = undefined;
  }
}
