// The whole system as separate processes: `dreamfold up`, `dreamfold admin create-user`, and worker
// processes, on SQLite and PostgreSQL. The coordinator is killed and started again on the same data, and
// a worker is started before its coordinator exists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, tempDir, testDialects, type TestDatabase } from '@dreamfold/server/testing';
import {
  call,
  createGeneration,
  downloadImage,
  isFinished,
  registerWorker,
  startTestWorker,
  waitForGeneration,
  type TestProcess,
} from '@dreamfold/worker/testing';
import {
  createUserWithCli,
  freePort,
  runCli,
  startCoordinatorProcess,
  type CoordinatorEnv,
} from '../test-support/cli-process.js';

for (const dialect of testDialects()) {
  describe(`dreamfold up, admin and workers as processes (${dialect})`, () => {
    let database: TestDatabase;
    let env: CoordinatorEnv;
    let url = '';
    let coordinator: TestProcess | undefined;
    let userKey = '';
    const processes: TestProcess[] = [];
    const startCoordinator = async () => {
      const started = await startCoordinatorProcess(env);
      coordinator = started.process;
      processes.push(coordinator);
      url = started.url;
      return started;
    };
    const startWorker = async (name: string, args: string[]) => {
      const key = await registerWorker(url, userKey, name);
      const worker = startTestWorker({ url, key, args: ['--backoff-cap-ms', '1000', ...args] });
      processes.push(worker);
      return worker;
    };

    before(async () => {
      database = await createTestDatabase(dialect);
      env = {
        DATA_DIR: tempDir(),
        DATABASE_URL: database.url,
        PORT: String(await freePort()),
        // A pop the coordinator committed but was killed before answering leaves its job leased to a worker
        // that never heard of it: the lease expiring is what brings it back. The default, 60 s, is longer
        // than the restart test waits.
        LEASE_SECONDS: '10',
      };
    });
    after(async () => {
      for (const p of processes) p.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await database.drop();
    });

    test('dreamfold up prints its URL and the next commands', async () => {
      const { process } = await startCoordinator();
      assert.equal(url, `http://127.0.0.1:${env.PORT}`);
      const out = process.output();
      assert.match(out, /dreamfold admin create-user --email \S+ --role admin/);
      assert.match(out, /dreamfold worker --server \S+ --backend onnx --model-dir/);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      // Created on first start, before any image arrives.
      assert.ok(statSync(join(env.DATA_DIR as string, 'blobs')).isDirectory());
    });

    test('dreamfold admin create-user prints a working key and password link, once per email', async () => {
      const cli = runCli(['admin', 'create-user', '--email', 'root@example.org', '--role', 'admin'], env);
      assert.equal((await cli.exited).code, 0, cli.output());
      const adminKey = /^(dfk_\S+)$/m.exec(cli.output())?.[1] ?? '';
      const me = await call<{ id: string; email: string; role: string }>(`${url}/v1/me`, adminKey);
      assert.deepEqual([me.email, me.role], ['root@example.org', 'admin']);
      // Logged as an operator's action (no acting account yet), in the same transaction as the account.
      const audit = await call<{ items: { actorId?: string; targetId: string; detail: object }[] }>(
        `${url}/v1/moderation/audit?action=user.create`,
        adminKey,
      );
      assert.deepEqual(
        audit.items.map((e) => [e.actorId, e.targetId, e.detail]),
        [[undefined, me.id, { role: 'admin', via: 'cli' }]],
      );
      const link = new URL(/^(http\S+reset-password\S+)$/m.exec(cli.output())?.[1] ?? '');
      const set = await fetch(`${url}/v1/auth/password-reset/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: link.searchParams.get('token'),
          password: 'the first admin passphrase',
        }),
      });
      assert.equal(set.status, 204);
      const signIn = await fetch(`${url}/v1/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'root@example.org', password: 'the first admin passphrase' }),
      });
      assert.equal(signIn.status, 200, 'the web app sign-in works for the CLI-made admin');
      const again = runCli(['admin', 'create-user', '--email', 'ROOT@example.org', '--role', 'user'], env);
      userKey = await createUserWithCli(env, 'donor@example.org', 'user');
      assert.equal((await again.exited).code, 1);
      assert.match(again.output(), /already exists/);
      assert.doesNotMatch(again.output(), /dfk_/);
    });

    test('the coordinator killed and restarted mid-run: every acknowledged generation completes', async () => {
      const worker = await startWorker('survivor', ['--model', 'restart-model', '--step-delay-ms', '40']);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const g = await createGeneration(url, userKey, {
          prompt: `restart ${i}`,
          model: 'restart-model',
          width: 64,
          height: 64,
          steps: 8,
          n: 2,
        });
        ids.push(g.id);
      }
      await waitForGeneration(url, userKey, ids[0] as string, (g) =>
        g.images.some((i) => i.state === 'done'),
      );
      coordinator?.kill('SIGKILL');
      await coordinator?.exited;
      await worker.waitForLog((l) => /unavailable|failed/.test(String(l.msg)) && l.level === 40);
      await startCoordinator();
      for (const id of ids) {
        const g = await waitForGeneration(url, userKey, id, isFinished, 30_000);
        assert.equal(g.status, 'done', JSON.stringify(g));
        for (const image of g.images) {
          assert.ok((await downloadImage(url, userKey, id, image.index)).length > 0);
        }
      }
      worker.kill('SIGTERM');
      assert.equal((await worker.exited).code, 0);
    });

    test('a worker started before its coordinator backs off, then serves once it is up', async () => {
      // The worker key comes from the coordinator, so it is registered before the coordinator goes down.
      const key = await registerWorker(url, userKey, 'early-bird');
      coordinator?.kill('SIGTERM');
      assert.equal((await coordinator?.exited)?.code, 0);
      const worker = startTestWorker({
        url,
        key,
        args: ['--model', 'late-model', '--backoff-cap-ms', '1000'],
      });
      processes.push(worker);
      const backoffs = () => worker.logs.filter((l) => l.msg === 'coordinator unavailable, backing off');
      await worker.waitForLog(() => backoffs().length >= 2);
      const delays = backoffs().map((l) => l.retryInMs as number);
      assert.ok(
        delays.every((d) => d >= 0 && d <= 1000),
        JSON.stringify(delays),
      );
      await startCoordinator();
      // Once the worker is back, the coordinator knows late-model is served (a request for a model no
      // worker serves is refused at once, see fairness/).
      const served = async () => {
        const models = (await (await fetch(`${url}/v1/models`)).json()) as { items: { model: string }[] };
        return models.items.some((m) => m.model === 'late-model');
      };
      for (let i = 0; i < 150 && !(await served()); i++) await new Promise((r) => setTimeout(r, 100));
      const g = await createGeneration(url, userKey, {
        prompt: 'after the outage',
        model: 'late-model',
        width: 64,
        height: 64,
        steps: 2,
      });
      const done = await waitForGeneration(url, userKey, g.id, isFinished, 30_000);
      assert.equal(done.status, 'done');
      await worker.waitForLog((l) => l.msg === 'coordinator reachable again');
    });
  });
}
