// The access stage (research or open) starts from ACCESS_STAGE and can be switched by an admin at run
// time; the switch is stored in `settings` so every replica and every restart agrees. Reads are cached
// briefly because every generation and sign-up asks.
import type { Kysely } from 'kysely';
import type { AccessStage } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { recordAudit } from '../audit/record.js';

const KEY = 'access_stage';
const CACHE_MS = 2000;

export class AccessStageSetting {
  private cached: { stage: AccessStage; until: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly initial: AccessStage,
  ) {}

  async current(): Promise<AccessStage> {
    const now = this.clock.now();
    if (this.cached && this.cached.until > now) return this.cached.stage;
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', KEY)
      .executeTakeFirst();
    const stored = row ? (JSON.parse(row.value) as unknown) : undefined;
    const stage: AccessStage = stored === 'open' || stored === 'research' ? stored : this.initial;
    this.cached = { stage, until: now + CACHE_MS };
    return stage;
  }

  async set(actorId: string, stage: AccessStage): Promise<void> {
    const previous = await this.current();
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const value = JSON.stringify(stage);
      await trx
        .insertInto('settings')
        .values({ key: KEY, value, updated_at: now, updated_by: actorId })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now, updated_by: actorId }))
        .execute();
      await recordAudit(trx, {
        actorId,
        action: 'settings.access_stage',
        targetType: 'settings',
        targetId: KEY,
        detail: { from: previous, to: stage },
        at: now,
      });
    });
    this.cached = { stage, until: now + CACHE_MS };
  }
}
