// Prometheus metrics, one registry per app instance (tests run many apps in one process).
// Gauges that mirror the database (jobs by state, workers online) are computed at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  jobsByState(): Promise<{ state: string; count: number }[]>;
  workersOnline(): Promise<number>;
  waitingWorkers(): number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'dreamfold_http_request_duration_seconds',
    help: 'HTTP request latency by route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
    registers: [this.registry],
  });
  readonly popWait = new Histogram({
    name: 'dreamfold_pop_wait_seconds',
    help: 'Time a worker waited in pop before it received a job.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  });
  readonly leaseExpiries = new Counter({
    name: 'dreamfold_lease_expiries_total',
    help: 'Leases that expired and were taken back from their worker.',
    registers: [this.registry],
  });
  readonly jobsCompleted = new Counter({
    name: 'dreamfold_jobs_completed_total',
    help: 'Jobs whose image was validated and stored.',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources, options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'dreamfold_' });
    new Gauge({
      name: 'dreamfold_jobs',
      help: 'Jobs by state.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { state, count } of await sources.jobsByState()) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'dreamfold_queue_depth',
      help: 'Jobs waiting for a worker.',
      registers: [this.registry],
      async collect() {
        const rows = await sources.jobsByState();
        this.set(rows.find((r) => r.state === 'queued')?.count ?? 0);
      },
    });
    new Gauge({
      name: 'dreamfold_workers_online',
      help: 'Workers seen in the last minute.',
      registers: [this.registry],
      async collect() {
        this.set(await sources.workersOnline());
      },
    });
    new Gauge({
      name: 'dreamfold_workers_waiting',
      help: 'Workers currently long-polling on this replica.',
      registers: [this.registry],
      collect() {
        this.set(sources.waitingWorkers());
      },
    });
  }
}
