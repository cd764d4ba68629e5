import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { GenerationEvent } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { EventBus } from '../events/bus.js';
import type { JobRow } from './sql/read-generations.js';
import { generationStatus, isFinished } from './views.js';

/** Publishes generation events after the state change they describe has committed. */
export class GenerationPublisher {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /**
   * Sends an event without making the caller wait for it: a lost progress event must never fail a
   * worker's heartbeat or upload, and an SSE client re-reads the snapshot when it reconnects.
   */
  emit(generationId: string, event: GenerationEvent): void {
    this.bus.publishGeneration({ generationId, event }).catch((err: Error) => {
      this.log.warn({ err: err.message, generationId }, 'could not publish a generation event');
    });
  }

  /**
   * After a job reached a final state: announces `finished` once every job of the generation has.
   * A one-image generation is finished by definition, so it needs no read.
   */
  async finishIfDone(generationId: string, single?: { n: number; state: JobRow['state'] }): Promise<void> {
    const jobs =
      single?.n === 1
        ? [{ state: single.state }]
        : await this.db
            .selectFrom('jobs')
            .select('state')
            .where('generation_id', '=', generationId)
            .execute();
    const status = generationStatus(jobs);
    if (isFinished(status)) this.emit(generationId, { type: 'finished', status });
  }
}
