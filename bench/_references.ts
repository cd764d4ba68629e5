// The two yardsticks issue 3 gives its queue targets "for scale", measured in the same run as the figures
// they scale: a no-op Fastify route under autocannon (the issue: ~75k req/s) and a bare PostgreSQL
// `SKIP LOCKED` claim-and-complete loop (the issue: ~4.7k jobs/s). This machine's speed changes by 2× from
// one minute to the next (other tenants), so a target is judged as a share of its yardstick measured
// minutes, not sessions, apart: 2,000 cycles/s against 75k is 2.67 % of the no-op route.
import autocannon from 'autocannon';
import pg from 'pg';

/** The issue's yardsticks and targets, as it states them. */
export const ISSUE_SCALE = {
  noopRps: 75_000,
  skipLockedJobsPerSecond: 4_700,
  sqliteCycles: 2_000,
  postgresCycles: 1_000,
} as const;

/** Requests/s autocannon gets from `url` with `connections` connections (no pipelining) for `ms`. */
export async function autocannonRps(url: string, connections: number, ms: number): Promise<number> {
  // One second of warm-up (JIT, connections) that does not count.
  await autocannon({ url, connections, duration: 1 });
  const r = await autocannon({ url, connections, duration: ms / 1000 });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`no-op route: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.total / (r.duration || ms / 1000);
}

/**
 * Jobs/s of the plainest PostgreSQL queue: `clients` connections each claim the oldest queued row with
 * `FOR UPDATE SKIP LOCKED` and mark it done, one autocommitted statement each, on a scratch table of
 * `jobs` rows in the database at `url` (created and dropped here). Prepared statements, as pg sends them
 * when named.
 */
export async function skipLockedJobsPerSecond(url: string, clients: number, ms: number): Promise<number> {
  const table = `bench_skip_locked_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const pool = new pg.Pool({ connectionString: url, max: clients });
  try {
    await admin.query(`create table ${table} (id bigserial primary key, state text not null,
      priority int not null default 0, created_at bigint not null, worker_id text)`);
    await admin.query(`create index on ${table} (priority desc, created_at, id) where state = 'queued'`);
    // More rows than any run here can claim: the loop never runs dry.
    await admin.query(
      `insert into ${table} (state, created_at) select 'queued', g from generate_series(1, 300000) g`,
    );
    await admin.query(`analyze ${table}`);
    const claim = {
      name: `${table}_claim`,
      text: `update ${table} set state = 'leased', worker_id = $1 where id = (select id from ${table}
        where state = 'queued' order by priority desc, created_at, id limit 1 for update skip locked)
        returning id`,
    };
    const complete = { name: `${table}_done`, text: `update ${table} set state = 'done' where id = $1` };
    const loop = async (deadline: number, worker: string) => {
      const c = await pool.connect();
      let done = 0;
      try {
        while (performance.now() < deadline) {
          const r = await c.query<{ id: string }>({ ...claim, values: [worker] });
          const row = r.rows[0];
          if (!row) throw new Error('the scratch queue ran dry');
          await c.query({ ...complete, values: [row.id] });
          done++;
        }
      } finally {
        c.release();
      }
      return done;
    };
    const run = async (runMs: number) => {
      const started = performance.now();
      const counts = await Promise.all(
        Array.from({ length: clients }, (_, i) => loop(started + runMs, `w${i}`)),
      );
      return counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000);
    };
    await run(1000); // warm-up: connections, plans, caches
    return await run(ms);
  } finally {
    await pool.end();
    await admin.query(`drop table if exists ${table}`);
    await admin.end();
  }
}

/** "1,234/s is 61 % of the issue's 2,000 scaled by this run's yardstick (…): met / missed." */
export function scaledTarget(
  label: string,
  rate: number,
  target: number,
  yardstick: { name: string; issue: number; measured: number },
): string {
  const scaled = (target * yardstick.measured) / yardstick.issue;
  const share = (100 * rate) / scaled;
  return (
    `${label}: ${Math.round(rate).toLocaleString('en-US')}/s against ${Math.round(scaled).toLocaleString('en-US')}/s ` +
    `(the issue's ${target.toLocaleString('en-US')} × this run's ${yardstick.name} ` +
    `${Math.round(yardstick.measured).toLocaleString('en-US')} / the issue's ${yardstick.issue.toLocaleString('en-US')}): ` +
    `${share.toFixed(0)} % — ${share >= 100 ? 'met' : 'missed'}`
  );
}
