// What a user sees of their credits: the summary figures and the history of movements. Both read only
// the user's two accounts (`user:<id>`, `escrow:<id>`) through the entries' account index.
import type { Kysely } from 'kysely';
import type { CreditMovementList, CreditSummary } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
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
    nextCursor:
      rows.length === limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : undefined,
  };
}
