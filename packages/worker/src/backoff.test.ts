import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, parseRetryAfter } from './backoff.js';

test('full jitter: each delay is random(0, min(cap, base·2^n)), and reset starts over', () => {
  const top = new Backoff({ baseMs: 500, capMs: 60_000, random: () => 0.999999 });
  const ceilings = Array.from({ length: 10 }, () => top.next() + 1);
  assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  assert.equal(top.failures, 10);
  top.reset();
  assert.equal(top.next() + 1, 500);
  const bottom = new Backoff({ baseMs: 500, capMs: 60_000, random: () => 0 });
  assert.equal(bottom.next(), 0);
});

test('Retry-After is a floor for the delay, still bounded by the cap', () => {
  const b = new Backoff({ baseMs: 500, capMs: 10_000, random: () => 0 });
  assert.equal(b.next(3000), 3000);
  assert.equal(b.next(120_000), 10_000);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
