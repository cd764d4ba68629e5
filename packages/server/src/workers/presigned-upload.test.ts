// The worker protocol with an S3 blob store: pop hands out a presigned PUT URL, the worker uploads straight
// to object storage, and /complete makes the coordinator read the upload back (bounded), check it,
// re-encode it and publish it. Everything over HTTP, against a real S3-compatible server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { JobAssignment } from '@dreamfold/protocol';
import { testDialects } from '../test-support/databases.js';
import { auth, solidPng, startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { startS3Server, type TestS3Server } from '../test-support/s3-server.js';
import { imageKey } from '../storage/blob-store.js';
import { maxUploadBytes } from './routes.js';

type PresignedTarget = Extract<JobAssignment['upload'], { kind: 'presigned' }>;
type Leased = JobAssignment & { upload: PresignedTarget; generationId: string };

const PREFIX = 'df/';
const SIDE = 64;
// Small enough that the upload limit (4 bytes per pixel + 1 MiB) is quick to exceed.
const MAX_PIXELS = 4096;

let s3: TestS3Server;
before(async () => {
  s3 = await startS3Server();
});
after(() => s3.close());

for (const dialect of testDialects()) {
  describe(`presigned uploads to S3 (${dialect})`, () => {
    let c: TestCoordinator;
    let workerKey: string;
    let models = 0;

    before(async () => {
      c = await startTestCoordinator({
        dialect,
        env: { MAX_PIXELS: String(MAX_PIXELS) },
        // Its own store: the coordinator's close() destroys the store's client.
        build: { blobs: s3.createStore({ prefix: PREFIX }) },
      });
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/workers',
        headers: auth(c.userKey),
        payload: { name: 's3-worker' },
      });
      assert.equal(res.statusCode, 201, res.body);
      workerKey = res.json().key;
    });
    after(() => c.shutdown());

    /** Submits a one-image generation on a model of its own (tests cannot steal each other's jobs) and pops it. */
    async function leaseJob(): Promise<Leased> {
      const model = `s3-model-${++models}`;
      const g = await c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(c.userKey),
        payload: { prompt: 'a presigned test', model, width: SIDE, height: SIDE, steps: 4 },
      });
      assert.equal(g.statusCode, 201, g.body);
      const job = await pop(model);
      assert.ok(job, 'a job was leased');
      return { ...job, generationId: g.json().id };
    }

    async function pop(model: string): Promise<Leased | null> {
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/workers/pop',
        headers: auth(workerKey),
        payload: { backend: 'test-pattern', models: [model], maxPixels: MAX_PIXELS, waitSeconds: 0 },
      });
      assert.equal(res.statusCode, 200, res.body);
      const job = res.json().job as JobAssignment | null;
      if (!job) return null;
      assert.equal(job.upload.kind, 'presigned');
      return job as Leased;
    }

    /** The worker's PUT, exactly as told: the URL and the headers from the assignment. */
    async function put(job: Leased, body: Buffer): Promise<void> {
      const res = await fetch(job.upload.url, { method: 'PUT', headers: job.upload.headers, body });
      assert.equal(res.status, 200, await res.text());
    }

    function complete(job: Leased, overrides: { leaseId?: string; key?: string } = {}) {
      return c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${job.id}/complete`,
        headers: auth(workerKey),
        payload: { leaseId: job.leaseId, key: job.upload.key, ...overrides },
      });
    }

    async function generation(id: string) {
      const res = await c.app.inject({ url: `/v1/generations/${id}`, headers: auth(c.userKey) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    }

    /** The job is still this worker's: a heartbeat on the lease is accepted and not cancelled. */
    async function assertStillLeased(job: Leased): Promise<void> {
      const hb = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${job.id}/heartbeat`,
        headers: auth(workerKey),
        payload: { leaseId: job.leaseId, step: 1, totalSteps: 4 },
      });
      assert.equal(hb.statusCode, 200, hb.body);
      assert.equal(hb.json().cancelled, false);
      assert.equal((await generation(job.generationId)).images[0].state, 'leased');
    }

    function assertProblem(
      res: { statusCode: number; json(): { type: string } },
      status: number,
      type: string,
    ) {
      assert.equal(res.statusCode, status, JSON.stringify(res.json()));
      assert.equal(res.json().type, type);
    }

    const stagedInBucket = (job: Leased) => s3.store.has(`${PREFIX}${job.upload.key}`);

    test('pop issues a PUT URL for this lease only, with the TTL and a signed content type', async () => {
      const job = await leaseJob();
      assert.equal(job.upload.key, `uploads/${job.id}/${job.leaseId}.png`);
      const url = new URL(job.upload.url);
      assert.equal(url.origin, s3.endpoint);
      assert.equal(url.pathname, `/${s3.bucket}/${PREFIX}uploads/${job.id}/${job.leaseId}.png`);
      assert.equal(url.searchParams.get('X-Amz-Expires'), '600');
      assert.deepEqual(url.searchParams.get('X-Amz-SignedHeaders')?.split(';'), ['content-type', 'host']);
      assert.deepEqual(job.upload.headers, { 'content-type': 'image/png' });
      // expiresAt is the signing instant (whole seconds in X-Amz-Date) plus the TTL.
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
        url.searchParams.get('X-Amz-Date') ?? '',
      );
      assert.ok(m, 'X-Amz-Date is an ISO 8601 basic timestamp');
      const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
      const expiresAt = Date.parse(job.upload.expiresAt);
      assert.ok(
        expiresAt - (signedAt + 600_000) >= 0 && expiresAt - (signedAt + 600_000) < 1000,
        `${job.upload.expiresAt} vs ${url.searchParams.get('X-Amz-Date')}`,
      );
      await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${job.id}/fail`,
        headers: auth(workerKey),
        payload: { leaseId: job.leaseId, reason: 'only looking', retryable: false },
      });
    });

    test('upload → complete: the job is done, the re-encoded PNG is served from S3, staging is gone', async () => {
      const job = await leaseJob();
      // Uncompressed, so the stored re-encode is visibly a different file with the same pixels.
      const uploaded = await sharp({
        create: { width: SIDE, height: SIDE, channels: 3, background: { r: 200, g: 30, b: 90 } },
      })
        .png({ compressionLevel: 0 })
        .toBuffer();
      await put(job, uploaded);
      assert.equal(await stagedInBucket(job), true);

      const res = await complete(job);
      assert.equal(res.statusCode, 200, res.body);
      const result = res.json();
      assert.equal(result.jobId, job.id);

      const g = await generation(job.generationId);
      assert.equal(g.status, 'done');
      assert.equal(g.images[0].state, 'done');
      assert.equal(g.images[0].sha256, result.sha256);

      const img = await c.app.inject({
        url: `/v1/generations/${job.generationId}/images/0`,
        headers: auth(c.userKey),
      });
      assert.equal(img.statusCode, 200);
      assert.equal(img.headers['content-type'], 'image/png');
      const served = img.rawPayload;
      assert.equal(served.length, result.bytes);
      assert.notDeepEqual(served, uploaded);
      assert.deepEqual(await s3.store.get(`${PREFIX}${imageKey(result.sha256)}`), served);
      const [a, b] = await Promise.all(
        [served, uploaded].map((png) => sharp(png).raw().toBuffer({ resolveWithObject: true })),
      );
      assert.deepEqual(a!.info, b!.info);
      assert.deepEqual(a!.data, b!.data);

      assert.equal(await stagedInBucket(job), false);
      // Done is final: the same lease cannot complete again.
      assertProblem(await complete(job), 409, 'lease_lost');
    });

    test("a key of another lease or job is refused (400) and the job's own upload still completes", async () => {
      const job = await leaseJob();
      const other = await leaseJob();
      await put(job, await solidPng(SIDE, SIDE, 1));
      await put(other, await solidPng(SIDE, SIDE, 2));
      for (const key of [
        other.upload.key,
        `uploads/${job.id}/${other.leaseId}.png`,
        `uploads/${other.id}/${job.leaseId}.png`,
        `${PREFIX}${job.upload.key}`,
        imageKey('0'.repeat(64)),
      ]) {
        assertProblem(await complete(job, { key }), 400, 'validation_failed');
      }
      // Nothing was consumed by the refusals.
      assert.equal(await stagedInBucket(other), true);
      await assertStillLeased(job);
      assert.equal((await complete(job)).statusCode, 200);
      assert.equal((await complete(other)).statusCode, 200);
    });

    test('completing before anything was uploaded is a 400; after the upload it succeeds', async () => {
      const job = await leaseJob();
      assertProblem(await complete(job), 400, 'validation_failed');
      await assertStillLeased(job);
      await put(job, await solidPng(SIDE, SIDE, 3));
      assert.equal((await complete(job)).statusCode, 200);
    });

    test('a non-PNG or a PNG of the wrong size is a 422; the lease holds and a re-upload completes', async () => {
      const job = await leaseJob();
      await put(job, Buffer.from('<html>definitely not a png</html>'));
      assertProblem(await complete(job), 422, 'invalid_image');
      await assertStillLeased(job);

      await put(job, await solidPng(SIDE, SIDE / 2, 4));
      assertProblem(await complete(job), 422, 'wrong_image_size');
      await assertStillLeased(job);

      // A truncated PNG: right signature and header, broken data.
      const png = await solidPng(SIDE, SIDE, 5);
      await put(job, png.subarray(0, png.length - 20));
      assertProblem(await complete(job), 422, 'invalid_image');
      await assertStillLeased(job);

      await put(job, await solidPng(SIDE, SIDE, 6));
      assert.equal((await complete(job)).statusCode, 200);
      assert.equal((await generation(job.generationId)).status, 'done');
    });

    test('an upload over the size limit is a 413 and is deleted; the lease holds', async () => {
      const job = await leaseJob();
      const limit = maxUploadBytes(MAX_PIXELS);
      await put(job, Buffer.concat([await solidPng(SIDE, SIDE, 7), randomBytes(limit)]));
      assertProblem(await complete(job), 413, 'payload_too_large');
      assert.equal(await stagedInBucket(job), false);
      await assertStillLeased(job);
      await put(job, await solidPng(SIDE, SIDE, 8));
      assert.equal((await complete(job)).statusCode, 200);
    });

    test('a lease handed back or failed is stale: completing on it is 409 lease_lost', async () => {
      const first = await leaseJob();
      await put(first, await solidPng(SIDE, SIDE, 9));
      const released = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${first.id}/release`,
        headers: auth(workerKey),
        payload: { leaseId: first.leaseId },
      });
      assert.equal(released.statusCode, 200, released.body);
      assertProblem(await complete(first), 409, 'lease_lost');

      // The job goes out again under a new lease, with a URL of its own; the old lease stays fenced out.
      const second = await pop(first.params.model);
      assert.ok(second, 'the released job was leased again');
      assert.equal(second.id, first.id);
      assert.notEqual(second.leaseId, first.leaseId);
      assert.notEqual(second.upload.key, first.upload.key);
      assertProblem(await complete(first), 409, 'lease_lost');
      assertProblem(await complete(second, { key: first.upload.key }), 400, 'validation_failed');

      await put(second, await solidPng(SIDE, SIDE, 10));
      const failed = await c.app.inject({
        method: 'POST',
        url: `/v1/jobs/${second.id}/fail`,
        headers: auth(workerKey),
        payload: { leaseId: second.leaseId, reason: 'out of memory', retryable: false },
      });
      assert.equal(failed.statusCode, 200, failed.body);
      assertProblem(await complete({ ...second, generationId: first.generationId }), 409, 'lease_lost');
      const g = await generation(first.generationId);
      assert.equal(g.images[0].state, 'failed');
      assert.equal(g.images[0].sha256, undefined);
    });
  });
}
