// A worker suspended while one of its uploads is being checked, through HTTP on both databases: the upload
// is refused like any upload of a suspended worker, nothing of it stands (no image, no earning, no charge),
// and its job goes back to the queue for another worker. The race is made certain, not hoped for: the
// coordinator's real blob store is wrapped so the upload waits, just before its completion transaction,
// until the suspension has committed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ManualClock } from '../clock.js';
import { tempDir, testDialects } from '../test-support/databases.js';
import type { TestCoordinator } from '../test-support/coordinator.js';
import type { BlobStore } from '../storage/blob-store.js';
import { openBlobStore } from '../storage/open-blob-store.js';
import { Donor, honestPng, solidImage, startTrustCoordinator, submitJobs } from './testing.js';

/** The real store; while armed, the next put waits until released. */
class PausingBlobStore {
  private gate: { reached: () => void; release: Promise<void> } | undefined;

  constructor(private readonly inner: BlobStore) {}

  /** Arms the pause; answers when a put reached it, and the function that lets it go on. */
  arm(): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    this.gate = { reached, release: new Promise<void>((r) => (release = r)) };
    return { reached: reachedP, release };
  }

  store(): BlobStore {
    return {
      kind: this.inner.kind,
      put: async (key, data, contentType) => {
        const gate = this.gate;
        this.gate = undefined;
        if (gate) {
          gate.reached();
          await gate.release;
        }
        return this.inner.put(key, data, contentType);
      },
      get: (key) => this.inner.get(key),
      getLimited: (key, max) => this.inner.getLimited(key, max),
      stream: (key) => this.inner.stream(key),
      has: (key) => this.inner.has(key),
      delete: (key) => this.inner.delete(key),
      close: () => this.inner.close(),
    };
  }
}

for (const dialect of testDialects()) {
  describe(`a worker suspended during its own upload (${dialect})`, () => {
    let c: TestCoordinator;
    let clock: ManualClock;
    const blobs = new PausingBlobStore(openBlobStore(`file:${join(tempDir(), 'blobs')}`));
    before(async () => {
      ({ c, clock } = await startTrustCoordinator(dialect, {}, { blobs: blobs.store() }));
    });
    after(() => c.shutdown());

    const imageOf = async (generationId: string) =>
      (
        await c.app.inject({
          url: `/v1/generations/${generationId}`,
          headers: { authorization: `Bearer ${c.userKey}` },
        })
      ).json().images[0] as { jobId: string; state: string };

    test('the upload is refused, nothing of it stands, and its job is run again by another worker', async () => {
      const bad = await Donor.create(c);
      const blank = async (seed: number) => {
        assert.equal((await submitJobs(c, { model: 'blanks', seed })).statusCode, 201);
        const job = await bad.pop(['blanks']);
        assert.ok(job);
        clock.advance(2000);
        return job;
      };
      for (let i = 0; i < 3; i++) {
        const res = await bad.upload(await blank(40 + i), await solidImage(64, 64, 30 + i));
        assert.equal(res.statusCode, 422, res.body);
      }
      assert.equal((await bad.reputation()).json().state, 'probation');

      const submitted = await submitJobs(c, { model: 'race', seed: 77 });
      assert.equal(submitted.statusCode, 201, submitted.body);
      const generationId = (submitted.json() as { id: string }).id;
      const job = await bad.pop(['race']);
      assert.ok(job);
      const fourth = await blank(50);
      clock.advance(2000);

      // The honest-looking upload stops just before its transaction; the fourth blank suspends the worker.
      const pause = blobs.arm();
      const upload = bad.deliver(job);
      await pause.reached;
      assert.equal((await bad.upload(fourth, await solidImage(64, 64, 99))).statusCode, 422);
      assert.equal((await bad.reputation()).json().state, 'suspended');
      pause.release();
      const refused = await upload;
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(refused.json().type, 'worker_suspended');

      const rep = (await bad.reputation()).json();
      assert.equal(rep.heldCredits, 0, 'no earning for it, held or paid');
      const image = await imageOf(generationId);
      assert.equal(image.state, 'queued', 'back in the queue, not done and hidden');

      const honest = await Donor.create(c);
      const again = await honest.pop(['race']);
      assert.equal(again?.id, job.id, 'the same job, for another worker');
      assert.deepEqual(again?.params, job.params, 'same parameters and seed');
      clock.advance(2000);
      const delivered = await honest.upload(again!, await honestPng(again!.params));
      assert.equal(delivered.statusCode, 200, delivered.body);
      assert.equal((await imageOf(generationId)).state, 'done');
      const results = await c.services.database.db
        .selectFrom('trust_results')
        .select(['worker_id', 'status'])
        .where('job_id', '=', job.id)
        .execute();
      assert.deepEqual(
        results,
        [{ worker_id: honest.workerId, status: 'unverified' }],
        'only the re-run counts',
      );
    });
  });
}
