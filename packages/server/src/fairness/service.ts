// Fair to donors: a failure counts against a worker only when it was the worker's fault (failure-classes.ts);
// leases lost to a coordinator outage are excused; a donor pauses and resumes without penalty; every
// incident, every finished job's earnings and the reasons a worker gets no jobs are there to read.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely, Transaction } from 'kysely';
import type {
  IncidentClass,
  IncidentList,
  JobAssignment,
  PauseState,
  PopBody,
  ReceiptList,
  WorkerIncident,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { notFound } from '../errors.js';
import { toIso, toIsoOrUndefined } from '../ids.js';
import { decodeCursor, encodeCursor } from '../moderation/cursor.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import type { CoordinatorRuns } from './outages.js';
import { countsAgainstWorker } from './failure-classes.js';
import * as q from './queries.js';

export interface FairnessSettings {
  /** The longest a pop may wait (a paused worker's pop waits this long, then answers paused). */
  maxPopWaitMs: number;
}

/** The worker principal. */
type WorkerCaller = { workerId: string; userId: string };

/** What a paused worker's poll refreshes on its record, at most this often (it stays "online"). */
const TOUCH_EVERY_MS = 15_000;

export class FairnessService {
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    readonly runs: CoordinatorRuns,
    private readonly settings: FairnessSettings,
  ) {}

  // --- lease lifecycle (see lease-hooks.ts) ---------------------------------------------------------

  async jobFailed(
    trx: Transaction<Database>,
    job: JobRow,
    failure: { class: IncidentClass; reason: string; now: number },
  ): Promise<void> {
    if (!job.worker_id) return;
    const counts = countsAgainstWorker(failure.class);
    await q.insertIncidents(trx, [
      {
        workerId: job.worker_id,
        jobId: job.id,
        class: failure.class,
        counts,
        reason: failure.reason,
        now: failure.now,
      },
    ]);
    if (!counts) await q.countExcused(trx, job.worker_id, 1);
  }

  async takeBackOutageLeases(trx: Transaction<Database>, now: number): Promise<q.TakenBack[]> {
    const rows = await q.takeBackOutageLeases(trx, { now, ranges: this.runs.excused() });
    const byWorker = new Map<string, number>();
    for (const r of rows) if (r.worker_id) byWorker.set(r.worker_id, (byWorker.get(r.worker_id) ?? 0) + 1);
    await q.insertIncidents(
      trx,
      rows.flatMap((r) =>
        r.worker_id
          ? [
              {
                workerId: r.worker_id,
                jobId: r.id,
                class: 'coordinator_outage',
                counts: false,
                reason: q.OUTAGE_REASON,
                now,
              },
            ]
          : [],
      ),
    );
    for (const [workerId, n] of byWorker) await q.countExcused(trx, workerId, n);
    return rows;
  }

  async leasesExpired(
    trx: Transaction<Database>,
    expired: readonly q.TakenBack[],
    now: number,
  ): Promise<void> {
    await q.insertIncidents(
      trx,
      expired.flatMap((r) =>
        r.worker_id
          ? [
              {
                workerId: r.worker_id,
                jobId: r.id,
                class: 'lease_expired',
                counts: countsAgainstWorker('lease_expired'),
                reason: 'The worker stopped heartbeating and its lease ran out.',
                now,
              },
            ]
          : [],
      ),
    );
  }

  // --- pause, pop ------------------------------------------------------------------------------------

  /**
   * A paused worker's pop waits out its long-poll without joining the waiters (it must not take a
   * wake-up meant for a worker that can work) and answers `paused: true`. Its record stays fresh, so it
   * is not "offline"; nothing counts against it. The claim itself never leases to a paused worker, so
   * the pause is read only when the pop found nothing and would wait (`mayWait`): a pop that gets a job
   * at once, the busy case, costs no read for it.
   */
  async pop(
    caller: WorkerCaller,
    body: PopBody,
    signal: AbortSignal,
    popJob: (mayWait: () => Promise<boolean>) => Promise<JobAssignment | null>,
  ): Promise<{ job: JobAssignment | null; paused?: boolean }> {
    let paused = false;
    const job = await popJob(async () => {
      const at = await q.pausedAt(this.db, caller.workerId);
      paused = at !== null && at !== undefined;
      return !paused;
    });
    if (job || !paused) return { job };
    const now = this.clock.now();
    if (now - (this.touched.get(caller.workerId) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(caller.workerId, now);
      await q.touchWorker(this.db, caller.workerId, now);
    }
    const waitMs = Math.min(this.settings.maxPopWaitMs, (body.waitSeconds ?? 30) * 1000);
    await sleep(waitMs, undefined, { signal }).catch(() => {});
    return { job: null, paused: true };
  }

  async setPaused(workerId: string, paused: boolean): Promise<PauseState> {
    await q.setPaused(this.db, { workerId, at: paused ? this.clock.now() : null });
    const at = await q.pausedAt(this.db, workerId);
    return { workerId, paused: at !== null && at !== undefined, pausedAt: toIsoOrUndefined(at ?? null) };
  }

  /** The worker if this user owns it; anyone else's worker does not exist for them. */
  async owned(userId: string, workerId: string): Promise<q.FairnessWorkerRow> {
    const row = await q.findWorker(this.db, workerId);
    if (!row || row.user_id !== userId) throw notFound('Worker');
    return row;
  }

  // --- receipts and incidents ---------------------------------------------------------------------------

  async receipts(workerId: string, limit: number, cursor: string | undefined): Promise<ReceiptList> {
    const after = decodeCursor(cursor, ['number', 'string'] as const);
    const [rows, totalCredits] = await Promise.all([
      q.receiptsOf(this.db, { workerId, limit, after }),
      q.totalEarned(this.db, workerId),
    ]);
    const last = rows.at(-1);
    return {
      items: rows.map((r) => ({
        jobId: r.id,
        model: r.model,
        width: r.width,
        height: r.height,
        steps: r.steps,
        credits: r.platformAmount === null ? 0 : -Number(r.platformAmount),
        status: !r.transferId
          ? ('none' as const)
          : r.heldAmount !== null
            ? ('held' as const)
            : ('paid' as const),
        transferId: r.transferId ?? undefined,
        finishedAt: toIso(r.finishedAt ?? 0),
      })),
      totalCredits,
      nextCursor: rows.length === limit && last ? encodeCursor([last.finishedAt ?? 0, last.id]) : undefined,
    };
  }

  /** What one finished job earned, for the worker's log. */
  async receiptFor(jobId: string): Promise<{ credits: number; held?: boolean; transferId?: string }> {
    return (await q.earningOfJob(this.db, jobId)) ?? { credits: 0 };
  }

  async incidents(workerId: string, limit: number, cursor: string | undefined): Promise<IncidentList> {
    const after = decodeCursor(cursor, ['number', 'string'] as const);
    const [rows, totals] = await Promise.all([
      q.incidentsOf(this.db, { workerId, limit, after }),
      q.incidentTotals(this.db, workerId),
    ]);
    const last = rows.at(-1);
    return {
      items: rows.map(toIncident),
      ...totals,
      nextCursor: rows.length === limit && last ? encodeCursor([last.created_at, last.id]) : undefined,
    };
  }
}

export function toIncident(r: q.IncidentRow): WorkerIncident {
  return {
    jobId: r.job_id,
    class: r.class as IncidentClass,
    countsAgainstWorker: r.counts === 1,
    reason: r.reason,
    at: toIso(r.created_at),
  };
}
