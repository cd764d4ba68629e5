// `dreamfold aesthetics install|status` as real processes against a real coordinator: an admin installs a
// trained predictor file (or the folder holding it) and follows the re-scoring; mistakes get one line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, saveModel } from '@dreamfold/aesthetics';
import type { ScoringStatus } from '@dreamfold/protocol';
import {
  auth,
  startTestCoordinator,
  tempDir,
  testDialects,
  type TestCoordinator,
} from '@dreamfold/server/testing';
import { runCli } from '../test-support/cli-process.js';

const DIM = 16;
/** Whatever the shell running the tests exported does not count. */
const unset = { DREAMFOLD_API_KEY: '', DREAMFOLD_KEY: '', DREAMFOLD_SERVER: '' };

for (const dialect of testDialects()) {
  describe(`dreamfold aesthetics install|status (${dialect})`, () => {
    let c: TestCoordinator;
    const dir = tempDir();
    const modelDir = join(dir, 'run-1');
    const modelPath = join(modelDir, 'model.safetensors');

    const scoring = async () =>
      (
        await c.app.inject({ url: '/v1/admin/aesthetics/scoring', headers: auth(c.adminKey) })
      ).json<ScoringStatus>();
    const cli = async (args: string[], env: Record<string, string> = { DREAMFOLD_API_KEY: c.adminKey }) => {
      const p = runCli(['aesthetics', ...args], { ...unset, ...env });
      const { code } = await p.exited;
      return { code, output: p.output() };
    };

    before(async () => {
      c = await startTestCoordinator({ dialect, listen: true, env: { EMBEDDING_DIM: String(DIM) } });
      mkdirSync(modelDir, { recursive: true });
      await saveModel(createModel({ dim: DIM, seed: 7 }), modelPath);
      writeFileSync(join(modelDir, 'notes.txt'), 'validation split 0.1');
    });
    after(() => c.shutdown());

    test('status before any install, install from the model’s folder, then status with the re-scoring', async () => {
      const none = await cli(['status', '--server', c.url]);
      assert.equal(none.code, 0, none.output);
      assert.match(none.output, /^Predictor: none installed; nothing is scored/m);
      assert.match(none.output, new RegExp(`^Embeddings: 0 finished images have one \\(${DIM}-d\\)\\.`, 'm'));

      // The folder `aesthetics train --out run-1/model.safetensors` left, with a note beside the model.
      const installed = await cli(['install', '--model', modelDir], {
        DREAMFOLD_API_KEY: c.adminKey,
        DREAMFOLD_SERVER: c.url,
      });
      assert.equal(installed.code, 0, installed.output);
      const id = /^Installed predictor (\S+) from (\S+): /m.exec(installed.output);
      assert.ok(id, installed.output);
      assert.equal(id[2], modelPath);
      assert.match(
        installed.output,
        new RegExp(`: ${DIM}-d \\S+ embeddings, \\d+ bytes, sha256 [0-9a-f]{12}…`),
      );

      const sha256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
      const s = await scoring();
      assert.equal(s.predictor?.id, id[1]);
      assert.equal(s.predictor?.sha256, sha256);

      let shown = '';
      for (let i = 0; i < 40 && !/^Re-scoring: done/m.test(shown); i++) {
        const status = await cli(['status', '--server', c.url]);
        assert.equal(status.code, 0, status.output);
        shown = status.output;
      }
      assert.match(shown, new RegExp(`^Predictor: ${id[1]}, installed \\S+ by \\S+: ${DIM}-d`, 'm'));
      assert.match(shown, /^Scored: 0 of 0 images with an embedding\.$/m);
      assert.match(shown, /^Re-scoring: done at \S+ \(0 visited\)\.$/m);
      assert.match(shown, /^Queued: 0 new embeddings/m);

      const json = await cli(['status', '--server', c.url, '--json']);
      assert.equal(json.code, 0, json.output);
      assert.equal((JSON.parse(json.output) as ScoringStatus).predictor?.sha256, sha256);
    });

    test('a user key, a file that is no model, an ambiguous folder, no key and no server: one line, exit 1', async () => {
      const junk = join(dir, 'junk.safetensors');
      writeFileSync(junk, 'not a model at all');
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      const two = join(dir, 'two');
      mkdirSync(two);
      writeFileSync(join(two, 'a.safetensors'), '');
      writeFileSync(join(two, 'b.safetensors'), '');
      const server = ['--server', c.url];
      const runs = await Promise.all([
        cli(['install', '--model', modelPath, ...server], { DREAMFOLD_API_KEY: c.userKey }),
        cli(['install', '--model', junk, ...server]),
        cli(['install', '--model', empty, ...server]),
        cli(['install', '--model', two, ...server]),
        cli(['status', ...server], {}),
        cli(['status'], { DREAMFOLD_API_KEY: c.adminKey }),
        cli(['status', '--server', 'http://127.0.0.1:9']),
      ]);
      const expected = [
        /^dreamfold: Could not install the predictor: 403 forbidden: This route needs the admin role\.$/m,
        /^dreamfold: Could not install the predictor: 400 validation_failed: not a readable aesthetic model/m,
        /^dreamfold: --model \S+ is a folder with no \.safetensors file; name the model file itself\.$/m,
        /^dreamfold: --model \S+ holds several \.safetensors files \(a\.safetensors, b\.safetensors\)/m,
        /^dreamfold: An admin's API key is required: set DREAMFOLD_API_KEY \(or pass --key\)\.$/m,
        /^dreamfold: --server is required \(or set DREAMFOLD_SERVER\)\.$/m,
        /^dreamfold: Could not read the scoring status: http:\/\/127\.0\.0\.1:9 did not answer/m,
      ];
      runs.forEach((r, i) => {
        assert.equal(r.code, 1, r.output);
        assert.match(r.output, expected[i] as RegExp);
        assert.doesNotMatch(r.output, /\n\s+at /);
      });
      // Nothing of that changed the installed predictor.
      assert.equal(
        (await scoring()).predictor?.sha256,
        createHash('sha256').update(readFileSync(modelPath)).digest('hex'),
      );
    });
  });
}
