import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { GenerationEvent } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { EventBus } from '../events/bus.js';
import type { JobRow } from './sql/read-generations.js';
import { generationStatus, isFinished } from './views.js';
import { preparedPerDialect } from '../db/prepared-per-dialect.js';

// Read after every finished image of a generation of several: compiled once per dialect.
const statesOfGeneration = preparedPerDialect(1, (db, generationId: string) =>
  db.selectFrom('jobs').select('state').where('generation_id', '=', generationId),
);

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
    void this.emitBeforeReplying(generationId, event);
  }

  /**
   * Publishes and waits until the event is out (on PostgreSQL: its NOTIFY committed). For an event that
   * must reach watchers before anything the reply lets the caller do next: a worker heartbeats as soon
   * as its pop is answered, and an unawaited `started` went out on another pool connection after that
   * heartbeat's `progress` under load. A failure is logged, never thrown: the reply still goes out.
   */
  async emitBeforeReplying(generationId: string, event: GenerationEvent): Promise<void> {
    try {
      await this.bus.publishGeneration({ generationId, event });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, generationId }, 'could not publish a generation event');
    }
  }

  /**
   * Images of a generation were cancelled (committed): `cancelled` with the reason, then `finished` if
   * nothing else is left. Never throws: the cancellation stands whether or not watchers hear of it.
   */
  async cancelled(generationId: string, reason: string): Promise<void> {
    this.emit(generationId, { type: 'cancelled', reason });
    await this.finishIfDone(generationId);
  }

  /**
   * After a job reached a final state (committed): announces `finished` once every job of the generation
   * has. A one-image generation is finished by definition, so it needs no read. Never throws: the state
   * change stands whether or not watchers hear of it (an upload's reply must not fail after its commit),
   * and an SSE client re-reads the snapshot when it reconnects.
   */
  async finishIfDone(generationId: string, single?: { n: number; state: JobRow['state'] }): Promise<void> {
    let jobs: Pick<JobRow, 'state'>[];
    try {
      jobs = single?.n === 1 ? [{ state: single.state }] : await statesOfGeneration(this.db, generationId);
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, generationId },
        'could not read whether a generation finished',
      );
      return;
    }
    const status = generationStatus(jobs);
    if (isFinished(status)) this.emit(generationId, { type: 'finished', status });
  }
}
