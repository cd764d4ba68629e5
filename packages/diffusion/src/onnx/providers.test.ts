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
