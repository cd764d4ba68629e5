// The audit log: every moderator and admin action, written in the same transaction as the action itself,
// so the log can never claim something that did not happen (or miss something that did).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newId } from '../ids.js';

export interface AuditEntry {
  /** The acting user; null for the system (a scheduled job, the CLI). */
  actorId: string | null;
  /** A stable dotted verb, e.g. `application.approve`, `image.hide`, `user.suspend`, `settings.access_stage`. */
  action: string;
  targetType: 'user' | 'image' | 'generation' | 'report' | 'settings' | 'credits' | 'worker' | 'dataset';
  targetId: string;
  /** What a reader of the log needs to understand the action (reason, old and new value). Never secrets. */
  detail?: Record<string, unknown>;
  at: number;
}

export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: newId(),
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      detail: JSON.stringify(entry.detail ?? {}),
      created_at: entry.at,
    })
    .execute();
}
