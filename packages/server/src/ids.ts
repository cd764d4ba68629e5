import { randomBytes, randomUUID, createHash } from 'node:crypto';

/** Opaque public identifiers: UUIDs without dashes, safe in URLs and file names. */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * An id like newId's, except that ids made later sort later: 12 hex digits of milliseconds, then 20 of a
 * random UUID (74 random bits). For rows written at a high rate under a B-tree keyed by their id (ledger
 * transfers and their entries): a new id lands at the index's right edge, on a page the same commit
 * already writes, instead of on a random page of its own.
 */
export function newTimeOrderedId(): string {
  return Date.now().toString(16).padStart(12, '0') + randomUUID().replaceAll('-', '').slice(12);
}

/** A secret token: a recognisable prefix plus 256 random bits, base64url. Only its SHA-256 is stored. */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrUndefined = (ms: number | null): string | undefined =>
  ms === null ? undefined : toIso(ms);
