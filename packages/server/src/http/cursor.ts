// Opaque pagination cursors over (created_at, id), the order most lists use.
import { AppError } from '../errors.js';

export interface CreatedCursor {
  createdAt: number;
  id: string;
}

export function encodeCursor(c: CreatedCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): CreatedCursor | undefined {
  if (!cursor) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'The cursor is not one this server issued.');
}
