// Opaque keyset cursors: the sort key of the last row of a page, as base64url JSON. Anything a client
// sends back that does not decode to the expected shape is its mistake (400), never ours.
import { AppError } from '../errors.js';

type Part = 'number' | 'string' | 'number?';
type Decoded<T extends readonly Part[]> = {
  [K in keyof T]: T[K] extends 'number' ? number : T[K] extends 'string' ? string : number | null;
};

export function encodeCursor(parts: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor<const T extends readonly Part[]>(
  cursor: string | undefined,
  shape: T,
): Decoded<T> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parts = undefined;
  }
  const fits =
    Array.isArray(parts) &&
    parts.length === shape.length &&
    shape.every((kind, i) => {
      const v: unknown = parts[i];
      if (kind === 'number') return typeof v === 'number' && Number.isFinite(v);
      if (kind === 'number?') return v === null || (typeof v === 'number' && Number.isFinite(v));
      return typeof v === 'string' && v.length <= 128;
    });
  if (!fits) throw new AppError('validation_failed', 'The cursor is not one this server issued.');
  return parts as Decoded<T>;
}
