// Whose fault a failed job was. One function decides, so the failure counter on the workers table, the
// incidents a donor sees, and the verification side's reputation all agree.
import type { IncidentClass } from '@dreamfold/protocol';

/**
 * True when a job that ended this way should count against the worker that held it.
 *
 * - worker: the worker's own fault (it crashed, ran out of memory, produced something unusable).
 * - lease_expired: it stopped heartbeating while the coordinator was up.
 * - request: the request cannot succeed anywhere (bad parameters); the job fails at once, for everyone.
 * - model_mismatch: this worker's copy of the model cannot serve the request; another worker may.
 * - coordinator_outage: its lease ran out while the coordinator was down or had just come back, so it had
 *   no way to heartbeat.
 *
 * A worker could claim "request" to dodge a count; it gains little (the job fails for its requester, who
 * is refunded), and each claim is kept as an incident with its class so a pattern is visible.
 */
export function countsAgainstWorker(reason: IncidentClass): boolean {
  switch (reason) {
    case 'worker':
    case 'lease_expired':
      return true;
    case 'request':
    case 'model_mismatch':
    case 'coordinator_outage':
      return false;
  }
}
