// Compute spent on replication at steady state, with a mostly honest population, beside the same
// workload without replication (TRUST_VERIFY=checks: the cheap checks only) in the same run.
//
// A coordinator on SQLite (in this process, driven through app.inject: the figure is a ratio of work,
// not a speed) and a population of simulated donors, each its own account: BENCH_HONEST honest workers
// (default 9) and one that draws a wrong picture on 20 % of its jobs. Every worker "computes" a job by
// rendering the deterministic test pattern for its parameters; the coordinator's clock advances 100 ms
// per job so timing checks see plausible speeds. BENCH_IMAGES images (default 9,000) of 64×64 at 10 steps
// are submitted; work is counted in pixel-steps for every job a worker ran: images, replicas, and refused
// results. The steady-state figure is replica work over image work in the last third of the run, after
// every worker has built its verified record; the whole-run figure includes that warm-up. Beside the cost,
// what it buys: how many of the bad donor's wrong pictures are still public when the run ends. Wall times
// are printed for orientation only (this machine is shared; they vary by tens of percent).
//
// `npm run bench -- replication`. Environment: BENCH_IMAGES, BENCH_HONEST.
import { randomBytes } from 'node:crypto';
import { ManualClock, publicImages } from '@dreamfold/server';
import { auth, startTestCoordinator, type TestCoordinator } from '@dreamfold/server/testing';
import { testFingerprint, testPattern } from '@dreamfold/worker/testing';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 9000);
const HONEST = Number(process.env.BENCH_HONEST ?? 9);
const MODEL = 'bench-model';
const PIXEL_STEPS = 64 * 64 * 10;
const WINDOWS = 3;

interface Assignment {
  id: string;
  leaseId: string;
  params: Parameters<typeof testPattern>[0] & { seed: number; prompt: string };
}

interface RunResult {
  mode: string;
  imageWork: number[];
  replicaWork: number[];
  refusedWork: number;
  replicas: number;
  /** Wrong pictures the bad donor delivered as images, and how many of them are public at the end. */
  wrongImages: number;
  wrongPublic: number;
  seconds: number;
  states: Record<string, number>;
}

