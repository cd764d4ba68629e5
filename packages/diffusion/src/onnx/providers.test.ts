import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availableProviders, isDiffusionError, loadPipeline, PROVIDER_NAMES } from '../index.js';
import type { ProviderName } from '../index.js';
import { tinyModel } from '../test-support/tiny.js';

describe('execution providers', () => {
  it('reports every provider; cpu is always available; the others say why not', async () => {
    const statuses = await availableProviders();
    assert.deepEqual(
      statuses.map((s) => s.name),
      [...PROVIDER_NAMES],
    );
    assert.deepEqual(
      statuses.find((s) => s.name === 'cpu'),
      { name: 'cpu', available: true },
    );
    for (const status of statuses.filter((s) => !s.available)) {
      assert.match(status.reason ?? '', new RegExp(`execution provider "${status.name}" is unavailable: .+`));
    }
  });

  it('names what is missing for each provider this platform lacks (cuda libraries, macOS/Windows-only builds, a WebGPU adapter)', async () => {
    const byName = new Map((await availableProviders()).map((s) => [s.name, s]));
    const reason = (name: ProviderName) => byName.get(name)?.reason ?? '';
    if (process.platform !== 'darwin') {
      assert.equal(
        reason('coreml'),
        'execution provider "coreml" is unavailable: CoreML is only in the macOS build of onnxruntime-node',
      );
    }
    if (process.platform !== 'win32') {
      assert.equal(
        reason('dml'),
        'execution provider "dml" is unavailable: DirectML is only in the Windows build of onnxruntime-node',
      );
    }
    if (process.platform === 'linux' && !byName.get('cuda')?.available) {
      // Either the provider library was never installed (this repo's default) or CUDA/cuDNN are missing.
      assert.match(
        reason('cuda'),
        /libonnxruntime_providers_cuda\.so is not installed; run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`|CUDA 12 runtime or cuDNN 9 libraries are missing/,
      );
    }
    if (!byName.get('webgpu')?.available) {
      // WebGPU is in the Linux, macOS and Windows builds; without a GPU adapter (no Vulkan here) it says so.
      assert.match(reason('webgpu'), /^execution provider "webgpu" is unavailable: .+/);
      if (process.platform === 'linux') assert.match(reason('webgpu'), /no WebGPU adapter was found/);
    }
  });

  it('loadPipeline on an unavailable provider fails with provider_unavailable, naming what is missing', async () => {
    const dir = await tinyModel();
    for (const status of (await availableProviders()).filter((s) => !s.available)) {
      await assert.rejects(
        loadPipeline(dir, { provider: status.name }),
        (e) => isDiffusionError(e, 'provider_unavailable') && e.message === status.reason,
      );
    }
    await assert.rejects(loadPipeline(dir, { provider: 'tpu' as ProviderName }), (e) =>
      isDiffusionError(e, 'provider_unknown'),
    );
  });
});
