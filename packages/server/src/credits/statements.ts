// What a user sees of their credits: the summary figures and the history of movements. Both read only
// the user's two accounts (`user:<id>`, `escrow:<id>`) through the entries' account index.
import type { Kysely } from 'kysely';
import type { CreditMovementList, CreditSummary } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import { toIso } from '../ids.js';
import * as q from './queries.js';

export async function creditSummary(db: Kysely<Database>, userId: string): Promise<CreditSummary> {
  const totals = await q.totalsByKind(db, userId);
  const sum = (pred: (t: (typeof totals)[number]) => boolean) =>
    totals.filter(pred).reduce((acc, t) => acc + t.total, 0);
  const available = q.userAccount(userId);
  const escrow = q.escrowAccount(userId);
  return {
    userId,
    balance: sum((t) => t.account_id === available),
    reserved: sum((t) => t.account_id === escrow),
    earnedFromWorkers: sum((t) => t.account_id === available && t.kind === 'worker_earning'),
    earnedFromAnnotations: sum((t) => t.account_id === available && t.kind === 'annotation'),
    granted: sum((t) => t.account_id === available && t.kind === 'grant'),
    // Settled reservations: credits actually consumed by finished images.
    spent: -sum((t) => t.account_id === escrow && t.kind === 'settle'),
  };
}

export async function creditHistory(
  db: Kysely<Database>,
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<CreditMovementList> {
  const rows = await q.listMovements(db, { userId, limit, before: decodeCursor(cursor) });
  const last = rows.at(-1);
  return {
    items: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      amount: r.available,
      reserved: r.reserved,
      referenceType: r.reference_type ?? undefined,
      referenceId: r.reference_id ?? undefined,
      memo: r.memo ?? undefined,
      createdAt: toIso(r.created_at),
    })),
    nextCursor: rows.length === limit && last ? encodeCursor(last) : undefined,
  };
}

function encodeCursor(row: { created_at: number; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'The cursor is not one this server issued.');
}
