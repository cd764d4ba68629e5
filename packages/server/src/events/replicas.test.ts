import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { pop, registerWorker, submit } from '../test-support/worker-client.js';

// Only PostgreSQL deployments run several replicas; SQLite is one process by design.
if (testDialects().includes('postgres')) {
  describe('two coordinator replicas on one PostgreSQL database', () => {
    let a: TestCoordinator;
    let b: TestCoordinator;
    before(async () => {
      a = await startTestCoordinator({ dialect: 'postgres' });
      // The safety wake is pushed out of reach, so only NOTIFY can wake the waiting worker in time.
      b = await startTestCoordinator({
        dialect: 'postgres',
        database: a.database,
        build: { safetyWakeMs: 60_000 },
      });
    });
    after(async () => {
      await b.shutdown();
      await a.shutdown();
    });

    test('a job submitted to replica A wakes a worker long-polling on replica B', async () => {
      const worker = await registerWorker(a, a.userKey);
      const waiting = pop(b, worker, { models: ['replicated'], waitSeconds: 20 });
      for (let i = 0; i < 200 && b.services.leases.waiters.size === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(b.services.leases.waiters.size, 1);
      const g = (await submit(a, a.userKey, { model: 'replicated' })).json();
      const res = await waiting;
      const job = res.json().job;
      // Without the notification the poll would have ended after 20 s with { job: null }.
      assert.equal(job?.id, g.images[0].jobId);
    });

    test("a generation's events reach the other replica complete and in order, however many at once", async () => {
      const received: number[] = [];
      const all = new Promise<void>((resolve) => {
        const stop = b.services.bus.onGeneration('g-burst', (event) => {
          if (event.type === 'progress') received.push(event.step);
          if (received.length === 300) {
            stop();
            resolve();
          }
        });
      });
      // 300 events published at once: several NOTIFYs' worth (payloads are capped at 8000 bytes).
      await Promise.all(
        Array.from({ length: 300 }, (_, step) =>
          a.services.bus.publishGeneration({
            generationId: 'g-burst',
            event: { type: 'progress', index: 0, step, totalSteps: 300 },
          }),
        ),
      );
      await all;
      assert.deepEqual(
        received,
        Array.from({ length: 300 }, (_, step) => step),
      );
    });
  });
}
