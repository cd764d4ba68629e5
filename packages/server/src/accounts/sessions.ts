// Web sessions: an opaque token in an HttpOnly cookie (only its SHA-256 is stored) plus a CSRF token the
// app sends back as X-CSRF-Token on every state change. Expiry slides: a session used within
// SESSION_DAYS stays alive; the stored expiry is moved forward at most once an hour.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newId, newSecret, sha256Hex } from '../ids.js';

export const SESSION_COOKIE = 'df_session';
const SESSION_PREFIX = 'dfs_';
const SLIDE_EVERY_MS = 60 * 60 * 1000;

export interface NewSession {
  id: string;
  token: string;
  csrfToken: string;
  expiresAt: number;
}

export async function createSession(
  db: Kysely<Database>,
  p: { userId: string; now: number; ttlMs: number },
): Promise<NewSession> {
  const token = newSecret(SESSION_PREFIX);
  const session = { id: newId(), token, csrfToken: newSecret(''), expiresAt: p.now + p.ttlMs };
  await db
    .insertInto('sessions')
    .values({
      id: session.id,
      token_hash: sha256Hex(token),
      user_id: p.userId,
      csrf_token: session.csrfToken,
      created_at: p.now,
      expires_at: session.expiresAt,
      last_seen_at: p.now,
    })
    .execute();
  return session;
}

/** The live session behind a cookie and its user, in one read; undefined when unknown or expired. */
export async function findSession(db: Kysely<Database>, token: string, now: number) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as sessionId',
      'sessions.csrf_token as csrfToken',
      'sessions.expires_at as expiresAt',
      'sessions.last_seen_at as lastSeenAt',
      'users.id as userId',
      'users.role as role',
      'users.suspended_at as suspendedAt',
      'users.email_verified_at as emailVerifiedAt',
      'users.access as access',
    ])
    .where('sessions.token_hash', '=', sha256Hex(token))
    .where('sessions.expires_at', '>', now)
    .where('users.deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function slideSession(
  db: Kysely<Database>,
  p: { id: string; lastSeenAt: number; now: number; ttlMs: number },
): Promise<void> {
  if (p.now - p.lastSeenAt < SLIDE_EVERY_MS) return;
  await db
    .updateTable('sessions')
    .set({ last_seen_at: p.now, expires_at: p.now + p.ttlMs })
    .where('id', '=', p.id)
    .execute();
}

export async function deleteSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Signs a user out everywhere (password reset, suspension, deletion), optionally keeping one session. */
export async function deleteSessionsOf(db: Kysely<Database>, userId: string, except?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (except) q = q.where('id', '!=', except);
  await q.execute();
}

export async function readSession(
  db: Kysely<Database>,
  id: string,
): Promise<{ csrfToken: string; expiresAt: number } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select(['csrf_token', 'expires_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { csrfToken: row.csrf_token, expiresAt: row.expires_at } : undefined;
}
