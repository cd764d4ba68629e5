// Migrated template databases for one `npm test` run. Every integration test starts a coordinator on a
// fresh database; migrating each one costs ~1.3 s on PostgreSQL and ~0.15 s on SQLite on the 2-core
// machines, over a hundred times a run. scripts/test.mjs migrates one template per dialect before the
// run (so the migrations themselves are still exercised on both databases every run), hands their
// names to the test processes in the environment, and drops them afterwards; createTestDatabase then
// copies the template (CREATE DATABASE … TEMPLATE, or a file copy) instead of starting empty. A test file
// run on its own, without the runner, gets an empty database and migrates it as before.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../db/connect.js';

/** Environment variables the runner sets for the test processes. */
export const TEMPLATE_ENV = {
  postgres: 'DREAMFOLD_TEST_PG_TEMPLATE',
  sqlite: 'DREAMFOLD_TEST_SQLITE_TEMPLATE',
} as const;

export interface DatabaseTemplates {
  /** Name of the migrated PostgreSQL template database, when DATABASE_URL names a server. */
  postgres?: string;
  /** Path of the migrated, checkpointed SQLite file. */
  sqlite: string;
}

export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates and migrates the templates; `dir` receives the SQLite file. */
export async function createDatabaseTemplates(dir: string): Promise<DatabaseTemplates> {
  const sqlite = join(dir, 'template.db');
  // Closing the handle checkpoints the WAL into the file, so a plain copy is a complete database.
  await (await openDatabase(`sqlite:${sqlite}`, { sqliteCheckpointIntervalMs: 0 })).close();
  const admin = process.env.DATABASE_URL;
  if (!admin || !/^postgres(ql)?:\/\//.test(admin)) return { sqlite };
  const postgres = `dreamfold_template_${randomBytes(6).toString('hex')}`;
  await withAdminClient((c) => c.query(`create database ${postgres}`));
  await (await openDatabase(databaseUrl(admin, postgres), { poolSize: 1 })).close();
  return { sqlite, postgres };
}

export async function dropDatabaseTemplates(templates: DatabaseTemplates): Promise<void> {
  rmSync(templates.sqlite, { force: true });
  const name = templates.postgres;
  if (name) await withAdminClient((c) => c.query(`drop database if exists ${name} with (force)`));
}
