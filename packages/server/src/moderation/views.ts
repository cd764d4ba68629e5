// Rows → wire shapes for moderation responses.
import type {
  AuditEntry,
  ModeratedImage,
  ModeratorReport,
  Report,
  ReportReason,
  UserStanding,
} from '@dreamfold/protocol';
import type { Selectable } from 'kysely';
import type { AuditLogTable } from '../db/schema.js';
import { toIso, toIsoOrUndefined } from '../ids.js';
import type { ModeratedImageRow, ReportRow, StandingRow } from './queries.js';

export const publicFileUrl = (imageId: string) => `/v1/images/${imageId}/file`;
export const publicThumbUrl = (imageId: string) => `/v1/images/${imageId}/thumb`;

export function toModeratedImage(row: ModeratedImageRow): ModeratedImage {
  return {
    id: row.id,
    generationId: row.generationId,
    ownerId: row.ownerId,
    ownerSuspended: row.ownerSuspendedAt !== null,
    prompt: row.prompt,
    negativePrompt: row.negativePrompt,
    model: row.model,
    width: row.width,
    height: row.height,
    createdAt: toIso(row.createdAt),
    hidden: row.hiddenAt !== null,
    hiddenReason: row.hiddenReason ?? undefined,
    url: publicFileUrl(row.id),
    thumbUrl: publicThumbUrl(row.id),
  };
}

export function toReport(row: ReportRow): Report {
  return {
    id: row.id,
    imageId: row.image_id,
    // Only values of ReportReason are ever written (the route validates them).
    reason: row.reason as ReportReason,
    note: row.note ?? undefined,
    state: row.state,
    createdAt: toIso(row.created_at),
    resolvedAt: toIsoOrUndefined(row.resolved_at),
  };
}

export function toModeratorReport(row: ReportRow): ModeratorReport {
  return { ...toReport(row), reporterId: row.reporter_id };
}

export function toStanding(row: StandingRow): UserStanding {
  return {
    id: row.id,
    role: row.role,
    suspended: row.suspended_at !== null,
    suspendedAt: toIsoOrUndefined(row.suspended_at),
    suspensionReason: row.suspension_reason ?? undefined,
  };
}

export function toAuditEntry(row: Selectable<AuditLogTable>): AuditEntry {
  let detail: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.detail) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      detail = parsed as Record<string, unknown>;
  } catch {
    // Entries are written by recordAudit as JSON; an unreadable one still lists, without detail.
  }
  return {
    id: row.id,
    actorId: row.actor_id ?? undefined,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    detail,
    createdAt: toIso(row.created_at),
  };
}
