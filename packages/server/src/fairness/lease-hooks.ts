// What output safety and fairness add to the lease lifecycle (workers/lease-service.ts), each step inside
// the transaction of the state change it belongs to: a finished image gets its safety row (its worker's
// speed is folded in with the job count, jobs/sql/complete-job.ts); a failure and an expiry get an incident saying whether it counts against the worker;
// leases that ran out while the coordinator was down go back to the queue excused.
import type { Transaction } from 'kysely';
import type { IncidentClass } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { JobRow } from '../jobs/sql/read-generations.js';
import type { SafetyService } from '../safety/service.js';
import type { TakenBack } from './queries.js';
import type { FairnessService } from './service.js';

export interface LeaseHooks {
  /** In the transaction that marked the job done. */
  jobCompleted(trx: Transaction<Database>, job: JobRow, now: number): Promise<void>;
  /** After that transaction committed. */
  jobStored(job: JobRow): void;
  /** In the transaction that recorded the worker's failure report (job as it is after the update). */
  jobFailed(
    trx: Transaction<Database>,
    job: JobRow,
    failure: { class: IncidentClass; reason: string; now: number },
  ): Promise<void>;
  /** In the reaper's transaction, before ordinary expiry: leases that ran out during an outage. */
  takeBackOutageLeases(trx: Transaction<Database>, now: number): Promise<TakenBack[]>;
  /** In the reaper's transaction, after ordinary expiry. */
  leasesExpired(trx: Transaction<Database>, expired: readonly TakenBack[], now: number): Promise<void>;
}

export function leaseHooks(safety: SafetyService, fairness: FairnessService): LeaseHooks {
  return {
    async jobCompleted(trx, job, now) {
      await safety.imageFinished(trx, job.id, now);
    },
    jobStored() {
      safety.imageStored();
    },
    jobFailed: (trx, job, failure) => fairness.jobFailed(trx, job, failure),
    takeBackOutageLeases: (trx, now) => fairness.takeBackOutageLeases(trx, now),
    leasesExpired: (trx, expired, now) => fairness.leasesExpired(trx, expired, now),
  };
}
