// The daemon against a real coordinator (in-process, SQLite and PostgreSQL), as real worker processes.
// Each test uses its own model name, so jobs of one test are never popped by another test's worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestCoordinator, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import {
  call,
  createGeneration,
  downloadImage,
  isFinished,
  registerWorker,
  seedColour,
  startTestWorker,
  waitForGeneration,
  type TestProcess,
} from '../test-support/index.js';

for (const dialect of testDialects()) {
  describe(`worker loop (${dialect})`, () => {
    let c: TestCoordinator;
    const workers: TestProcess[] = [];
    before(async () => {
      // Short leases so a killed worker's job comes back within seconds.
      c = await startTestCoordinator({ dialect, listen: true, env: { LEASE_SECONDS: '5' } });
    });
    after(async () => {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await c.shutdown();
    });
    const worker = async (name: string, args: string[]) => {
      const key = await registerWorker(c.url, c.userKey, name);
      const w = startTestWorker({ url: c.url, key, args });
      workers.push(w);
      return w;
    };

    test('generates every image of a request and delivers PNGs of the requested size', async () => {
      const w = await worker('loop', ['--model', 'loop-model']);
      const g = await createGeneration(c.url, c.userKey, {
        prompt: 'four test patterns',
        model: 'loop-model',
        n: 4,
        width: 128,
        height: 64,
        steps: 3,
        seed: 1000,
      });
      const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished);
      assert.equal(done.status, 'done');
      for (const image of done.images) {
        assert.equal(image.state, 'done');
        const png = await downloadImage(c.url, c.userKey, g.id, image.index);
        const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
        assert.deepEqual([info.width, info.height], [128, 64]);
        // The top-left pixel is the seed's colour: image i really came from seed + i.
        assert.deepEqual([data[0], data[1], data[2]], seedColour(1000 + image.index));
      }
      const listed = await call<{ items: { backend?: string; models: string[]; jobsDone: number }[] }>(
        `${c.url}/v1/workers`,
        c.userKey,
      );
      const me = listed.items.find((i) => i.models.includes('loop-model'));
      assert.equal(me?.backend, 'test-pattern');
      assert.equal(me?.jobsDone, 4);
      await w.waitForLog(() => w.logs.filter((l) => l.msg === 'job done').length === 4);
    });

    test('a cancelled job is abandoned mid-generation and the worker takes the next one', async () => {
      const w = await worker('cancel', ['--model', 'cancel-model', '--step-delay-ms', '100']);
      const slow = await createGeneration(c.url, c.userKey, {
        prompt: 'to be cancelled',
        model: 'cancel-model',
        width: 64,
        height: 64,
        steps: 150,
      });
      await waitForGeneration(c.url, c.userKey, slow.id, (g) => (g.images[0]?.step ?? 0) > 0);
      await call(`${c.url}/v1/generations/${slow.id}`, c.userKey, 'DELETE');
      await w.waitForLog(
        (l) => l.msg === 'job cancelled by the requester' && l.jobId === slow.images[0]?.jobId,
      );
      const cancelled = await waitForGeneration(c.url, c.userKey, slow.id, isFinished);
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.images[0]?.state, 'cancelled');

      const next = await createGeneration(c.url, c.userKey, {
        prompt: 'after the cancel',
        model: 'cancel-model',
        width: 64,
        height: 64,
        steps: 2,
      });
      const done = await waitForGeneration(c.url, c.userKey, next.id, isFinished);
      assert.equal(done.status, 'done');
    });

    test('a worker killed mid-job: the job is done by another worker once the lease expires', async () => {
      const first = await worker('doomed', ['--model', 'kill-model', '--step-delay-ms', '100']);
      const g = await createGeneration(c.url, c.userKey, {
        prompt: 'survives a crash',
        model: 'kill-model',
        width: 64,
        height: 64,
        steps: 40,
      });
      await waitForGeneration(c.url, c.userKey, g.id, (x) => (x.images[0]?.step ?? 0) > 0);
      // The rescuer is already polling when the first worker dies; it gets the job when the lease expires.
      const second = await worker('rescuer', ['--model', 'kill-model', '--step-delay-ms', '10']);
      await second.waitForLog((l) => l.msg === 'worker started');
      first.kill('SIGKILL');
      await first.exited;
      const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished, 30_000);
      assert.equal(done.status, 'done');
      assert.equal(done.images[0]?.attempts, 2);
      // The coordinator records the result before the worker logs it, so this waits rather than looks.
      await second.waitForLog((l) => l.msg === 'job done' && l.jobId === g.images[0]?.jobId);
    });
  });
}
