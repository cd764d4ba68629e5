import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_accounts.js';
import * as m0003 from './0003_credits.js';

/** Migrations are imported statically (not read from a folder) so the built package needs no file globbing. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001_initial': m0001,
      '0002_accounts': m0002,
      '0003_credits': m0003,
    };
  },
};
