// Donor autopilot: reading the machine (nvidia-smi's CSV, free disk), deciding which models fit, the
// only-when-idle gate and whose fault a failure was. The GPU is the one thing that cannot run here: a
// stand-in nvidia-smi script prints what a real one would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  estimateNeedMb,
  fits,
  folderBytes,
  parseNvidiaSmi,
  probeResources,
  readNvidiaSmi,
  selectFitting,
  type Resources,
} from './resources.js';
import { GpuIdleGate } from './gpu-idle.js';
import { JobRefusedError, failureClassOf } from './failure-class.js';
import type { FatalWorkerError } from './errors.js';

const dir = () => mkdtempSync(join(tmpdir(), 'dreamfold-autopilot-'));

/** A model folder whose weights take `mb` megabytes (sparse: no disk is used). */
function modelFolder(root: string, name: string, mb: number): { id: string; dir: string } {
  const folder = join(root, name);
  mkdirSync(join(folder, 'unet'), { recursive: true });
  writeFileSync(join(folder, 'model_index.json'), '{}');
  const weights = join(folder, 'unet', 'model.onnx');
  writeFileSync(weights, '');
  truncateSync(weights, mb * 1024 * 1024);
  return { id: name, dir: folder };
}

/** A stand-in for nvidia-smi that prints whatever the test wrote to `csv`. */
function fakeNvidiaSmi(lines: string): { command: string; set(lines: string): void } {
  const root = dir();
  const csv = join(root, 'reading.csv');
  const command = join(root, 'nvidia-smi');
  writeFileSync(csv, lines);
  writeFileSync(command, `#!/bin/sh\ncat '${csv}'\n`);
  chmodSync(command, 0o755);
  return { command, set: (l) => writeFileSync(csv, l) };
}

function memoryLog() {
  const lines: { msg: string }[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string });
        done();
      },
    }),
  );
  return { log, lines };
}

const machine = (over: Partial<Resources> = {}): Resources => ({
  ramTotalMb: 16_000,
  ramFreeMb: 8_000,
  diskFreeMb: 50_000,
  gpus: [{ name: 'NVIDIA GeForce RTX 3060', totalMb: 12_288, usedMb: 500, utilization: 3 }],
  ...over,
});

test('nvidia-smi CSV: one GPU per line; anything else means "cannot tell"', () => {
  assert.deepEqual(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 81559, 1, 0\nNVIDIA A10, 23028, 22000, 97\n'), [
    { name: 'NVIDIA H100 80GB HBM3', totalMb: 81559, usedMb: 1, utilization: 0 },
    { name: 'NVIDIA A10', totalMb: 23028, usedMb: 22000, utilization: 97 },
  ]);
  for (const bad of ['', 'No devices were found', 'NVIDIA X, [N/A], 1, 2', 'a, 1, 2']) {
    assert.equal(parseNvidiaSmi(bad), undefined, bad);
  }
});

test('readNvidiaSmi: a missing command or a failing one reads as unknown', async () => {
  assert.equal(await readNvidiaSmi(join(dir(), 'no-such-nvidia-smi')), undefined);
  const smi = fakeNvidiaSmi('NVIDIA L4, 23034, 100, 5\n');
  assert.deepEqual(await readNvidiaSmi(smi.command), [
    { name: 'NVIDIA L4', totalMb: 23034, usedMb: 100, utilization: 5 },
  ]);
  const r = await probeResources(tmpdir(), smi.command);
  assert.ok(r.ramTotalMb > 0 && r.diskFreeMb > 0);
  assert.equal(r.gpus?.[0]?.name, 'NVIDIA L4');
});

test('a model’s need grows with its weights and the largest image; GPUs compare with VRAM, CPUs with RAM', async () => {
  const root = dir();
  const m = modelFolder(root, 'sd-1.5', 2_000);
  assert.ok((await folderBytes(m.dir)) >= 2_000 * 1024 * 1024);
  assert.equal(estimateNeedMb(2_000 * 1024 * 1024, 512 * 512), 2_000 + 1536 + 512);
  assert.equal(estimateNeedMb(2_000 * 1024 * 1024, 1024 * 1024), 2_000 + 4 * 1536 + 512);
  // Sequential guidance runs the UNet at batch 1: half the activations.
  assert.equal(estimateNeedMb(2_000 * 1024 * 1024, 1024 * 1024, 'sequential'), 2_000 + 4 * 768 + 512);
  assert.deepEqual(fits(4_048, 'vram', machine()), {
    fits: true,
    needMb: 4_048,
    against: '12288 MB VRAM on NVIDIA GeForce RTX 3060',
  });
  assert.equal(fits(13_000, 'vram', machine()).fits, false);
  assert.equal(fits(13_000, 'ram', machine()).fits, false, '75 % of 16 GB is usable');
  assert.equal(fits(11_000, 'ram', machine()).fits, true);
  assert.deepEqual(fits(99_999, 'vram', machine({ gpus: undefined })), {
    fits: true,
    needMb: 99_999,
    against: 'VRAM unknown (no nvidia-smi)',
    unknown: true,
  });
});

