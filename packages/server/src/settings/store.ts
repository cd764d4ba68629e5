// Run-time settings rows (JSON values keyed by name) and the one way to change one: the new value and
// its audit entry in one transaction, so the log never disagrees with what is in force.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { recordAudit } from '../audit/record.js';

export interface SettingRow {
  value: string;
  updated_at: number;
  updated_by: string | null;
}

export async function readSetting(db: Kysely<Database>, key: string): Promise<SettingRow | undefined> {
  return db
    .selectFrom('settings')
    .select(['value', 'updated_at', 'updated_by'])
    .where('key', '=', key)
    .executeTakeFirst();
}

/** Stores `value` (already JSON) under `key`, or removes the row when `value` is undefined; audited. */
export async function writeSetting(
  db: Kysely<Database>,
  p: {
    key: string;
    value: string | undefined;
    actorId: string;
    now: number;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (p.value === undefined) {
      await trx.deleteFrom('settings').where('key', '=', p.key).execute();
    } else {
      const row = { value: p.value, updated_at: p.now, updated_by: p.actorId };
      await trx
        .insertInto('settings')
        .values({ key: p.key, ...row })
        .onConflict((oc) => oc.column('key').doUpdateSet(row))
        .execute();
    }
    await recordAudit(trx, {
      actorId: p.actorId,
      action: `settings.${p.key}`,
      targetType: 'settings',
      targetId: p.key,
      detail: p.detail,
      at: p.now,
    });
  });
}
