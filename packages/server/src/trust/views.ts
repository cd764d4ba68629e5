// What a worker's owner (and staff) read about its standing: the reputation page and the events behind
// it. Another owner's worker answers 404, like one that does not exist.
import type { Kysely } from 'kysely';
import type { TrustEvent, TrustEventList, WorkerReputation } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { CreditsService } from '../credits/service.js';
import { notFound } from '../errors.js';
import { toIso } from '../ids.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { replicationChance } from './policy.js';
import type { Standing } from './standing.js';
import type { Fingerprints } from './fingerprints.js';
import { listEvents, workerOfOwner, type EventRow } from './sql/events.js';

type Viewer = { userId: string; staff: boolean };

export class ReputationViews {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly standing: Standing,
    private readonly fingerprints: Fingerprints,
    private readonly credits: CreditsService,
    /** Whether replication runs (full mode): otherwise no result gets a second opinion. */
    private readonly replicating: boolean,
  ) {}

  async reputation(viewer: Viewer, workerId: string): Promise<WorkerReputation> {
    const worker = await this.owned(viewer, workerId);
    const row = await this.standing.row(this.db, workerId);
    const accepted = Number(row.accepted);
    const verified = Number(row.verified);
    const overturned = Number(row.overturned);
    const rejected = Number(row.rejected);
    // Failures that count against it (fairness/failure-classes.ts), refused results included.
    const failed = Number(worker.jobs_failed);
    const compared = verified + overturned;
    const attempts = accepted + failed;
    const chance = this.replicating ? replicationChance(row, this.standing.policy) : 0;
    return {
      workerId,
      state: row.state,
      ...(row.reason ? { reason: row.reason } : {}),
      stateSince: toIso(Number(row.state_changed_at)),
      replicationPercent: Math.round(chance * 1000) / 10,
      results: { accepted, verified, overturned, rejected, failed },
      ...(compared > 0 ? { agreementRate: verified / compared } : {}),
      ...(attempts > 0 ? { failureRate: failed / attempts } : {}),
      // The one average (fairness's, workers.ms_per_mpx_step): what the queue and ETAs use too.
      ...(worker.ms_per_mpx_step !== null ? { msPerMegapixelStep: Number(worker.ms_per_mpx_step) } : {}),
      strikes: Number(row.strikes),
      heldCredits: await this.credits.held.balance(this.db, workerId),
      fingerprints: await this.fingerprints.statuses(workerId, JSON.parse(worker.models) as string[]),
      recentEvents: (await listEvents(this.db, { workerId, limit: 10 })).map(eventView),
    };
  }

  async events(
    viewer: Viewer,
    workerId: string,
    limit: number,
    cursor: string | undefined,
    kind?: TrustEvent['kind'],
  ): Promise<TrustEventList> {
    await this.owned(viewer, workerId);
    const rows = await listEvents(this.db, { workerId, limit, before: decodeCursor(cursor), kind });
    const last = rows.at(-1);
    return {
      items: rows.map(eventView),
      nextCursor:
        rows.length === limit && last
          ? encodeCursor({ createdAt: Number(last.created_at), id: last.id })
          : undefined,
    };
  }

  private async owned(viewer: Viewer, workerId: string) {
    const worker = await workerOfOwner(this.db, workerId);
    if (!worker || (worker.user_id !== viewer.userId && !viewer.staff)) throw notFound('Worker');
    return worker;
  }
}

function eventView(e: EventRow): TrustEvent {
  return {
    id: e.id,
    kind: e.kind,
    ...(e.check_name ? { check: e.check_name } : {}),
    ...(e.job_id ? { jobId: e.job_id } : {}),
    ...(e.state ? { state: e.state } : {}),
    detail: e.detail,
    at: toIso(Number(e.created_at)),
  };
}
