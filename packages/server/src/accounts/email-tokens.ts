// Single-use tokens mailed to the user (verify an email, reset a password, confirm a new email). Only
// their SHA-256 is stored; using one is fenced on `used_at is null`, so a link works once.
import type { Kysely, Selectable } from 'kysely';
import type { Database, EmailTokenPurpose, EmailTokensTable } from '../db/schema.js';
import { newSecret, sha256Hex } from '../ids.js';
import { AppError } from '../errors.js';

export async function issueEmailToken(
  db: Kysely<Database>,
  p: { userId: string; purpose: EmailTokenPurpose; newEmail?: string; now: number; ttlMs: number },
): Promise<string> {
  const token = newSecret('');
  await db
    .insertInto('email_tokens')
    .values({
      token_hash: sha256Hex(token),
      user_id: p.userId,
      purpose: p.purpose,
      new_email: p.newEmail ?? null,
      created_at: p.now,
      expires_at: p.now + p.ttlMs,
      used_at: null,
    })
    .execute();
  return token;
}

/** Marks a token used and returns it; a wrong, expired, used or other-purpose token is one clear error. */
export async function consumeEmailToken(
  db: Kysely<Database>,
  p: { token: string; purposes: EmailTokenPurpose[]; now: number },
): Promise<Selectable<EmailTokensTable>> {
  const row = await db
    .updateTable('email_tokens')
    .set({ used_at: p.now })
    .where('token_hash', '=', sha256Hex(p.token))
    .where('purpose', 'in', p.purposes)
    .where('used_at', 'is', null)
    .where('expires_at', '>', p.now)
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    throw new AppError(
      'invalid_token',
      'This link is invalid, was already used or has expired. Ask for a new one.',
    );
  }
  return row;
}

/** Earlier unused tokens of the same purpose stop working when a new one is sent. */
export async function revokeEmailTokens(
  db: Kysely<Database>,
  p: { userId: string; purpose: EmailTokenPurpose; now: number },
): Promise<void> {
  await db
    .updateTable('email_tokens')
    .set({ used_at: p.now })
    .where('user_id', '=', p.userId)
    .where('purpose', '=', p.purpose)
    .where('used_at', 'is', null)
    .execute();
}
