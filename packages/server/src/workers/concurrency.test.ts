import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../test-support/databases.js';
import { startTestCoordinator, type TestCoordinator } from '../test-support/coordinator.js';
import { registerWorker, submit } from '../test-support/worker-client.js';

const JOBS = 160;
const POPPERS = 24;

for (const dialect of testDialects()) {
  describe(`concurrent poppers (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true });
    });
    after(() => c.shutdown());

    test(`${POPPERS} workers popping ${JOBS} jobs over HTTP: each job is leased exactly once`, async () => {
      const keys = await Promise.all(
        Array.from({ length: POPPERS }, (_, i) => registerWorker(c, c.userKey, `p${i}`)),
      );
      for (let i = 0; i < JOBS / 4; i++) {
        assert.equal((await submit(c, c.userKey, { model: 'race', n: 4 })).statusCode, 201);
      }
      const leased: string[] = [];
      await Promise.all(
        keys.map(async (key) => {
          for (;;) {
            const res = await fetch(`${c.url}/v1/workers/pop`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
              body: JSON.stringify({ backend: 't', models: ['race'], maxPixels: 1 << 20, waitSeconds: 0 }),
            });
            assert.equal(res.status, 200);
            const { job } = (await res.json()) as { job: { id: string } | null };
            if (!job) return;
            leased.push(job.id);
          }
        }),
      );
      assert.equal(leased.length, JOBS, 'every job handed out');
      assert.equal(new Set(leased).size, JOBS, 'no job handed out twice');
      const rows = await c.services.database.db
        .selectFrom('jobs')
        .select(['state', 'attempts'])
        .where('model', '=', 'race')
        .execute();
      assert.ok(rows.every((r) => r.state === 'leased' && r.attempts === 1));
    });
  });
}
