// Errors are values with codes: the daemon decides what to do (retry, drop the job, stop) by code.

/** The coordinator could not be reached or answered 5xx/429: try again later. */
export class TransientError extends Error {
  readonly code = 'coordinator_unavailable';
  constructor(
    message: string,
    /** From Retry-After, when the coordinator said how long to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The coordinator answered with a problem (4xx); `type` is its stable code (lease_lost, job_cancelled, …). */
export class ProblemError extends Error {
  readonly code = 'coordinator_problem';
  constructor(
    readonly status: number,
    readonly type: string,
    detail: string,
  ) {
    super(`${status} ${type}: ${detail}`);
  }
}

/** Something the worker cannot recover from by retrying (bad key, bad configuration). */
export class FatalWorkerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Problems that mean "this job is no longer yours": drop it and pop the next one. */
export const DROP_JOB_TYPES: ReadonlySet<string> = new Set(['lease_lost', 'job_cancelled', 'not_found']);

export function isDropJob(err: unknown): err is ProblemError {
  return err instanceof ProblemError && DROP_JOB_TYPES.has(err.type);
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
