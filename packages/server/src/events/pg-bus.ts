import pg from 'pg';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Logger } from 'pino';
import type { EventBus, GenerationNotice, JobsAvailable } from './bus.js';
import { LocalListeners } from './local-listeners.js';

const JOBS_CHANNEL = 'dreamfold_jobs';
const GENERATION_CHANNEL = 'dreamfold_generation';

/**
 * SQL that sends one generation event from inside a statement, on the channel and in the payload shape
 * publishGeneration uses (a JSON array of { generationId, event }): EventBus.generationNoticeSql.
 */
function generationNoticeSql(generationId: RawBuilder<unknown>, event: RawBuilder<unknown>) {
  return sql`pg_notify(${GENERATION_CHANNEL},
    json_build_array(json_build_object('generationId', ${generationId}, 'event', ${event}))::text)`;
}

/** Generation events sent in one NOTIFY at most: NOTIFY payloads are limited to 8000 bytes. */
const MAX_BATCH_CHARS = 7000;

interface Outgoing {
  json: string;
  sent: () => void;
  failed: (err: unknown) => void;
}

/**
 * PostgreSQL LISTEN/NOTIFY bus, for several coordinator replicas on one database. One dedicated
 * connection listens; notifications are sent through the shared pool. Generation events are sent in
 * batches: those published while a NOTIFY is on its way go together in the next one, as a JSON array,
 * one NOTIFY at a time. Under load that is one statement (and one notification for every replica to
 * parse) for many events instead of one each, and the events of a generation keep their order. If the
 * listening connection drops it reconnects; events sent meanwhile are missed, which is why long-polls
 * also re-check the queue on a slow safety timer.
 */
export class PgBus implements EventBus {
  private readonly local = new LocalListeners();
  private listener: pg.Client | undefined;
  private closed = false;
  private readonly outgoing: Outgoing[] = [];
  private sending = false;

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  static async connect(url: string, log: Logger): Promise<PgBus> {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on('error', (err) => log.warn({ err: err.message }, 'an idle event-bus connection was closed'));
    const bus = new PgBus(url, pool, log);
    await bus.listen();
    return bus;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => this.dispatch(msg.channel, msg.payload));
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'event listener connection lost; reconnecting');
      this.listener = undefined;
      void client.end().catch(() => {});
      if (!this.closed) setTimeout(() => void this.listen().catch(() => {}), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${JOBS_CHANNEL}`);
    await client.query(`LISTEN ${GENERATION_CHANNEL}`);
    this.listener = client;
  }

  private dispatch(channel: string, payload: string | undefined): void {
    if (!payload) return;
    try {
      if (channel === JOBS_CHANNEL) this.local.emitJobs(JSON.parse(payload) as JobsAvailable);
      else if (channel === GENERATION_CHANNEL) {
        const notices = JSON.parse(payload) as GenerationNotice | GenerationNotice[];
        // One notice is what a replica of an earlier version sends.
        for (const n of Array.isArray(notices) ? notices : [notices]) this.local.emitGeneration(n);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, channel }, 'ignored a malformed notification');
    }
  }

  private async notify(channel: string, payload: unknown): Promise<void> {
    await this.pool.query('select pg_notify($1, $2)', [channel, JSON.stringify(payload)]);
  }

  async publishJobs(notice: JobsAvailable, trx?: Kysely<Database>): Promise<void> {
    if (!trx) return this.notify(JOBS_CHANNEL, notice);
    await sql`select ${this.jobsNoticeSql(notice)}`.execute(trx);
  }
  jobsNoticeSql(notice: JobsAvailable): RawBuilder<unknown> {
    return sql`pg_notify(${JOBS_CHANNEL}, ${JSON.stringify(notice)})`;
  }
  readonly generationNoticeSql = generationNoticeSql;
  /** Resolves once the NOTIFY that carries this event has been sent. */
  publishGeneration(notice: GenerationNotice): Promise<void> {
    return new Promise<void>((sent, failed) => {
      this.outgoing.push({ json: JSON.stringify(notice), sent, failed });
      if (!this.sending) void this.sendBatches();
    });
  }

  private async sendBatches(): Promise<void> {
    this.sending = true;
    try {
      while (this.outgoing.length > 0) {
        let chars = 0;
        let n = 0;
        while (
          n < this.outgoing.length &&
          (n === 0 || chars + (this.outgoing[n] as Outgoing).json.length < MAX_BATCH_CHARS)
        )
          chars += (this.outgoing[n++] as Outgoing).json.length + 1;
        const batch = this.outgoing.splice(0, n);
        try {
          await this.pool.query('select pg_notify($1, $2)', [
            GENERATION_CHANNEL,
            `[${batch.map((o) => o.json).join(',')}]`,
          ]);
          for (const o of batch) o.sent();
        } catch (err) {
          for (const o of batch) o.failed(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }
  onJobs(listener: (n: JobsAvailable) => void): () => void {
    return this.local.onJobs(listener);
  }
  onGeneration(id: string, listener: Parameters<LocalListeners['onGeneration']>[1]): () => void {
    return this.local.onGeneration(id, listener);
  }
  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => {});
    await this.pool.end();
  }
}
