// Every integration test runs on SQLite and, when DATABASE_URL names a PostgreSQL server, on PostgreSQL
// too, each in a database of its own. CI sets DATABASE_URL; without it under CI we fail rather than skip.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TEMPLATE_ENV, databaseUrl, withAdminClient } from './database-templates.js';

export type TestDialect = 'sqlite' | 'postgres';

export function testDialects(): TestDialect[] {
  const url = process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) return ['sqlite', 'postgres'];
  if (process.env.CI) throw new Error('CI must set DATABASE_URL to a PostgreSQL server.');
  return ['sqlite'];
}

export interface TestDatabase {
  dialect: TestDialect;
  url: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'dreamfold-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A database of its own for one test: a copy of the run's migrated template when the test runner made one
 * (see database-templates.ts), so starting a coordinator on it only checks the migrations; otherwise empty.
 */
export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const path = join(tempDir(), 'test.db');
    const template = process.env[TEMPLATE_ENV.sqlite];
    if (template) copyFileSync(template, path);
    return { dialect, url: `sqlite:${path}`, drop: async () => {} };
  }
  const admin = process.env.DATABASE_URL as string;
  const name = `dreamfold_test_${randomBytes(6).toString('hex')}`;
  const template = process.env[TEMPLATE_ENV.postgres];
  await withAdminClient((c) => c.query(`create database ${name}${template ? ` template ${template}` : ''}`));
  return {
    dialect,
    url: databaseUrl(admin, name),
    drop: () =>
      withAdminClient(async (c) => void (await c.query(`drop database if exists ${name} with (force)`))),
  };
}
