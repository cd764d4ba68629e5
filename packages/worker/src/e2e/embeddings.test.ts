// The tiny ONNX model end to end with its image encoder: the onnx worker generates, embeds each image and
// sends the embedding with its result → the coordinator stores it → an admin installs a predictor → scores
// appear → a dataset release holds img_emb .npy rows aligned with metadata.parquet and the score column.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createModel, encodeModel, NpyReader, scoreEmbeddings } from '@dreamfold/aesthetics';
import { createTinyModel, loadImageEncoder } from '@dreamfold/diffusion';
import type { ScoringStatus } from '@dreamfold/protocol';
import { startTestCoordinator, tempDir, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import { runOnnxWorker } from '../test-support/onnx-worker.js';
import {
  bearer,
  call,
  createGeneration,
  downloadImage,
  isFinished,
  registerWorker,
  waitForGeneration,
} from '../test-support/index.js';

const DIM = 16;

async function parquet(path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // File order is row order: row i of the .npy is row i here.
    const sql = `SELECT id, has_embedding, aesthetic_score FROM read_parquet('${path}')`;
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

for (const dialect of testDialects()) {
  describe(`CLIP embeddings from the onnx worker to a release (${dialect})`, () => {
    let c: TestCoordinator;
    let modelDir = '';
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        listen: true,
        env: { EMBEDDING_DIM: String(DIM), SCORING_BATCH_ROWS: '2' },
        build: { scoringIntervalMs: 20 },
      });
      modelDir = (await createTinyModel(join(tempDir(), 'tiny-clip'), { imageEncoderDim: DIM })).dir;
    });
    after(() => c.shutdown());

    const status = () => call<ScoringStatus>(`${c.url}/v1/admin/aesthetics/scoring`, c.adminKey);
    async function until(check: (s: ScoringStatus) => boolean): Promise<ScoringStatus> {
      for (let i = 0; i < 400; i++) {
        const s = await status();
        if (check(s)) return s;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`scoring did not get there: ${JSON.stringify(await status())}`);
    }

    test('embedded, scored and released row-aligned', async () => {
      const g = await createGeneration(c.url, c.userKey, {
        prompt: 'a tiny observatory',
        model: 'tiny-clip',
        n: 3,
        width: 64,
        height: 64,
        steps: 2,
        sampler: 'euler',
        seed: 40,
      });
      const key = await registerWorker(c.url, c.userKey, 'onnx-clip');
      await runOnnxWorker({ serverUrl: c.url, key, modelDir, maxJobs: 3 });
      const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished);
      assert.equal(done.status, 'done');
      assert.equal((await until((s) => s.queued === 0)).embeddings, 3);

      // What the worker must have sent: the encoder's embedding of each delivered (lossless) image.
      const encoder = (await loadImageEncoder(modelDir))!;
      const expected = new Map<string, Float32Array>();
      for (const image of done.images) {
        expected.set(
          image.jobId,
          await encoder.embed(await downloadImage(c.url, c.userKey, g.id, image.index)),
        );
      }
      await encoder.dispose();

      const model = createModel({ dim: DIM, seed: 5 });
      const installed = await fetch(`${c.url}/v1/admin/aesthetics/predictor`, {
        method: 'PUT',
        headers: { ...bearer(c.adminKey), 'content-type': 'application/octet-stream' },
        body: Buffer.from(encodeModel(model)),
      });
      assert.equal(installed.status, 200, await installed.clone().text());
      const scored = await until((s) => s.rescore.done && s.scored === 3);
      assert.equal(scored.predictor?.sha256.length, 64);

      const release = await c.services.datasets.release({ name: `clip-${dialect}` });
      assert.equal(release.manifest.counts.embeddings, 3);
      const rows = await parquet(join(release.path, 'metadata.parquet'));
      const npy = await NpyReader.open(join(release.path, 'img_emb', 'img_emb_0000.npy'), { dim: DIM });
      assert.deepEqual([npy.rows, npy.dim], [rows.length, DIM]);
      const values = await npy.readRows(0, rows.length);
      await npy.close();
      assert.equal(rows.filter((r) => expected.has(String(r.id))).length, 3);
      for (const [i, row] of rows.entries()) {
        const want = expected.get(String(row.id))!;
        const got = values.subarray(i * DIM, (i + 1) * DIM);
        assert.equal(row.has_embedding, true);
        // float16 in the file: 11 significant bits.
        for (let k = 0; k < DIM; k++) assert.ok(Math.abs(got[k]! - want[k]!) < 2e-3, `${row.id}[${k}]`);
        const score = scoreEmbeddings(model, want)[0]!;
        assert.ok(Math.abs(Number(row.aesthetic_score) - score) < 1e-2, `${row.id} score`);
      }
    });
  });
}
