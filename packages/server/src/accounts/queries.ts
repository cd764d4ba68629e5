import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { AccessState, ApiKeysTable, Database, DatasetConsent, UsersTable } from '../db/schema.js';

export type UserRow = Selectable<UsersTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;

export async function insertUser(db: Kysely<Database>, user: Insertable<UsersTable>): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function insertApiKey(db: Kysely<Database>, key: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(key).execute();
}

/** The key and its owner in one read: this runs on every authenticated request. */
export async function findActiveApiKey(db: Kysely<Database>, keyHash: string) {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id as keyId',
      'api_keys.last_used_at as lastUsedAt',
      'users.id as userId',
      'users.role as role',
      'users.suspended_at as suspendedAt',
      'users.email_verified_at as emailVerifiedAt',
      'users.access as access',
    ])
    .where('api_keys.key_hash', '=', keyHash)
    .where('api_keys.revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function touchApiKey(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function listApiKeys(db: Kysely<Database>, userId: string): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

/** Fenced on the owner: one user can never revoke another's key. */
export async function revokeApiKey(
  db: Kysely<Database>,
  p: { id: string; userId: string; now: number },
): Promise<boolean> {
  const r = await db
    .updateTable('api_keys')
    .set({ revoked_at: p.now })
    .where('id', '=', p.id)
    .where('user_id', '=', p.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateUser(
  db: Kysely<Database>,
  id: string,
  set: Updateable<UsersTable>,
): Promise<void> {
  if (Object.keys(set).length === 0) return;
  await db.updateTable('users').set(set).where('id', '=', id).execute();
}

/**
 * Erases an account's personal data. The row stays (generations, ratings and ledger entries point at it)
 * with a placeholder email that can never be signed in to; keys, workers, sessions and tokens stop working.
 */
export async function eraseUser(
  db: Kysely<Database>,
  p: { id: string; now: number; datasetConsent: DatasetConsent },
): Promise<void> {
  await db
    .updateTable('users')
    .set({
      email: `deleted-${p.id}@deleted.invalid`,
      password_hash: null,
      display_name: null,
      affiliation: null,
      occupation: null,
      intended_use: null,
      access_reason: null,
      suspension_reason: null,
      deleted_at: p.now,
      dataset_consent: p.datasetConsent,
    })
    .where('id', '=', p.id)
    .execute();
  await db
    .updateTable('api_keys')
    .set({ revoked_at: p.now })
    .where('user_id', '=', p.id)
    .where('revoked_at', 'is', null)
    .execute();
  await db
    .updateTable('workers')
    .set({ revoked_at: p.now })
    .where('user_id', '=', p.id)
    .where('revoked_at', 'is', null)
    .execute();
  await db.deleteFrom('email_tokens').where('user_id', '=', p.id).execute();
  // A public name chosen for the donors leaderboard is personal data too (donors/).
  await db.deleteFrom('donor_profiles').where('user_id', '=', p.id).execute();
}

/** Applications waiting for (or given) a decision, oldest first. */
export async function listApplications(
  db: Kysely<Database>,
  p: { access: AccessState; limit: number; after?: { createdAt: number; id: string } },
): Promise<UserRow[]> {
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('access', '=', p.access)
    .where('deleted_at', 'is', null)
    .where('intended_use', 'is not', null);
  // Pending applications are shown once the applicant has confirmed their email.
  if (p.access === 'pending') query = query.where('email_verified_at', 'is not', null);
  if (p.after) {
    const { createdAt, id } = p.after;
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '>', createdAt),
        eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)]),
      ]),
    );
  }
  return query.orderBy('created_at').orderBy('id').limit(p.limit).execute();
}

/** Records a moderator's decision; fenced on `access = 'pending'` so two moderators cannot both decide. */
export async function decideApplication(
  db: Kysely<Database>,
  p: { id: string; access: 'approved' | 'rejected'; reason: string | null; now: number },
): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ access: p.access, access_reason: p.reason, access_decided_at: p.now })
    .where('id', '=', p.id)
    .where('access', '=', 'pending')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}
