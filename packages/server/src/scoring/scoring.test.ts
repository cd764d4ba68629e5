// Embeddings in through the worker protocol (checked, fenced by the lease), a predictor installed by an
// admin, scores written in the background and re-written for the next predictor, with progress; the
// gallery's aesthetic order reads them. SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, encodeModel, scoreEmbeddings, type AestheticModel } from '@dreamfold/aesthetics';
import type { ScoringStatus } from '@dreamfold/protocol';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, submit, upload } from '../test-support/worker-client.js';

const DIM = 8;

function embedding(seed: number): Float32Array {
  return Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) + 0.1 * i);
}

function payload(leaseId: string, values: Float32Array, dtype: 'float32' | 'float16' = 'float32') {
  const data =
    dtype === 'float32'
      ? Buffer.from(values.buffer, values.byteOffset, values.byteLength)
      : Buffer.from(new Uint16Array(values.length).fill(0x3c00).buffer); // all 1.0
  return { leaseId, dtype, dim: values.length, data: data.toString('base64') };
}

/** Normalised and rounded to float16, as the coordinator stores them. */
function stored(values: Float32Array): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (v) => {
    const x = v / norm;
    // float16 has 11 significant bits.
    const e = Math.floor(Math.log2(Math.abs(x)));
    const step = 2 ** (e - 10);
    return Math.round(x / step) * step;
  });
}

