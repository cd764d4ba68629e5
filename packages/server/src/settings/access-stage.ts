// The access stage (research or open) starts from ACCESS_STAGE and can be switched by an admin at run
// time; the switch is stored in `settings` so every replica and every restart agrees. Reads are cached
// briefly because every generation and sign-up asks.
import type { Kysely } from 'kysely';
import type { AccessStage } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { readSetting, writeSetting } from './store.js';

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
    const row = await readSetting(this.db, KEY);
    const stored = row ? (JSON.parse(row.value) as unknown) : undefined;
    const stage: AccessStage = stored === 'open' || stored === 'research' ? stored : this.initial;
    this.cached = { stage, until: now + CACHE_MS };
    return stage;
  }

  async set(actorId: string, stage: AccessStage): Promise<void> {
    const previous = await this.current();
    const now = this.clock.now();
    await writeSetting(this.db, {
      key: KEY,
      value: JSON.stringify(stage),
      actorId,
      now,
      detail: { from: previous, to: stage },
    });
    this.cached = { stage, until: now + CACHE_MS };
  }
}
