import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_accounts.js';
import * as m0003 from './0003_credits.js';
import * as m0004 from './0004_annotations.js';
import * as m0005 from './0005_moderation.js';
import * as m0006 from './0006_datasets.js';
import * as m0007 from './0007_trust.js';
import * as m0008 from './0008_safety.js';
import * as m0009 from './0009_donors.js';
import * as m0010 from './0010_trust_followups.js';
import * as m0011 from './0011_scoring.js';
import * as m0012 from './0012_housekeeping.js';
import * as m0013 from './0013_trust_embeddings.js';
import * as m0014 from './0014_clustered_image_rows.js';
import * as m0015 from './0015_generations_list_index.js';

/** Migrations are imported statically (not read from a folder) so the built package needs no file globbing. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001_initial': m0001,
      '0002_accounts': m0002,
      '0003_credits': m0003,
      '0004_annotations': m0004,
      '0005_moderation': m0005,
      '0006_datasets': m0006,
      '0007_trust': m0007,
      '0008_safety': m0008,
      '0009_donors': m0009,
      '0010_trust_followups': m0010,
      '0011_scoring': m0011,
      '0012_housekeeping': m0012,
      '0013_trust_embeddings': m0013,
      '0014_clustered_image_rows': m0014,
      '0015_generations_list_index': m0015,
    };
  },
};
