// Replication compares CLIP embeddings end to end: two onnx workers of two accounts, each with the tiny
// model's image encoder (ONNX Runtime on CPU, the same weights), run one job and its second opinion; each
// sends the embedding of its picture before the PNG, and the coordinator verifies both results on the
// perceptual hash and the embeddings' cosine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTinyModel } from '@dreamfold/diffusion';
import { startTestCoordinator, tempDir, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import { runOnnxWorker } from '../test-support/onnx-worker.js';
import { createGeneration, isFinished, registerWorker, waitForGeneration } from '../test-support/index.js';

for (const dialect of testDialects()) {
  describe(`second opinions compared on CLIP embeddings (${dialect})`, () => {
    let c: TestCoordinator;
    let modelDir = '';
    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true, env: { TRUST_VERIFY: 'full' } });
      modelDir = (await createTinyModel(join(tempDir(), 'tiny-clip'), { imageEncoderDim: 768 })).dir;
    });
    after(() => c.shutdown());

    /** One onnx worker of its own account that runs one job (or replica) and stops. */
    async function runOne(name: string): Promise<void> {
      const owner = await c.createUser();
      const key = await registerWorker(c.url, owner.key, name);
      await runOnnxWorker({ serverUrl: c.url, key, modelDir, maxJobs: 1 });
    }

    test('two honest onnx workers agree on the picture and on its embedding', async () => {
      const g = await createGeneration(c.url, c.userKey, {
        prompt: 'a tiny lighthouse',
        model: 'tiny-clip',
        width: 64,
        height: 64,
        steps: 2,
        sampler: 'euler',
        seed: 9,
      });
      await runOne('first');
      const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished);
      assert.equal(done.status, 'done');
      const jobId = done.images[0]!.jobId;
      await runOne('second opinion');

      const db = c.services.database.db;
      const results = await db
        .selectFrom('trust_results')
        .select(['kind', 'status', 'embedding', 'fingerprint'])
        .where('job_id', '=', jobId)
        .execute();
      assert.deepEqual(results.map((r) => r.kind).sort(), ['canonical', 'replica']);
      for (const r of results) {
        assert.equal(r.status, 'verified');
        assert.equal(r.embedding?.length, 768 * 2, 'the float16 embedding its worker sent before the PNG');
        assert.equal(r.fingerprint, results[0]!.fingerprint);
      }
      const v = await db
        .selectFrom('verifications')
        .select(['state', 'detail'])
        .where('job_id', '=', jobId)
        .executeTakeFirstOrThrow();
      assert.equal(v.state, 'verified');
      assert.match(v.detail ?? '', /0 of 64 perceptual-hash bits differ; CLIP-embedding cosine 1\.0000/);
    });
  });
}
