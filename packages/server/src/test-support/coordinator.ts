// Starts a real coordinator for a test: real database (SQLite or PostgreSQL), real blob store on disk,
// and an admin + a user with API keys.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildCoordinator, type BuildOptions, type Coordinator } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import type { Clock } from '../clock.js';
import { createTestDatabase, tempDir, type TestDatabase, type TestDialect } from './databases.js';

export interface TestCoordinator extends Coordinator {
  database: TestDatabase;
  config: Config;
  adminKey: string;
  userKey: string;
  userId: string;
  /** Set when started with listen: true. */
  url: string;
  /** Another verified, approved account with an API key (emails are unique per call). */
  createUser(role?: 'user' | 'moderator' | 'admin'): Promise<{ id: string; key: string; email: string }>;
  /** Closes the app and drops its database. */
  shutdown(): Promise<void>;
}

export interface TestCoordinatorOptions {
  dialect: TestDialect;
  clock?: Clock;
  env?: Record<string, string>;
  listen?: boolean;
  build?: Partial<BuildOptions>;
  /** Reuse a database (restart tests). */
  database?: TestDatabase;
  dataDir?: string;
}

export async function startTestCoordinator(options: TestCoordinatorOptions): Promise<TestCoordinator> {
  const database = options.database ?? (await createTestDatabase(options.dialect));
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    BLOB_URL: `file:${join(dataDir, 'blobs')}`,
    RATE_LIMIT_PER_MINUTE: '0',
    SIGN_IN_RATE_PER_MINUTE: '0',
    PORT: '0',
    LOG_LEVEL: 'silent',
    // Like the rate limits: other domains' tests finish images and expect them public at once, and submit
    // for models before any worker serves them. safety/ and fairness/ tests turn these back on.
    NSFW_CLASSIFIER: 'off',
    UNSERVABLE_WINDOW_SECONDS: '0',
    // Verification refuses the solid-colour images other domains' tests upload, and their helpers register
    // a worker per image; trust/ tests (and the end-to-end worker tests) turn these back on.
    TRUST_VERIFY: 'off',
    WORKER_LIMIT_PER_NEW_ACCOUNT: '0',
    WORKER_LIMIT_PER_IP: '0',
    WORKER_REGISTRATIONS_PER_HOUR: '0',
    ...options.env,
  });
  const coordinator = await buildCoordinator({
    config,
    clock: options.clock,
    logger: false,
    ...options.build,
  });
  let url = '';
  if (options.listen) {
    url = await coordinator.app.listen({ host: '127.0.0.1', port: 0 });
    coordinator.services.config.publicUrl = url;
  }
  const { accounts } = coordinator.services;
  const existingAdmin = await coordinator.services.database.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', 'admin@example.org')
    .executeTakeFirst();
  let adminKey = '';
  let userKey = '';
  let userId = '';
  if (existingAdmin) {
    adminKey = (await accounts.createApiKey(existingAdmin.id, 'restart')).key;
    const user = await coordinator.services.database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'user@example.org')
      .executeTakeFirstOrThrow();
    userId = user.id;
    userKey = (await accounts.createApiKey(user.id, 'restart')).key;
  } else {
    adminKey = (await accounts.createUser('admin@example.org', 'admin')).key;
    const user = await accounts.createUser('user@example.org', 'user');
    userKey = user.key;
    userId = user.user.id;
  }
  return {
    ...coordinator,
    database,
    config,
    adminKey,
    userKey,
    userId,
    url,
    createUser: async (role = 'user') => {
      const email = `${role}-${randomUUID().slice(0, 8)}@example.org`;
      const created = await accounts.createUser(email, role);
      return { id: created.user.id, key: created.key, email };
    },
    shutdown: async () => {
      await coordinator.close();
      if (!options.database) await database.drop();
    },
  };
}

/** An admin's grant of credits through HTTP (POST /v1/admin/credits/grants); fails the test unless 201. */
export async function grantCredits(c: TestCoordinator, userId: string, amount: number): Promise<void> {
  const res = await c.app.inject({
    method: 'POST',
    url: '/v1/admin/credits/grants',
    headers: auth(c.adminKey),
    payload: { userId, amount, memo: 'test' },
  });
  if (res.statusCode !== 201) throw new Error(`grant answered ${res.statusCode}: ${res.body}`);
}

export function auth(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

/** A solid-colour PNG of the given size, as an honest worker would upload. */
export function solidPng(width: number, height: number, seed = 0): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: seed % 256, g: (seed * 7) % 256, b: (seed * 13) % 256 },
    },
  })
    .png()
    .toBuffer();
}
