// The prompt filter at the second place a prompt enters the system: the hand-out to a worker. A prompt is
// checked when it is submitted (jobs/routes.ts), but a rule an admin adds later must also stop what is
// already queued from being generated. So every job handed out is checked against the current rules (the
// compiled rules are cached; a check is a few regex matches); one that breaks a rule fails at once, as a
// request that cannot succeed — refunded, never counted against the worker — and the worker is given the
// next job instead. (A rule change also fails what is queued or being made at once, refunded, whether or
// not a worker ever asks for it: safety/reevaluation.ts. This gate covers the moments in between.)
import type { JobAssignment, PopBody } from '@dreamfold/protocol';
import { AppError } from '../errors.js';
import type { PromptFilter } from '../moderation/prompt-filter.js';
import type { LeaseService } from '../workers/lease-service.js';

type WorkerCaller = { workerId: string; userId: string };

/** Jobs failed in one poll before the worker is sent away empty-handed (it polls again). */
const MAX_REFUSED_PER_POLL = 16;

/** Why the rules refuse these parameters now, or undefined when they pass. */
export async function promptRefusal(
  filter: PromptFilter,
  params: JobAssignment['params'],
): Promise<string | undefined> {
  try {
    await filter.check([
      { path: 'prompt', label: 'prompt', text: params.prompt },
      { path: 'negativePrompt', label: 'negative prompt', text: params.negativePrompt },
    ]);
    return undefined;
  } catch (err) {
    if (err instanceof AppError && err.code === 'prompt_rejected') return err.detail;
    throw err;
  }
}

/** The error a job stopped by a rule added after it was queued reads (here, or safety/reevaluation.ts). */
export function withdrawnBeforeGeneration(detail: string): string {
  return `Withdrawn before generation: a content rule added after it was queued refuses it. ${detail}`;
}

export async function popScreened(
  filter: PromptFilter,
  leases: LeaseService,
  caller: WorkerCaller,
  body: PopBody,
  signal: AbortSignal,
  /** Asked before the long-poll waits; false ends it empty-handed (see LeaseService.pop). */
  mayWait?: () => Promise<boolean>,
): Promise<JobAssignment | null> {
  let poll = body;
  for (let refused = 0; refused < MAX_REFUSED_PER_POLL; refused++) {
    const job = await leases.pop(caller, poll, signal, refused === 0 ? mayWait : undefined);
    if (!job) return null;
    const refusal = await promptRefusal(filter, job.params);
    if (!refusal) return job;
    await leases.fail(caller, job.id, {
      leaseId: job.leaseId,
      reason: withdrawnBeforeGeneration(refusal).slice(0, 2000),
      retryable: false,
      failureClass: 'request',
    });
    // The long-poll already waited; what is left is handed out now or not at all.
    poll = { ...body, waitSeconds: 0 };
  }
  return null;
}
