// The jobs this coordinator handed out, by lease, so that the result coming back under that lease needs
// no read of its job first. A job's fields a result uses (generation, index, seed, model, when it was
// leased) do not change while the lease lasts, and the result is committed only under the lease fence
// (jobs/sql/complete-job.ts: this lease, still leased), so a remembered row can at worst be stale in its
// state: the job was cancelled, or its lease expired and went to another worker. Then the completion
// finds nothing and the job is read to say why (lease-results.ts), as before, just after the upload was
// checked instead of before. On PostgreSQL that is one round trip fewer per job cycle, on SQLite one
// statement.
//
// A result reaching another replica than the one that handed out its lease, or after a restart, finds
// nothing here and reads the job as before.
import type { JobRow } from '../jobs/sql/read-generations.js';

/**
 * Leases outstanding at once: one per busy worker, so this only bounds memory against leases whose
 * worker never came back (each ends in the database; here it leaves in handout order, or at a heartbeat
 * that finds the lease gone). A job row with its key is ~700 bytes of heap: 14 MB at most (measured).
 */
const MAX_REMEMBERED = 20_000;

export class HandedOutLeases {
  private readonly byLease = new Map<string, JobRow>();

  constructor(private readonly max = MAX_REMEMBERED) {}

  remember(job: JobRow): void {
    if (job.lease_id === null) return;
    if (this.byLease.size >= this.max) {
      const oldest = this.byLease.keys().next();
      if (!oldest.done) this.byLease.delete(oldest.value);
    }
    this.byLease.set(job.lease_id, job);
  }

  /** The job handed out under this lease to this worker, if this coordinator did and still remembers it. */
  find(jobId: string, leaseId: string, workerId: string): JobRow | undefined {
    const job = this.byLease.get(leaseId);
    return job && job.id === jobId && job.worker_id === workerId ? job : undefined;
  }

  /** The lease of this worker ended (result stored, failure or hand-back recorded, found gone). */
  forget(leaseId: string, workerId: string): void {
    // Another worker naming this lease (refused with lease_lost) ends nothing.
    if (this.byLease.get(leaseId)?.worker_id === workerId) this.byLease.delete(leaseId);
  }

  get size(): number {
    return this.byLease.size;
  }
}
