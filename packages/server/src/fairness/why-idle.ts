// "Why does my worker get no jobs?" answered from the same facts the queue uses: the worker's state, its
// filters (models, maxPixels, measured speed against requesters' limits) and what is waiting, grouped by
// model and size. The reasons come first, in words; the numbers follow for a dashboard.
import type { Kysely } from 'kysely';
import type { DemandGroup, WhyIdle, WorkerState } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import { toIsoOrUndefined } from '../ids.js';
import { ONLINE_WINDOW_MS } from '../workers/worker-service.js';
import { toIncident } from './service.js';
import * as q from './queries.js';

const DEMAND_GROUPS = 20;
const RECENT_INCIDENTS = 5;

export async function whyIdle(
  db: Kysely<Database>,
  now: number,
  worker: q.FairnessWorkerRow,
): Promise<WhyIdle> {
  const models = JSON.parse(worker.models) as string[];
  const speed = worker.ms_per_mpx_step;
  const [leased, groups, queuedTotal, incidents] = await Promise.all([
    q.leasedJobsOf(db, worker.id),
    q.queueDemand(db, { speed, limit: DEMAND_GROUPS }),
    q.countQueuedJobs(db),
    q.incidentsOf(db, { workerId: worker.id, limit: RECENT_INCIDENTS }),
  ]);

  const online = worker.last_seen_at !== null && now - worker.last_seen_at < ONLINE_WINDOW_MS;
  const state: WorkerState =
    worker.revoked_at !== null
      ? 'revoked'
      : worker.ownerSuspendedAt !== null || worker.trustState === 'suspended'
        ? 'suspended'
        : worker.paused_at !== null
          ? 'paused'
          : online
            ? 'active'
            : 'offline';

  const judged = groups.map((g) => {
    let why: string | undefined;
    if (!models.includes(g.model)) why = `needs model ${g.model}, which this worker does not serve`;
    else if (g.pixels > worker.max_pixels)
      why = `needs ${g.pixels} pixels; this worker takes at most ${worker.max_pixels}`;
    else if (g.tooSlow === g.queued)
      why =
        speed === null
          ? 'the requesters accept only workers with a measured speed, and this one has none yet'
          : 'the requesters ask for faster workers than this one';
    return {
      model: g.model,
      pixels: g.pixels,
      queued: g.queued,
      servable: why === undefined,
      why,
      tooSlow: g.tooSlow,
    };
  });
  const demand: DemandGroup[] = judged.map(({ tooSlow: _, ...g }) => g);

  const reasons: string[] = [];
  if (state === 'revoked')
    reasons.push('This worker’s key was revoked: register a new worker to donate again.');
  if (worker.ownerSuspendedAt !== null) reasons.push('The account that owns this worker is suspended.');
  else if (worker.trustState === 'suspended') {
    reasons.push(`Suspended by result verification: ${worker.trustReason ?? 'its results failed checks'}.`);
  } else if (worker.trustState === 'probation') {
    reasons.push(
      `On probation (its results are double-checked): ${worker.trustReason ?? 'recent results failed checks'}.`,
    );
  }
  if (state === 'paused') {
    reasons.push(
      `Paused by its owner${worker.paused_at ? ` since ${toIsoOrUndefined(worker.paused_at)}` : ''}: it takes no jobs until resumed (\`dreamfold worker resume\`). Pausing costs nothing.`,
    );
  }
  if (state === 'offline') {
    reasons.push(
      worker.last_seen_at === null
        ? 'The worker has never asked for a job: start it with its key.'
        : `The worker has not asked for a job since ${toIsoOrUndefined(worker.last_seen_at)}: is it running and can it reach the coordinator?`,
    );
  }
  if (leased.length > 0)
    reasons.push(`It is working on ${leased.length === 1 ? 'a job' : `${leased.length} jobs`} now.`);
  if (queuedTotal === 0) {
    reasons.push('Nothing is waiting: no requests are queued for any model.');
  } else {
    const sum = (f: (g: DemandGroup) => boolean) => judged.filter(f).reduce((a, g) => a + g.queued, 0);
    const otherModels = judged.filter((g) => !models.includes(g.model));
    if (otherModels.length > 0) {
      const byModel = new Map<string, number>();
      for (const g of otherModels) byModel.set(g.model, (byModel.get(g.model) ?? 0) + g.queued);
      const list = [...byModel].map(([m, n]) => `${m} (${n})`).join(', ');
      reasons.push(
        `${sum((g) => !models.includes(g.model))} queued jobs need models this worker does not serve: ${list}.`,
      );
    }
    const tooBig = sum((g) => models.includes(g.model) && g.pixels > worker.max_pixels);
    if (tooBig > 0)
      reasons.push(`${tooBig} queued jobs are larger than its maxPixels (${worker.max_pixels}).`);
    const tooSlow = judged
      .filter((g) => models.includes(g.model) && g.pixels <= worker.max_pixels)
      .reduce((a, g) => a + g.tooSlow, 0);
    if (tooSlow > 0) {
      reasons.push(
        speed === null
          ? `${tooSlow} queued jobs accept only workers with a measured speed; this worker gets one after its first finished job.`
          : `${tooSlow} queued jobs ask for faster workers than its measured ${speed.toFixed(0)} ms per megapixel-step.`,
      );
    }
    const servable = judged.filter((g) => g.servable).reduce((a, g) => a + g.queued - g.tooSlow, 0);
    if (servable > 0 && state === 'active') {
      reasons.push(`${servable} queued jobs fit this worker; it gets one on its next poll.`);
    }
    if (servable === 0 && reasons.length === 0)
      reasons.push('No queued job fits this worker’s models and size.');
  }

  return {
    workerId: worker.id,
    state,
    idle: leased.length === 0,
    reasons,
    filters: { models, maxPixels: worker.max_pixels, msPerMegapixelStep: speed ?? undefined },
    demand,
    queuedTotal,
    recentIncidents: incidents.map(toIncident),
    pausedAt: toIsoOrUndefined(worker.paused_at),
    lastSeenAt: toIsoOrUndefined(worker.last_seen_at),
  };
}
