// How a worker process stops: signals (graceful, then forced), --max-jobs, --until; and what it tells the
// coordinator when generation itself fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCoordinator, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import {
  createGeneration,
  getGeneration,
  isFinished,
  registerWorker,
  startTestWorker,
  waitForGeneration,
  type TestProcess,
} from '../test-support/index.js';

for (const dialect of testDialects()) {
  describe(`worker shutdown (${dialect})`, () => {
    let c: TestCoordinator;
    const workers: TestProcess[] = [];
    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true });
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
    const generate = (model: string, extra: object = {}) =>
      createGeneration(c.url, c.userKey, { prompt: 'p', model, width: 64, height: 64, ...extra });
    const started = (g: { images: { step: number }[] }) => (g.images[0]?.step ?? 0) > 0;

    test('first SIGTERM: the current job is finished and delivered, then exit 0', async () => {
      const w = await worker('graceful', ['--model', 'graceful-model', '--step-delay-ms', '50']);
      const g = await generate('graceful-model', { steps: 30 });
      await waitForGeneration(c.url, c.userKey, g.id, started);
      w.kill('SIGTERM');
      assert.deepEqual(await w.exited, { code: 0, signal: null });
      const after = await getGeneration(c.url, c.userKey, g.id);
      assert.equal(after.status, 'done');
      assert.equal(after.images[0]?.attempts, 1);
    });

    test('second SIGTERM: generation is aborted and the lease handed back without counting the attempt', async () => {
      const w = await worker('impatient', ['--model', 'forced-model', '--step-delay-ms', '100']);
      const g = await generate('forced-model', { steps: 150 });
      await waitForGeneration(c.url, c.userKey, g.id, started);
      w.kill('SIGTERM');
      await w.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('finishing the current job'));
      w.kill('SIGTERM');
      assert.deepEqual(await w.exited, { code: 143, signal: null });
      assert.ok(w.logs.some((l) => l.msg === 'job handed back' && l.state === 'queued'));
      const after = await getGeneration(c.url, c.userKey, g.id);
      assert.equal(after.images[0]?.state, 'queued');
      assert.equal(after.images[0]?.attempts, 0);
    });

    test('--max-jobs: takes that many jobs, then exits 0 and leaves the rest queued', async () => {
      const g = await generate('batch-model', { steps: 1, n: 3 });
      const w = await worker('batch', ['--model', 'batch-model', '--max-jobs', '2']);
      assert.deepEqual(await w.exited, { code: 0, signal: null });
      const after = await getGeneration(c.url, c.userKey, g.id);
      assert.deepEqual(after.images.map((i) => i.state).sort(), ['done', 'done', 'queued']);
      assert.ok(w.logs.some((l) => l.msg === 'worker stopped' && l.reason === 'max_jobs'));
    });

    test('--until: an idle worker stops taking jobs at the deadline and exits 0', async () => {
      const w = await worker('deadline', ['--model', 'idle-model', '--until', '1500ms']);
      assert.deepEqual(await w.exited, { code: 0, signal: null });
      assert.ok(w.logs.some((l) => l.msg === 'worker stopped' && l.reason === 'until'));
      // Nothing was leased to it after it stopped: a job submitted now stays queued.
      const g = await generate('idle-model', { steps: 1 });
      assert.equal((await getGeneration(c.url, c.userKey, g.id)).images[0]?.state, 'queued');
    });

    test('a generation error is reported as a retryable failure, and the job fails after its attempts', async () => {
      await worker('broken', ['--model', 'broken-model', '--fail-with', 'CUDA out of memory']);
      const g = await generate('broken-model', { steps: 1 });
      const done = await waitForGeneration(c.url, c.userKey, g.id, isFinished);
      assert.equal(done.status, 'failed');
      assert.equal(done.images[0]?.attempts, 3);
      assert.match(done.images[0]?.error ?? '', /CUDA out of memory/);
    });
  });
}
