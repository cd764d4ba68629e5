import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseUntil } from './until.js';
import { FatalWorkerError } from './errors.js';

test('--until takes durations from now', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseUntil('3h55m', now).toISOString(), '2026-01-01T03:55:00.000Z');
  assert.equal(parseUntil('90s', now).toISOString(), '2026-01-01T00:01:30.000Z');
  assert.equal(parseUntil('1d2h', now).toISOString(), '2026-01-02T02:00:00.000Z');
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('1.5h'), 5_400_000);
});

test('--until takes ISO times', () => {
  assert.equal(parseUntil('2026-03-01T18:00:00Z').toISOString(), '2026-03-01T18:00:00.000Z');
  assert.equal(parseUntil('2026-03-01T18:00:00+02:00').toISOString(), '2026-03-01T16:00:00.000Z');
});

test('--until rejects anything else with a clear error', () => {
  for (const bad of ['5', 'tomorrow', '3 hours', '', 'h']) {
    assert.throws(
      () => parseUntil(bad),
      (err: unknown) => err instanceof FatalWorkerError && err.code === 'invalid_until',
      bad,
    );
  }
});
