// `dreamfold worker pause|resume` as real processes against a real coordinator: the coordinator holds the
// switch, so it works from any shell that has the worker key, wherever the daemon runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCoordinator, testDialects, type TestCoordinator } from '@dreamfold/server/testing';
import { call, registerWorker } from '@dreamfold/worker/testing';
import { runCli } from '../test-support/cli-process.js';

for (const dialect of testDialects()) {
  describe(`dreamfold worker pause|resume (${dialect})`, () => {
    let c: TestCoordinator;
    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true });
    });
    after(() => c.shutdown());

    test('pause and resume through the coordinator; a bad key is a one-line error', async () => {
      const key = await registerWorker(c.url, c.userKey, 'gamer-pc');
      const paused = runCli(['worker', 'pause', '--server', c.url], { DREAMFOLD_WORKER_KEY: key });
      assert.equal((await paused.exited).code, 0, paused.output());
      assert.match(
        paused.output(),
        /^Paused since \S+: this worker takes no jobs until `dreamfold worker resume`/,
      );
      assert.equal((await call<{ state: string }>(`${c.url}/v1/workers/me/why-idle`, key)).state, 'paused');

      const resumed = runCli(['worker', 'resume'], { DREAMFOLD_WORKER_KEY: key, DREAMFOLD_SERVER: c.url });
      assert.equal((await resumed.exited).code, 0, resumed.output());
      assert.match(resumed.output(), /^Resumed: this worker takes jobs again/);
      assert.notEqual(
        (await call<{ state: string }>(`${c.url}/v1/workers/me/why-idle`, key)).state,
        'paused',
      );

      const wrong = runCli(['worker', 'pause', '--server', c.url], {
        DREAMFOLD_WORKER_KEY: 'dfw_not-a-real-key',
      });
      assert.equal((await wrong.exited).code, 1);
      assert.match(wrong.output(), /^dreamfold: Could not pause the worker: 401 unauthorized/m);
    });
  });
}
