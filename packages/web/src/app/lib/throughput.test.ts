import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSample, throughput } from './throughput.js';

test('jobs per minute over a sliding window, per worker', () => {
  const samples = [
    { at: 0, jobsDone: { a: 10, b: 0 } },
    { at: 30_000, jobsDone: { a: 13, b: 0 } },
    { at: 60_000, jobsDone: { a: 16, b: 2 } },
    { at: 90_000, jobsDone: { a: 16, b: 4 } },
  ];
  const { times, rates } = throughput(samples);
  assert.deepEqual(times, [0, 30, 60, 90]);
  assert.deepEqual(rates.a, [null, 6, 6, 3]);
  assert.deepEqual(rates.b, [null, 0, 2, 4]);
});

test('a worker that appears later has no rate before its second sample', () => {
  const { rates } = throughput([
    { at: 0, jobsDone: { a: 1 } },
    { at: 10_000, jobsDone: { a: 1, b: 5 } },
    { at: 20_000, jobsDone: { a: 1, b: 6 } },
  ]);
  assert.deepEqual(rates.b, [null, null, null]);
});

test('samples are capped', () => {
  let samples: ReturnType<typeof addSample> = [];
  for (let i = 0; i < 5; i++) samples = addSample(samples, { at: i, jobsDone: {} }, 3);
  assert.deepEqual(
    samples.map((s) => s.at),
    [2, 3, 4],
  );
});