async function run(mode: 'full' | 'checks'): Promise<RunResult> {
  const clock = new ManualClock();
  const c: TestCoordinator = await startTestCoordinator({
    dialect: 'sqlite',
    clock,
    env: { TRUST_VERIFY: mode, LEASE_SECONDS: '600' },
    build: { reaperIntervalMs: 3_600_000 },
  });
  const started = performance.now();
  const donors: { key: string; wrongShare: number }[] = [];
  for (let i = 0; i <= HONEST; i++) {
    const owner = await c.createUser();
    const res = await c.app.inject({
      method: 'POST',
      url: '/v1/workers',
      headers: auth(owner.key),
      payload: { name: `bench-${i}` },
    });
    donors.push({ key: res.json().key as string, wrongShare: i === HONEST ? 0.2 : 0 });
  }
  const windowOf = (n: number) => Math.min(WINDOWS - 1, Math.floor((n * WINDOWS) / IMAGES));
  const imageWork = Array<number>(WINDOWS).fill(0);
  const replicaWork = Array<number>(WINDOWS).fill(0);
  let refusedWork = 0;
  let replicas = 0;
  let imagesDone = 0;
  /** By picture, not only by job: a withdrawn job is re-run, and its id is public again with the honest one. */
  const wrongImages: { id: string; sha256: string }[] = [];
  let submitted = 0;
  const submitMore = async () => {
    // A bounded backlog, like a live platform: requests keep arriving while workers run.
    while (submitted < IMAGES && submitted - imagesDone < 200) {
      const res = await c.app.inject({
        method: 'POST',
        url: '/v1/generations',
        headers: auth(c.userKey),
        payload: {
          prompt: `bench ${submitted % 13}`,
          model: MODEL,
          width: 64,
          height: 64,
          steps: 10,
          n: 4,
          seed: 1000 + submitted,
        },
      });
      if (res.statusCode !== 201) throw new Error(res.body);
      submitted += 4;
    }
  };

  // Finished when every image was submitted and no job is waiting or running (a job can also fail).
  const finished = async () => {
    if (submitted < IMAGES) return false;
    const open = await c.services.database.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'in', ['queued', 'leased'])
      .executeTakeFirstOrThrow();
    return Number(open.n) === 0;
  };
  const loop = async (donor: { key: string; wrongShare: number }) => {
    for (;;) {
      await submitMore();
      const popped = await c.app.inject({
        method: 'POST',
        url: '/v1/workers/pop',
        headers: auth(donor.key),
        payload: {
          backend: 'test-pattern',
          models: [MODEL],
          maxPixels: 4096,
          waitSeconds: 0,
          fingerprints: [{ model: MODEL, sha256: testFingerprint(MODEL) }],
        },
      });
      if (popped.statusCode === 403) return; // suspended
      const job = popped.json().job as Assignment | null;
      if (!job) {
        if (await finished()) return;
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const wrong = donor.wrongShare > 0 && randomBytes(1)[0]! / 256 < donor.wrongShare;
      const png = await testPattern(wrong ? { ...job.params, seed: job.params.seed + 7919 } : job.params);
      clock.advance(100);
      const res = await c.app.inject({
        method: 'PUT',
        url: `/v1/jobs/${job.id}/result?leaseId=${job.leaseId}`,
        headers: { ...auth(donor.key), 'content-type': 'image/png' },
        payload: png,
      });
      const replica = job.id.startsWith('rep_');
      if (res.statusCode !== 200) refusedWork += PIXEL_STEPS;
      else if (replica) {
        replicas++;
        replicaWork[windowOf(imagesDone)]! += PIXEL_STEPS;
      } else {
        imageWork[windowOf(imagesDone)]! += PIXEL_STEPS;
        imagesDone++;
        if (wrong) wrongImages.push({ id: job.id, sha256: res.json().sha256 as string });
      }
    }
  };
  await Promise.all(donors.map(loop));
  const seconds = (performance.now() - started) / 1000;
  const states: Record<string, number> = {};
  for (const r of await c.services.database.db.selectFrom('worker_trust').select('state').execute())
    states[r.state] = (states[r.state] ?? 0) + 1;
  const wrongSha = new Map(wrongImages.map((w) => [w.id, w.sha256]));
  const wrongPublic = wrongImages.length
    ? (
        await publicImages(c.services.database.db)
          .select(['public_job.id', 'public_job.result_sha256'])
          .where(
            'public_job.id',
            'in',
            wrongImages.map((w) => w.id),
          )
          .execute()
      ).filter((p) => p.result_sha256 === wrongSha.get(p.id)).length
    : 0;
  await c.shutdown();
  return {
    mode,
    imageWork,
    replicaWork,
    refusedWork,
    replicas,
    wrongImages: wrongImages.length,
    wrongPublic,
    seconds,
    states,
  };
}

const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;

console.log(
  `Replication: ${IMAGES} images of 64×64 × 10 steps, ${HONEST} honest donors and one that is wrong on 20 % of its jobs, each its own account; SQLite, in-process.`,
);
const baseline = await run('checks');
const replicated = await run('full');
for (const r of [baseline, replicated]) {
  const images = r.imageWork.reduce((a, b) => a + b, 0);
  const copies = r.replicaWork.reduce((a, b) => a + b, 0);
  const total = images + copies + r.refusedWork;
  console.log(
    `\n${r.mode === 'full' ? 'With replication (TRUST_VERIFY=full)' : 'Baseline, no replication (TRUST_VERIFY=checks)'}: ${r.replicas} replica runs; worker compute ${(total / 1e6).toFixed(1)} M pixel-steps = ${pct(total, images)} of the images' own; ${r.seconds.toFixed(1)} s; final states ${JSON.stringify(r.states)}`,
  );
  console.log(`  replica compute / image compute, whole run: ${pct(copies, images)}`);
  console.log(
    `  wrong pictures delivered as images: ${r.wrongImages}, still public at the end (what a release would take): ${r.wrongPublic}`,
  );
  r.replicaWork.forEach((w, i) =>
    console.log(
      `  images ${Math.round((i * IMAGES) / WINDOWS)}–${Math.round(((i + 1) * IMAGES) / WINDOWS)}: ${pct(w, r.imageWork[i]!)}${i === WINDOWS - 1 ? '  ← steady state (target ≤ 10 %)' : ''}`,
    ),
  );
}
