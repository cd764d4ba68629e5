import { randomBytes, randomUUID, createHash } from 'node:crypto';

/** Opaque public identifiers: UUIDs without dashes, safe in URLs and file names. */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
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
