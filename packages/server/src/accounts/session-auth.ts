// Resolves the web session cookie to a principal. Unlike API keys, sessions are not cached: web traffic
// is light, and signing out or a password reset must take effect on the very next request.
import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Principal } from './principal.js';
import { findSession, slideSession } from './sessions.js';

export type SessionPrincipal = Extract<Principal, { kind: 'user' }> & { sessionId: string };

export class SessionAuthenticator {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** The session's user and its CSRF token; undefined when unknown, expired, deleted or suspended. */
  async authenticate(token: string): Promise<{ principal: SessionPrincipal; csrfToken: string } | undefined> {
    const now = this.clock.now();
    const row = await findSession(this.db, token, now);
    if (!row || row.suspendedAt !== null) return undefined;
    await slideSession(this.db, { id: row.sessionId, lastSeenAt: row.lastSeenAt, now, ttlMs: this.ttlMs });
    return {
      principal: {
        kind: 'user',
        userId: row.userId,
        role: row.role,
        apiKeyId: null,
        sessionId: row.sessionId,
        emailVerified: row.emailVerifiedAt !== null,
        access: row.access,
      },
      csrfToken: row.csrfToken,
    };
  }
}

export function csrfMatches(expected: string, sent: string | string[] | undefined): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}
