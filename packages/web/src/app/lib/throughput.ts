// Worker throughput charts from the coordinator's hourly history (/v1/workers/activity): one point per hour
// from the window's start to the current hour, hours without finished jobs as zero, one series per worker.
// Pure, so it is tested without a browser.
import type { WorkerActivityList } from '@dreamfold/protocol';

const HOUR_MS = 3_600_000;

export interface HourlySeries {
  /** Seconds since the epoch (uPlot's x unit), one per hour. */
  times: number[];
  /** Per worker id: finished jobs in each hour. */
  jobs: Record<string, number[]>;
  /** Per worker id: megapixel-steps in each hour. */
  megapixelSteps: Record<string, number[]>;
  /** Totals over the window, per worker id. */
  totals: Record<string, { jobs: number; megapixelSteps: number }>;
}

export function hourlySeries(activity: WorkerActivityList, now: number = Date.now()): HourlySeries {
  const first = Math.floor(Date.parse(activity.since) / HOUR_MS) * HOUR_MS;
  const last = Math.floor(now / HOUR_MS) * HOUR_MS;
  const count = Math.max(1, Math.round((last - first) / HOUR_MS) + 1);
  const times = Array.from({ length: count }, (_, i) => (first + i * HOUR_MS) / 1000);
  const jobs: HourlySeries['jobs'] = {};
  const megapixelSteps: HourlySeries['megapixelSteps'] = {};
  const totals: HourlySeries['totals'] = {};
  for (const worker of activity.items) {
    const j = new Array<number>(count).fill(0);
    const m = new Array<number>(count).fill(0);
    const total = { jobs: 0, megapixelSteps: 0 };
    for (const h of worker.hours) {
      const i = Math.round((Date.parse(h.hour) - first) / HOUR_MS);
      total.jobs += h.jobs;
      total.megapixelSteps += h.megapixelSteps;
      if (i < 0 || i >= count) continue;
      j[i] = h.jobs;
      m[i] = h.megapixelSteps;
    }
    jobs[worker.workerId] = j;
    megapixelSteps[worker.workerId] = m;
    totals[worker.workerId] = {
      jobs: total.jobs,
      megapixelSteps: Math.round(total.megapixelSteps * 100) / 100,
    };
  }
  return { times, jobs, megapixelSteps, totals };
}
