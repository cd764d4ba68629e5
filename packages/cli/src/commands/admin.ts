// `dreamfold admin …`: operator tasks straight on the configured database (DATABASE_URL / DATA_DIR, as the
// coordinator reads them), for before anyone has an API key.
import { AccountsService, openDatabase, systemClock } from '@dreamfold/server';
import { ROLES, type Role } from '@dreamfold/protocol';
import { CliError } from '../errors.js';
import { configFrom, describeDatabase } from './up.js';

export interface CreateUserOptions {
  email: string;
  role: string;
  json?: boolean;
}

export async function createUser(
  options: CreateUserOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (!isRole(options.role))
    throw new CliError(`--role must be one of ${ROLES.join(', ')}; got "${options.role}".`);
  // The server checks the format on its API too; here a typo would make an account nobody can find.
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(options.email.trim())) {
    throw new CliError(`"${options.email}" is not an email address.`);
  }
  const config = configFrom(env);
  let database;
  try {
    database = await openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  } catch (err) {
    throw new CliError(
      `Could not open the database ${describeDatabase(config.databaseUrl)}: ${(err as Error).message}`,
    );
  }
  try {
    const accounts = new AccountsService(database.db, systemClock);
    // Logged with no actor: the operator at the database, before any admin account may exist.
    const { user, key } = await accounts.createUser(options.email, options.role, {
      actorId: null,
      via: 'cli',
    });
    const passwordLink = await accounts.passwordLink(user.id, config.publicUrl);
    if (options.json) {
      console.log(JSON.stringify({ user, key, passwordLink }));
      return;
    }
    console.log(
      `Created ${user.role} ${user.email} (user id ${user.id}) in ${describeDatabase(config.databaseUrl)}.`,
    );
    console.log('API key, shown only this once; store it now (e.g. export DREAMFOLD_KEY=…):');
    console.log(key);
    console.log('To sign in to the web app, set a password with this link (single use, valid 24 hours):');
    console.log(passwordLink);
  } catch (err) {
    if ((err as { code?: string }).code === 'conflict') throw new CliError((err as Error).message);
    throw err;
  } finally {
    await database.close();
  }
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