test('models that do not fit are refused with the numbers; none fitting or a full disk stops the start', async () => {
  const root = dir();
  const small = modelFolder(root, 'sd-1.5', 2_000);
  const huge = modelFolder(root, 'giant', 20_000);
  const warnings: string[] = [];
  const chosen = await selectFitting([small, huge], {
    memory: 'vram',
    maxPixels: 512 * 512,
    resources: machine(),
    warn: (m) => warnings.push(m),
  });
  assert.deepEqual(
    chosen.map((m) => m.id),
    ['sd-1.5'],
  );
  assert.deepEqual(warnings, [
    'Not serving giant needs about 22049 MB (12288 MB VRAM on NVIDIA GeForce RTX 3060).',
  ]);

  await assert.rejects(
    selectFitting([huge], { memory: 'ram', maxPixels: 512 * 512, resources: machine() }),
    (err: FatalWorkerError) =>
      err.code === 'no_model_fits' &&
      /giant needs about 22049 MB \(12000 MB of 16000 MB RAM usable\)\. Lower --max-pixels, use an fp16 copy of the model, add --guidance sequential,/.test(
        err.message,
      ),
  );
  // With sequential guidance a model that needs 768 MB less may fit; the advice no longer suggests it.
  const fitsSequential = modelFolder(root, 'sd-x', 12_288 - 512 - 1536 + 100);
  await assert.rejects(
    selectFitting([fitsSequential], { memory: 'vram', maxPixels: 512 * 512, resources: machine() }),
  );
  assert.deepEqual(
    (
      await selectFitting([fitsSequential], {
        memory: 'vram',
        maxPixels: 512 * 512,
        resources: machine(),
        guidance: 'sequential',
      })
    ).map((m) => m.id),
    ['sd-x'],
  );
  await assert.rejects(
    selectFitting([small], { memory: 'vram', maxPixels: 512 * 512, resources: machine({ diskFreeMb: 100 }) }),
    (err: FatalWorkerError) => err.code === 'disk_full' && /Only 100 MB of disk is free/.test(err.message),
  );
  // Without nvidia-smi the model is served, and the donor is told it was not checked.
  const unchecked: string[] = [];
  await selectFitting([huge], {
    memory: 'vram',
    maxPixels: 512 * 512,
    resources: machine({ gpus: undefined }),
    warn: (m) => unchecked.push(m),
  });
  assert.match(
    unchecked[0]!,
    /^giant needs about 22049 MB; VRAM unknown \(no nvidia-smi\), so it is not checked\.$/,
  );
});

test('--only-when-gpu-idle waits while something else keeps the GPU busy, and refuses without nvidia-smi', async () => {
  const smi = fakeNvidiaSmi('NVIDIA GeForce RTX 4070, 12282, 9000, 85\n');
  const { log, lines } = memoryLog();
  const gate = await GpuIdleGate.create(
    { thresholdPercent: 10, recheckMs: 10, read: () => readNvidiaSmi(smi.command) },
    log,
  );
  let idle = false;
  const waiting = gate.waitUntilIdle(new AbortController().signal).then(() => (idle = true));
  while (!lines.some((l) => l.msg.startsWith('the GPU is busy'))) await new Promise((r) => setTimeout(r, 5));
  assert.equal(idle, false, 'a game at 85 % keeps the worker from asking for jobs');
  smi.set('NVIDIA GeForce RTX 4070, 12282, 900, 4\n');
  await waiting;
  assert.deepEqual(
    lines.map((l) => l.msg),
    [
      'the GPU is busy with something else: taking no jobs until it is idle',
      'the GPU is idle again: taking jobs',
    ],
  );
  // Stopping while it waits ends the wait.
  smi.set('NVIDIA GeForce RTX 4070, 12282, 9000, 99\n');
  const stop = new AbortController();
  const stopped = gate.waitUntilIdle(stop.signal);
  stop.abort();
  await stopped;

  await assert.rejects(
    GpuIdleGate.create(
      { thresholdPercent: 10, recheckMs: 10, read: () => readNvidiaSmi(join(dir(), 'absent')) },
      log,
    ),
    (err: FatalWorkerError) => err.code === 'gpu_idle_unavailable' && /needs nvidia-smi/.test(err.message),
  );
});

test('whose fault: the request, the model copy, or the worker', () => {
  assert.equal(failureClassOf(new JobRefusedError('bad size', 'request')), 'request');
  assert.equal(failureClassOf(new JobRefusedError('SD2 weights', 'model_mismatch')), 'model_mismatch');
  assert.equal(failureClassOf(Object.assign(new Error('width 500'), { code: 'invalid_params' })), 'request');
  assert.equal(failureClassOf(Object.assign(new Error('plms'), { code: 'unknown_sampler' })), 'request');
  assert.equal(
    failureClassOf(Object.assign(new Error('SDXL'), { code: 'model_unsupported' })),
    'model_mismatch',
  );
  assert.equal(failureClassOf(Object.assign(new Error('boom'), { code: 'inference_failed' })), 'worker');
  assert.equal(failureClassOf(new Error('CUDA out of memory')), 'worker');
  assert.equal(failureClassOf('a string'), 'worker');
});
