// `dreamfold dataset release` as a process, on a database a coordinator filled: the release is written,
// recorded, refuses a taken name and a missing previous release in one line, and chains releases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  auth,
  createTestDatabase,
  startTestCoordinator,
  tempDir,
  testDialects,
  type TestCoordinator,
  type TestDatabase,
} from '@dreamfold/server/testing';
import { runCli } from '../test-support/cli-process.js';

/** A 64×64 gradient (not blank, as the coordinator requires). */
function gradientPng(seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < 64 * 64; i++) {
    raw[i * 3] = (i + seed * 40) & 255;
    raw[i * 3 + 1] = (i >> 6) * 4;
    raw[i * 3 + 2] = seed * 50;
  }
  return sharp(raw, { raw: { width: 64, height: 64, channels: 3 } })
    .png()
    .toBuffer();
}

/** n finished images of `key`'s, through the HTTP API and the worker protocol. */
async function finishImages(c: TestCoordinator, key: string, n: number): Promise<string[]> {
  const model = `cli-dataset-${n}`;
  const generation = await c.app.inject({
    method: 'POST',
    url: '/v1/generations',
    headers: auth(key),
    payload: { prompt: 'a lighthouse at dawn', model, width: 64, height: 64, steps: 4, n },
  });
  assert.equal(generation.statusCode, 201, generation.body);
  const registered = await c.app.inject({
    method: 'POST',
    url: '/v1/workers',
    headers: auth(key),
    payload: { name: 'cli-test-worker' },
  });
  const workerKey = registered.json().key as string;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const popped = await c.app.inject({
      method: 'POST',
      url: '/v1/workers/pop',
      headers: auth(workerKey),
      payload: { backend: 'test-pattern', models: [model], maxPixels: 1 << 20, waitSeconds: 0 },
    });
    const job = popped.json().job as { id: string; leaseId: string };
    const done = await c.app.inject({
      method: 'PUT',
      url: `/v1/jobs/${job.id}/result?leaseId=${job.leaseId}`,
      headers: { ...auth(workerKey), 'content-type': 'image/png' },
      payload: await gradientPng(i),
    });
    assert.equal(done.statusCode, 200, done.body);
    ids.push(job.id);
  }
  return ids.sort();
}

for (const dialect of testDialects()) {
  describe(`dreamfold dataset release (${dialect})`, () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    let images: string[];

    before(async () => {
      database = await createTestDatabase(dialect);
      const dataDir = tempDir();
      const c = await startTestCoordinator({ dialect, database, dataDir });
      images = await finishImages(c, c.userKey, 3);
      await c.shutdown();
      env = { DATA_DIR: dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'silent' };
    });
    after(() => database.drop());

    test('writes a release from the database, records it, and chains the next one', async () => {
      const out = tempDir();
      const first = runCli(['dataset', 'release', '--out', out, '--name', 'cli-1'], env);
      const { code } = await first.exited;
      const text = first.output();
      assert.equal(code, 0, text);
      assert.match(text, new RegExp(`Released cli-1 in ${join(out, 'cli-1')}`));
      assert.match(text, /3 images in 1 shard, 0 embeddings, 0 ratings, 0 preferences/);
      assert.match(text, /since nothing \(first release\): 3 added, 0 removed/);
      // Not a terminal: no progress bar drawn.
      assert.doesNotMatch(text, /\[[█░=-]+\]/);
      const manifest = JSON.parse(await readFile(join(out, 'cli-1', 'manifest.json'), 'utf8')) as {
        counts: { images: number };
        files: { path: string }[];
      };
      assert.equal(manifest.counts.images, 3);
      for (const f of manifest.files) assert.ok(await stat(join(out, 'cli-1', f.path)));
      const card = await readFile(join(out, 'cli-1', 'README.md'), 'utf8');
      for (const id of images) assert.ok(!card.includes(id));

      const again = runCli(['dataset', 'release', '--out', out, '--name', 'cli-1'], env);
      assert.equal((await again.exited).code, 1);
      assert.match(
        again.output(),
        /^dreamfold: A release named "cli-1" exists or is being built\. Choose another --name\.$/m,
      );

      const missing = runCli(
        ['dataset', 'release', '--out', out, '--name', 'cli-x', '--previous', join(out, 'nope')],
        env,
      );
      assert.equal((await missing.exited).code, 1);
      assert.match(missing.output(), /^dreamfold: .*nope: the previous release does not exist$/m);

      // The default previous release is the newest recorded one.
      const second = runCli(['dataset', 'release', '--out', out, '--name', 'cli-2'], env);
      assert.equal((await second.exited).code, 0, second.output());
      assert.match(second.output(), /since cli-1: 0 added, 0 removed/);
      for (const p of [again, missing]) assert.doesNotMatch(p.output(), /\n\s+at /);
    });
  });
}
