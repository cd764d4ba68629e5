// `dreamfold worker doctor` as a donor runs it: the real CLI entry in a child process, ONNX Runtime on CPU,
// tiny random-weight model folders written by @dreamfold/diffusion, and a real coordinator for the key check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTinyModel, fingerprintModel } from '@dreamfold/diffusion';
import { startTestCoordinator, tempDir, type TestCoordinator } from '@dreamfold/server/testing';
import { registerWorker } from '@dreamfold/worker/testing';
import { freePort, runCli } from '../test-support/cli-process.js';

interface Line {
  check: string;
  verdict: 'ok' | 'warn' | 'fail' | 'info';
  detail: string;
}

async function doctorJson(args: string[], env: Record<string, string> = {}) {
  const cli = runCli(['worker', 'doctor', '--json', ...args], env);
  const { code } = await cli.exited;
  const objects = cli
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line & { verdict: string; fail?: number });
  const lines = objects.filter((o) => 'check' in o) as Line[];
  const byName = (name: string) => {
    const line = lines.find((l) => l.check === name);
    assert.ok(line, `no "${name}" line in:\n${cli.output()}`);
    return line;
  };
  return { code, lines, byName, summary: objects.at(-1)!, output: cli.output() };
}

describe('dreamfold worker doctor', () => {
  let c: TestCoordinator;
  let modelDir = '';
  before(async () => {
    c = await startTestCoordinator({ dialect: 'sqlite', listen: true });
    modelDir = (await createTinyModel(join(tempDir(), 'tiny-sd'))).dir;
  });
  after(() => c.shutdown());

  test('prints a table for a machine that can run the tiny model on CPU, and exits 0', async () => {
    const cli = runCli(['worker', 'doctor', '--model-dir', modelDir, '--provider', 'cpu'], {});
    const { code } = await cli.exited;
    const out = cli.output();
    assert.equal(code, 0, out);
    assert.match(out, /^CHECK\s+RESULT\s+DETAIL$/m);
    assert.match(out, new RegExp(`^node\\s+ok\\s+${process.versions.node.replace(/\./g, '\\.')}`, 'm'));
    assert.match(out, /^onnxruntime-node\s+ok\s+\d+\.\d+\.\d+ loaded/m);
    assert.match(out, /^provider cpu\s+ok\s+available \(asked for\)$/m);
    // A provider this platform's build does not have: informational, with the reason.
    assert.match(out, /^provider dml\s+-\s+.*DirectML is only in the Windows build/m);
    assert.match(out, /^model tiny-sd\s+ok\s+layout valid: StableDiffusionPipeline/m);
    assert.match(out, /^model tiny-sd loads\s+ok\s+custom, fp32, timestep int64, batched guidance; on cpu/m);
    assert.match(out, /^model tiny-sd 1 step 64×64\s+ok\s+\d+ ms in all; UNet step [\d.]+ ms/m);
    assert.match(out, /^coordinator\s+-\s+not checked/m);
    assert.match(out, /^verdict: this worker can run/m);
  });

  test('reports the fingerprint, memory, variant and the coordinator accepting the worker key', async () => {
    const key = await registerWorker(c.url, c.userKey, 'doctor-ok');
    const fp16 = (await createTinyModel(join(tempDir(), 'tiny-fp16'), { precision: 'float16' })).dir;
    const r = await doctorJson(['--server', c.url, '--model-dir', modelDir, '--model-dir', fp16], {
      DREAMFOLD_WORKER_KEY: key,
    });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(
      r.lines.filter((l) => l.verdict === 'fail'),
      [],
    );
    assert.match(r.byName('coordinator').detail, /is reachable/);
    assert.equal(r.byName('worker key').verdict, 'ok');
    assert.match(r.byName('worker key').detail, /^accepted: worker \S+, state /);
    const sha = (await fingerprintModel(modelDir)).sha256;
    assert.ok(r.byName('model tiny-sd fingerprint').detail.startsWith(`sha256 ${sha.slice(0, 16)}…`));
    assert.match(r.byName('model tiny-sd memory').detail, /needs about [\d.]+ GiB at up to 1048576 pixels/);
    assert.match(r.byName('model tiny-fp16 loads').detail, /^custom, fp16,/);
    assert.equal(r.byName('model tiny-fp16 1 step 64×64').verdict, 'ok');
    assert.equal(r.byName('ram').verdict, 'ok');
    assert.deepEqual([r.summary.verdict, r.summary.fail], ['ok', 0]);
  });

  test('--guidance sequential: the memory estimate halves the activations and the model loads that way', async () => {
    const args = ['--model-dir', modelDir, '--max-pixels', String(512 * 512)];
    const [batched, sequential, unknown] = await Promise.all([
      doctorJson(args),
      doctorJson([...args, '--guidance', 'sequential']),
      doctorJson([...args, '--guidance', 'fast']),
    ]);
    assert.equal(sequential.code, 0, sequential.output);
    const need = (r: typeof batched) => {
      const detail = r.byName('model tiny-sd memory').detail;
      const m = /^needs about ([\d.]+) GiB at up to 262144 pixels with (\w+) guidance;/.exec(detail);
      assert.ok(m, detail);
      return { gib: Number(m[1]), guidance: m[2] };
    };
    // The tiny weights are a few KiB: 1.5 GiB of activations + 0.5 GiB runtime, against 0.75 + 0.5.
    assert.deepEqual(need(batched), { gib: 2, guidance: 'batched' });
    assert.deepEqual(need(sequential), { gib: 1.3, guidance: 'sequential' });
    assert.match(sequential.byName('model tiny-sd loads').detail, /, sequential guidance; on cpu/);
    assert.equal(sequential.byName('model tiny-sd 1 step 64×64').verdict, 'ok');
    assert.equal(unknown.code, 1);
    assert.deepEqual(unknown.byName('guidance'), {
      check: 'guidance',
      verdict: 'fail',
      detail: 'unknown --guidance "fast"; choose batched or sequential',
    });
  });

  test('exits 1 and says why: a refused key, a missing model file, an unknown provider', async () => {
    const broken = join(tempDir(), 'broken-sd');
    await createTinyModel(broken);
    await rm(join(broken, 'unet/model.onnx'));
    const r = await doctorJson(['--server', c.url, '--model-dir', broken, '--provider', 'tpu'], {
      DREAMFOLD_WORKER_KEY: `dfw_${'x'.repeat(43)}`,
    });
    assert.equal(r.code, 1, r.output);
    assert.equal(r.byName('worker key').verdict, 'fail');
    assert.match(r.byName('worker key').detail, /^refused by the coordinator: 401/);
    assert.equal(r.byName('provider').verdict, 'fail');
    assert.match(r.byName('provider').detail, /unknown --provider "tpu"; choose one of cuda, coreml/);
    assert.equal(r.byName('model broken-sd').verdict, 'fail');
    assert.match(r.byName('model broken-sd').detail, /unet\/model\.onnx is missing/);
    assert.ok(!r.lines.some((l) => l.check === 'model broken-sd loads'));
    assert.deepEqual([r.summary.verdict, r.summary.fail], ['fail', 3]);
  });

  test('an unreachable coordinator fails, and the ONNX checks still run', async () => {
    const port = await freePort();
    const r = await doctorJson(['--server', `http://127.0.0.1:${port}`, '--model-dir', modelDir]);
    assert.equal(r.code, 1, r.output);
    assert.match(r.byName('coordinator').detail, /is not reachable: ECONNREFUSED/);
    assert.ok(!r.lines.some((l) => l.check === 'worker key'));
    assert.equal(r.byName('model tiny-sd 1 step 64×64').verdict, 'ok');
  });
});
