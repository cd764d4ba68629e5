import type { Kysely } from 'kysely';
import type { GenerationEvent } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { EventBus } from '../events/bus.js';
import { generationStatus, isFinished } from './views.js';

/** Publishes generation events after the state change they describe has committed. */
export class GenerationPublisher {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: EventBus,
  ) {}

  emit(generationId: string, event: GenerationEvent): Promise<void> {
    return this.bus.publishGeneration({ generationId, event });
  }

  /** After a job reached a final state: announces `finished` once every job of the generation has. */
  async finishIfDone(generationId: string): Promise<void> {
    const jobs = await this.db
      .selectFrom('jobs')
      .select('state')
      .where('generation_id', '=', generationId)
      .execute();
    const status = generationStatus(jobs);
    if (isFinished(status)) await this.emit(generationId, { type: 'finished', status });
  }
}
