// Jobs a new prompt-filter rule stopped before they were made (reevaluation.ts): their requesters get each
// job's share of the reservation back in the page's transaction, and hear of it through the generation's
// events after it committed — the same `failed` and `finished` events as any job failed for good.
import type { CreditsService } from '../credits/service.js';
import type { GenerationPublisher } from '../jobs/publisher.js';
import type { FailedJobs } from './reevaluation.js';

export function failedJobs(
  credits: Pick<CreditsService, 'jobsRefunded'>,
  publisher: Pick<GenerationPublisher, 'emit' | 'finishIfDone'>,
): FailedJobs {
  return {
    async refund(trx, jobs) {
      await credits.jobsRefunded(
        trx,
        jobs.map((j) => ({ id: j.id, generationId: j.generationId })),
        'Refunded: a content rule added after these images were queued refuses their prompt.',
      );
    },
    async announce(jobs) {
      for (const j of jobs)
        publisher.emit(j.generationId, { type: 'failed', index: j.index, reason: j.reason });
      for (const generationId of new Set(jobs.map((j) => j.generationId)))
        await publisher.finishIfDone(generationId);
    },
  };
}
