import type { Kysely } from 'kysely';
import type { AccessState, ApiKeyInfo, Role, User } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { newId, newSecret, sha256Hex, toIso, toIsoOrUndefined } from '../ids.js';
import * as q from './queries.js';
import { USER_KEY_PREFIX, type Principal } from './principal.js';
import { KeyCache } from './key-cache.js';
import { issueEmailToken } from './email-tokens.js';
import { recordAudit } from '../audit/record.js';

/** last_used_at is informational; writing it at most once a minute keeps reads from turning into writes. */
const TOUCH_INTERVAL_MS = 60_000;

export class AccountsService {
  private readonly touched = new Map<string, number>();
  private readonly keys = new KeyCache<{
    userId: string;
    role: Role;
    apiKeyId: string;
    lastUsedAt: number | null;
    emailVerified: boolean;
    access: AccessState;
  }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /**
   * An account made by staff: verified and approved (the admin vouches for it), with a first API key.
   * `audit` names who made it (an admin, or null for the operator's CLI); the audit entry commits with
   * the account. Without it (test fixtures, benches) nothing is logged.
   */
  async createUser(
    email: string,
    role: Role,
    audit?: { actorId: string | null; via: 'api' | 'cli' },
  ): Promise<{ user: User; key: string }> {
    const normalized = email.trim().toLowerCase();
    if (await q.findUserByEmail(this.db, normalized)) {
      throw new AppError('conflict', `A user with the email ${normalized} already exists.`);
    }
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      await q.insertUser(trx, {
        id: newId(),
        email: normalized,
        role,
        created_at: now,
        suspended_at: null,
        email_verified_at: now,
        access: 'approved',
        access_decided_at: now,
      });
      const row = await q.findUserByEmail(trx, normalized);
      if (!row) throw new AppError('internal');
      const { key } = await this.insertApiKey(trx, row.id, 'initial key');
      if (audit) {
        await recordAudit(trx, {
          actorId: audit.actorId,
          action: 'user.create',
          targetType: 'user',
          targetId: row.id,
          detail: { role, via: audit.via },
          at: now,
        });
      }
      return { user: toUser(row), key };
    });
  }

  /**
   * A single-use link to set a password, for accounts made without one (the admin CLI): the operator
   * hands it over, and the web app's reset page sets the password. Valid for 24 hours.
   */
  async passwordLink(userId: string, publicUrl: string): Promise<string> {
    const token = await issueEmailToken(this.db, {
      userId,
      purpose: 'reset_password',
      now: this.clock.now(),
      ttlMs: 24 * 60 * 60 * 1000,
    });
    return `${publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
  }

  async createApiKey(userId: string, name: string): Promise<{ apiKey: ApiKeyInfo; key: string }> {
    return this.insertApiKey(this.db, userId, name);
  }

  private async insertApiKey(
    db: Kysely<Database>,
    userId: string,
    name: string,
  ): Promise<{ apiKey: ApiKeyInfo; key: string }> {
    const key = newSecret(USER_KEY_PREFIX);
    const row = {
      id: newId(),
      user_id: userId,
      name,
      prefix: key.slice(0, 10),
      key_hash: sha256Hex(key),
      created_at: this.clock.now(),
      last_used_at: null,
      revoked_at: null,
    };
    await q.insertApiKey(db, row);
    return { apiKey: toApiKey(row), key };
  }

  async listApiKeys(userId: string): Promise<ApiKeyInfo[]> {
    return (await q.listApiKeys(this.db, userId)).map(toApiKey);
  }

  async revokeApiKey(userId: string, keyId: string): Promise<void> {
    const revoked = await q.revokeApiKey(this.db, { id: keyId, userId, now: this.clock.now() });
    if (!revoked) throw notFound('API key');
    this.keys.forget((p) => p.apiKeyId === keyId);
  }

  async getUser(userId: string): Promise<User> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!row) throw notFound('User');
    return toUser(row);
  }

  /** Resolves a user API key to its principal, or undefined when unknown, revoked or suspended. */
  async authenticateUserKey(key: string): Promise<Principal | undefined> {
    const hash = sha256Hex(key);
    let found = this.keys.get(hash);
    if (!found) {
      const row = await q.findActiveApiKey(this.db, hash);
      if (!row || row.suspendedAt !== null) return undefined;
      found = {
        userId: row.userId,
        role: row.role,
        apiKeyId: row.keyId,
        lastUsedAt: row.lastUsedAt,
        emailVerified: row.emailVerifiedAt !== null,
        access: row.access,
      };
      this.keys.set(hash, found);
    }
    const now = this.clock.now();
    const last = this.touched.get(found.apiKeyId) ?? found.lastUsedAt ?? 0;
    if (now - last >= TOUCH_INTERVAL_MS) {
      this.touched.set(found.apiKeyId, now);
      await q.touchApiKey(this.db, found.apiKeyId, now);
    }
    return {
      kind: 'user',
      userId: found.userId,
      role: found.role,
      apiKeyId: found.apiKeyId,
      sessionId: null,
      emailVerified: found.emailVerified,
      access: found.access,
    };
  }

  /** Drops cached key lookups of a user whose standing changed (suspension, approval, deletion). */
  forgetUser(userId: string): void {
    this.keys.forget((p) => p.userId === userId);
  }
}

export function toUser(row: q.UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: toIso(row.created_at),
    displayName: row.display_name ?? undefined,
    emailVerified: row.email_verified_at !== null,
    access: row.access,
    accessReason: row.access_reason ?? undefined,
    datasetConsent: row.dataset_consent,
    suspended: row.suspended_at !== null,
    hasPassword: row.password_hash !== null,
  };
}

function toApiKey(row: q.ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: toIso(row.created_at),
    lastUsedAt: toIsoOrUndefined(row.last_used_at),
    revokedAt: toIsoOrUndefined(row.revoked_at),
  };
}
