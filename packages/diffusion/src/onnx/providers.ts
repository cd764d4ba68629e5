/**
 * Execution providers by the names the platform uses. Availability is decided by actually creating a session on a
 * one-node model: onnxruntime-node throws (rather than silently falling back to CPU) when a provider's libraries or
 * device are missing, and its message is mapped here to one that says what to install.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { DiffusionError, messageOf } from '../errors.js';

export const PROVIDER_NAMES = ['cuda', 'coreml', 'dml', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderOptions {
  provider?: ProviderName;
  /** GPU index for cuda/dml. Default 0. */
  deviceId?: number;
}

export interface ProviderStatus {
  name: ProviderName;
  available: boolean;
  /** Why not, in words a donor can act on. */
  reason?: string;
}

export function isProviderName(value: unknown): value is ProviderName {
  return typeof value === 'string' && (PROVIDER_NAMES as readonly string[]).includes(value);
}

export function executionProviders(options: ProviderOptions): ort.InferenceSession.ExecutionProviderConfig[] {
  const provider = options.provider ?? 'cpu';
  const deviceId = options.deviceId ?? 0;
  switch (provider) {
    case 'cuda':
      return [{ name: 'cuda', deviceId }];
    case 'dml':
      return [{ name: 'dml', deviceId }];
    case 'coreml':
      return [{ name: 'coreml' }];
    case 'webgpu':
      return ['webgpu'];
    case 'cpu':
      return ['cpu'];
  }
}

const INSTALL_CUDA =
  'run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (fetches the CUDA 12 provider libraries) ' +
  'and make sure the CUDA 12 runtime and cuDNN 9 are on the library path';

/** Turn onnxruntime-node's provider failure into a DiffusionError naming what is missing. */
export function providerError(provider: ProviderName, error: unknown): DiffusionError {
  const message = messageOf(error);
  let hint: string;
  if (/backend not found|no available backend/i.test(message)) {
    hint =
      provider === 'coreml'
        ? 'CoreML is only in the macOS build of onnxruntime-node'
        : provider === 'dml'
          ? 'DirectML is only in the Windows build of onnxruntime-node'
          : `this build of onnxruntime-node has no ${provider} provider`;
  } else if (provider === 'cuda' || /providers_(shared|cuda)|cudart|cudnn|cublas/i.test(message)) {
    hint = /libcudart|libcublas|libcudnn|cudnn/i.test(message)
      ? `the CUDA 12 runtime or cuDNN 9 libraries are missing: install them (${message})`
      : `the CUDA provider libraries of onnxruntime-node are not installed: ${INSTALL_CUDA}`;
  } else if (provider === 'webgpu' && /adapter/i.test(message)) {
    hint = 'no WebGPU adapter was found (needs a GPU driver with Vulkan, Metal or D3D12)';
  } else {
    hint = message;
  }
  return new DiffusionError(
    'provider_unavailable',
    `execution provider "${provider}" is unavailable: ${hint}`,
    {
      cause: error,
    },
  );
}

/**
 * On Linux the CUDA provider is a separate library that onnxruntime-node's install script fetches (skipped by
 * default in this repo). Checking for the file first gives a precise message and spares the donor ONNX Runtime's
 * own error log on stderr.
 */
function missingProviderLibrary(provider: ProviderName): string | undefined {
  if (provider !== 'cuda' || process.platform !== 'linux') return undefined;
  try {
    const root = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const library = join(root, 'bin', 'napi-v6', 'linux', process.arch, 'libonnxruntime_providers_cuda.so');
    return existsSync(library) ? undefined : 'libonnxruntime_providers_cuda.so';
  } catch {
    return undefined; // unusual layout: let session creation decide
  }
}

let probeModel: Uint8Array | undefined;

/** A one-node (Relu) model, built in memory, to try a provider without touching model files. */
function probe(): Uint8Array {
  if (probeModel) return probeModel;
  const { onnx } = onnxProto;
  const tensor = {
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } },
  };
  probeModel = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'probe',
        node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
        input: [{ name: 'x', type: tensor }],
        output: [{ name: 'y', type: tensor }],
      },
    }),
  ).finish();
  return probeModel;
}

/** Throws provider_unknown / provider_unavailable; resolves when a session can be created on the provider. */
export async function assertProviderAvailable(options: ProviderOptions): Promise<void> {
  const provider = options.provider ?? 'cpu';
  if (!isProviderName(provider)) {
    throw new DiffusionError(
      'provider_unknown',
      `unknown execution provider "${String(provider)}"; known: ${PROVIDER_NAMES.join(', ')}`,
    );
  }
  const missing = missingProviderLibrary(provider);
  if (missing) {
    throw new DiffusionError(
      'provider_unavailable',
      `execution provider "${provider}" is unavailable: ${missing} is not installed; ${INSTALL_CUDA}`,
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(probe(), {
      executionProviders: executionProviders(options),
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw providerError(provider, error);
  }
  await session.release();
}

/** The onnxruntime-node version actually loaded (for `dreamfold worker doctor`). */
export function runtimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** Every provider name with whether it works on this machine and install, and if not, why. */
export async function availableProviders(): Promise<ProviderStatus[]> {
  const out: ProviderStatus[] = [];
  for (const name of PROVIDER_NAMES) {
    try {
      await assertProviderAvailable({ provider: name });
      out.push({ name, available: true });
    } catch (error) {
      out.push({ name, available: false, reason: messageOf(error) });
    }
  }
  return out;
}
