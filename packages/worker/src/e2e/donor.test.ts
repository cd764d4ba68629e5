// The donor's side of fairness, with the real daemon loop against a real coordinator: its log says why no
// jobs come; pausing (from anywhere) stops it taking jobs without penalty and resuming starts it again;
// each finished job's receipt is logged; a failure that is the request's fault is reported as such.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startTestCoordinator, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import type { GenerationParams, Hardware } from '@dreamfold/protocol';
import { createLogger } from '../logger.js';
import { Worker } from '../worker.js';
import { CoordinatorClient } from '../client.js';
import { JobRefusedError } from '../failure-class.js';
import type { Backend, ModelInfo } from '../backend.js';
import {
  TestPatternBackend,
  call,
  createGeneration,
  getGeneration,
  registerWorker,
} from '../test-support/index.js';

/** A backend whose model cannot do what is asked: the request's fault, not the worker's. */
class RefusingBackend implements Backend {
  readonly name = 'refusing';
  async listModels(): Promise<ModelInfo[]> {
    return [{ id: 'refuse-model', maxPixels: 1024 * 1024 }];
  }
  async load(): Promise<void> {}
  async generate(params: GenerationParams): Promise<Buffer> {
    throw new JobRefusedError(
      `${params.width}×${params.height} is not a size this pipeline can make`,
      'request',
    );
  }
  async hardware(): Promise<Hardware> {
    return {};
  }
  async close(): Promise<void> {}
}

function logCollector() {
  const lines: { msg: string; credits?: number }[] = [];
  const log = createLogger({
    destination: new Writable({
      write(chunk: Buffer, _e, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(l) as { msg: string });
        done();
      },
    }),
  });
  const seen = async (match: (msg: string) => boolean) => {
    for (let i = 0; i < 1000 && !lines.some((l) => match(l.msg)); i++)
      await new Promise((r) => setTimeout(r, 20));
    const line = lines.find((l) => match(l.msg));
    assert.ok(line, `log line not seen; got ${JSON.stringify(lines.map((l) => l.msg))}`);
    return line;
  };
  return { log, lines, seen };
}

for (const dialect of testDialects()) {
  describe(`the donor's daemon (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({
        dialect,
        listen: true,
        env: { TRUST_VERIFY: 'off', CREDITS_WORKER_REWARD: '6400' },
      });
    });
    after(() => c.shutdown());

    test('logs why it is idle, pauses and resumes without penalty, and logs each receipt', async () => {
      const key = await registerWorker(c.url, c.userKey, 'donor');
      const { log, seen } = logCollector();
      const worker = new Worker({
        serverUrl: c.url,
        key,
        backend: new TestPatternBackend({ models: ['donor-model'] }),
        log,
        waitSeconds: 1,
        idleReport: { firstAfterMs: 0, everyMs: 60_000 },
      });
      const running = worker.run();
      try {
        await seen((m) =>
          /^no jobs for \d+ s: Nothing is waiting: no requests are queued for any model\.$/.test(m),
        );

        // The owner pauses it from elsewhere (`dreamfold worker pause` talks to the coordinator, not the daemon).
        const remote = new CoordinatorClient({ serverUrl: c.url, key, userAgent: 'test' });
        assert.equal((await remote.setPaused(true)).paused, true);
        await seen((m) => m.startsWith('paused by its owner'));
        const g = await createGeneration(c.url, c.userKey, {
          prompt: 'p',
          model: 'donor-model',
          width: 64,
          height: 64,
          steps: 10,
        });
        // A poll or two (1 s each) go by; the job stays queued.
        await new Promise((r) => setTimeout(r, 1500));
        const why = await remote.whyIdle();
        assert.equal(why.state, 'paused');
        assert.equal((await getGeneration(c.url, c.userKey, g.id)).status, 'queued');

        await remote.setPaused(false);
        const receipt = await seen((m) => m.startsWith('earned '));
        assert.equal(receipt.msg, 'earned 40 credits');
        assert.equal(receipt.credits, 40);
        await seen((m) => m === 'resumed: taking jobs again');
        assert.equal((await getGeneration(c.url, c.userKey, g.id)).status, 'done');
        const workers = await call<{ items: { jobsFailed: number; jobsDone: number }[] }>(
          `${c.url}/v1/workers`,
          c.userKey,
        );
        const me = workers.items.find((w) => w.jobsDone === 1);
        assert.equal(me?.jobsFailed, 0);
      } finally {
        worker.stop();
        await running;
      }
    });

    test('a job the request makes impossible is reported as the request’s fault and never counts', async () => {
      const key = await registerWorker(c.url, c.userKey, 'refuser');
      const { log, seen } = logCollector();
      const worker = new Worker({
        serverUrl: c.url,
        key,
        backend: new RefusingBackend(),
        log,
        waitSeconds: 1,
      });
      const running = worker.run();
      try {
        const g = await createGeneration(c.url, c.userKey, {
          prompt: 'p',
          model: 'refuse-model',
          width: 64,
          height: 64,
          steps: 10,
        });
        await seen((m) => m === 'failure reported');
        const done = await getGeneration(c.url, c.userKey, g.id);
        assert.equal(done.status, 'failed', 'not retried elsewhere: the request itself cannot succeed');
        assert.match(done.images[0]!.error!, /not a size this pipeline can make/);
        const incidents = await call<{ items: { class: string; countsAgainstWorker: boolean }[] }>(
          `${c.url}/v1/workers/me/incidents`,
          key,
        );
        assert.deepEqual(
          incidents.items.map((i) => [i.class, i.countsAgainstWorker]),
          [['request', false]],
        );
      } finally {
        worker.stop();
        await running;
      }
    });
  });
}
