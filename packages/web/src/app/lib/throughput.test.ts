import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hourlySeries } from './throughput.js';

const H = 3_600_000;

test('hourly series: one point per hour up to now, missing hours as zero, per worker', () => {
  const since = Date.UTC(2026, 0, 1, 10, 30);
  const series = hourlySeries(
    {
      since: new Date(since).toISOString(),
      items: [
        {
          workerId: 'a',
          hours: [
            { hour: new Date(Date.UTC(2026, 0, 1, 10)).toISOString(), jobs: 2, megapixelSteps: 1.5 },
            { hour: new Date(Date.UTC(2026, 0, 1, 13)).toISOString(), jobs: 1, megapixelSteps: 0.25 },
          ],
        },
        { workerId: 'b', hours: [] },
      ],
    },
    Date.UTC(2026, 0, 1, 13, 59),
  );
  assert.deepEqual(
    series.times,
    [10, 11, 12, 13].map((h) => Date.UTC(2026, 0, 1, h) / 1000),
  );
  assert.deepEqual(series.jobs.a, [2, 0, 0, 1]);
  assert.deepEqual(series.megapixelSteps.a, [1.5, 0, 0, 0.25]);
  assert.deepEqual(series.jobs.b, [0, 0, 0, 0]);
  assert.deepEqual(series.totals.a, { jobs: 3, megapixelSteps: 1.75 });
  assert.equal(series.times.length, 4);
  assert.equal((series.times[1]! - series.times[0]!) * 1000, H);
});
