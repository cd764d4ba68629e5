// Per-release pseudonyms: HMAC-SHA256(salt, "<kind>:<raw id>"), the first 16 hex digits (64 bits).
// The salt comes from the caller (the server derives it from a secret and the release name), so a
// re-run of a release gives the same pseudonyms while two releases give unlinkable ones. Without the
// salt a pseudonym cannot be turned back into an account id, nor checked against a guessed one.
//
// Within one release the same account has the same pseudonym as creator and as rater (so a person's
// images and ratings can be studied together); workers live in their own namespace.

import { createHmac } from 'node:crypto';
import { DatasetError } from './errors.js';

export type PseudonymKind = 'user' | 'worker';

export const PSEUDONYM_HEX_DIGITS = 16;
export const MIN_SALT_BYTES = 16;
/** Accounts repeat across rows (people make many images); beyond this many distinct ids the cache restarts. */
const CACHE_LIMIT = 65_536;

export class Pseudonymizer {
  private readonly key: Buffer;
  /** One cache per kind, keyed by the raw id, so a hit allocates nothing. */
  private readonly caches: Record<PseudonymKind, Map<string, string>> = {
    user: new Map(),
    worker: new Map(),
  };

  constructor(salt: Uint8Array | string) {
    this.key = typeof salt === 'string' ? Buffer.from(salt, 'utf8') : Buffer.from(salt);
    if (this.key.length < MIN_SALT_BYTES) {
      throw new DatasetError(
        'invalid_argument',
        `the pseudonym salt must be at least ${MIN_SALT_BYTES} bytes`,
      );
    }
  }

  pseudonym(kind: PseudonymKind, id: string): string {
    const cache = this.caches[kind];
    let value = cache.get(id);
    if (value === undefined) {
      value = createHmac('sha256', this.key)
        .update(`${kind}:${id}`, 'utf8')
        .digest('hex')
        .slice(0, PSEUDONYM_HEX_DIGITS);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(id, value);
    }
    return value;
  }
}
