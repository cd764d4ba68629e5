// Every integration test runs on SQLite and, when DATABASE_URL names a PostgreSQL server, on PostgreSQL
// too, each in a database of its own. CI sets DATABASE_URL; without it under CI we fail rather than skip.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

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

export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    return { dialect, url: `sqlite:${join(tempDir(), 'test.db')}`, drop: async () => {} };
  }
  const admin = process.env.DATABASE_URL as string;
  const name = `dreamfold_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