for (const dialect of testDialects()) {
  describe(`aesthetic scoring (${dialect})`, () => {
    let c: TestCoordinator;
    let workerKey = '';
    const sent = new Map<string, Float32Array>();

    const put = (jobId: string, key: string, body: object) =>
      c.app.inject({ method: 'PUT', url: `/v1/jobs/${jobId}/embedding`, headers: auth(key), payload: body });
    const status = async () =>
      (
        await c.app.inject({ url: '/v1/admin/aesthetics/scoring', headers: auth(c.adminKey) })
      ).json<ScoringStatus>();
    const install = (model: AestheticModel, key = c.adminKey) =>
      c.app.inject({
        method: 'PUT',
        url: '/v1/admin/aesthetics/predictor',
        headers: { ...auth(key), 'content-type': 'application/octet-stream' },
        payload: Buffer.from(encodeModel(model)),
      });
    async function until(check: (s: ScoringStatus) => boolean): Promise<ScoringStatus> {
      for (let i = 0; i < 400; i++) {
        const s = await status();
        if (check(s)) return s;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`scoring did not get there: ${JSON.stringify(await status())}`);
    }
    async function scores(): Promise<Map<string, number>> {
      const rows = await c.services.database.db.selectFrom('image_scores').selectAll().execute();
      return new Map(rows.map((r) => [r.image_id, Number(r.aesthetic_score)]));
    }
    /** Pops one job of `model`, sends `values` as its embedding, uploads a PNG. */
    async function deliver(model: string, seed: number): Promise<string> {
      const job = (await pop(c, workerKey, { models: [model] })).json().job as {
        id: string;
        leaseId: string;
      };
      const values = embedding(seed);
      assert.equal((await put(job.id, workerKey, payload(job.leaseId, values))).statusCode, 200);
      assert.equal(
        (await upload(c, workerKey, job.id, job.leaseId, await solidPng(64, 64, seed))).statusCode,
        200,
      );
      sent.set(job.id, values);
      return job.id;
    }

    before(async () => {
      c = await startTestCoordinator({
        dialect,
        env: { EMBEDDING_DIM: String(DIM), SCORING_BATCH_ROWS: '2' },
        build: { scoringIntervalMs: 20 },
      });
      workerKey = await registerWorker(c, c.userKey, 'embedder');
    });
    after(() => c.shutdown());

    test('embeddings are checked and fenced by the lease', async () => {
      assert.equal((await submit(c, c.userKey, { model: 'emb-checks', n: 1 })).statusCode, 201);
      const job = (await pop(c, workerKey, { models: ['emb-checks'] })).json().job as {
        id: string;
        leaseId: string;
      };
      const ok = embedding(1);
      const problem = async (body: object, key = workerKey) => {
        const res = await put(job.id, key, body);
        return [res.statusCode, res.json().type as string];
      };
      assert.deepEqual(await problem(payload(job.leaseId, new Float32Array(DIM + 1).fill(1))), [
        400,
        'validation_failed',
      ]);
      assert.deepEqual(await problem({ ...payload(job.leaseId, ok), dim: DIM, data: 'AAAA' }), [
        400,
        'validation_failed',
      ]);
      assert.deepEqual(await problem(payload(job.leaseId, new Float32Array(DIM).fill(Number.NaN))), [
        400,
        'validation_failed',
      ]);
      assert.deepEqual(await problem(payload(job.leaseId, new Float32Array(DIM))), [
        400,
        'validation_failed',
      ]);
      assert.deepEqual(await problem({ ...payload(job.leaseId, ok), dtype: 'int8' }), [
        400,
        'validation_failed',
      ]);
      assert.deepEqual(await problem(payload('otherlease', ok)), [409, 'lease_lost']);
      const other = await registerWorker(c, c.userKey, 'not-the-holder');
      assert.deepEqual(await problem(payload(job.leaseId, ok), other), [409, 'lease_lost']);
      assert.equal((await put(job.id, c.userKey, payload(job.leaseId, ok))).statusCode, 403);
      // float16 is accepted too; the job handed back: its embedding is never used.
      assert.equal((await put(job.id, workerKey, payload(job.leaseId, ok, 'float16'))).statusCode, 200);
      const released = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${job.id}/release`,
        headers: auth(workerKey),
        payload: { leaseId: job.leaseId },
      });
      assert.equal(released.statusCode, 200);
      // The queue forgets it; it never counts as an embedding.
      const s = await until((x) => x.queued === 0);
      assert.equal(s.embeddings, 0);
      assert.equal(s.predictor, null);
    });

    test('a predictor scores every image; the next one re-scores them all, with progress', async () => {
      assert.equal((await submit(c, c.userKey, { model: 'emb-model', n: 4 })).statusCode, 201);
      for (let i = 0; i < 4; i++) await deliver('emb-model', 10 + i);
      assert.equal((await until((s) => s.queued === 0)).embeddings, 4);
      assert.equal((await scores()).size, 0, 'nothing is scored without a predictor');

      const user = await install(createModel({ dim: DIM, seed: 1 }), c.userKey);
      assert.equal(user.statusCode, 403);
      const wrongDim = await install(createModel({ dim: DIM * 2, seed: 1 }));
      assert.deepEqual([wrongDim.statusCode, wrongDim.json().type], [400, 'validation_failed']);
      const garbage = await c.app.inject({
        method: 'PUT',
        url: '/v1/admin/aesthetics/predictor',
        headers: { ...auth(c.adminKey), 'content-type': 'application/octet-stream' },
        payload: Buffer.from('not a model at all'),
      });
      assert.deepEqual([garbage.statusCode, garbage.json().type], [400, 'validation_failed']);

      for (const seed of [1, 2]) {
        const model = createModel({ dim: DIM, seed });
        const res = await install(model);
        assert.equal(res.statusCode, 200, res.body);
        const id = res.json().id as string;
        const done = await until((s) => s.predictor?.id === id && s.rescore.done && s.scored === 4);
        assert.equal(done.rescore.visited, 4);
        assert.ok(done.rescore.finishedAt);
        const got = await scores();
        for (const [imageId, values] of sent) {
          const want = scoreEmbeddings(model, stored(values))[0]!;
          assert.ok(Math.abs(got.get(imageId)! - want) < 1e-4, `${imageId}: ${got.get(imageId)} vs ${want}`);
        }
      }

      // An image delivered after the install is scored from the queue, not by the finished pass.
      assert.equal((await submit(c, c.userKey, { model: 'emb-late', n: 1 })).statusCode, 201);
      const late = await deliver('emb-late', 99);
      const s = await until((x) => x.scored === 5 && x.queued === 0);
      assert.equal(s.embeddings, 5);
      assert.ok((await scores()).has(late));

      // The gallery's aesthetic order is these scores, best first.
      const gallery = await c.app.inject({ url: '/v1/images?sort=aesthetic&limit=100' });
      const items = gallery.json().items as { id: string; aestheticScore?: number }[];
      const all = await scores();
      const ranked = items.filter((i) => all.has(i.id));
      assert.equal(ranked.length, 5);
      assert.deepEqual(
        ranked.map((i) => i.aestheticScore),
        [...ranked.map((i) => all.get(i.id))].sort((a, b) => b! - a!),
      );
    });
  });
}
