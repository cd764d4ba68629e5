import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { GenerationRow } from './sql/read-generations.js';
import { getGeneration } from './sql/read-generations.js';

/**
 * Generations never change after they are created, so their rows can be cached without invalidation.
 * Every pop and every result needs its generation's parameters; this saves a read on each. Bounded LRU.
 */
export class GenerationCache {
  private readonly rows = new Map<string, GenerationRow>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly max = 10_000,
  ) {}

  remember(row: GenerationRow): void {
    this.rows.delete(row.id);
    this.rows.set(row.id, row);
    if (this.rows.size > this.max) this.rows.delete(this.rows.keys().next().value as string);
  }

  /** The row, or undefined when no such generation exists. */
  async find(id: string): Promise<GenerationRow | undefined> {
    const cached = this.rows.get(id);
    if (cached) return cached;
    const row = await getGeneration(this.db, id);
    if (row) this.remember(row);
    return row;
  }

  /** The row of a generation known to exist (a job references it). */
  async get(id: string): Promise<GenerationRow> {
    const row = await this.find(id);
    if (!row) throw new Error(`Generation ${id} vanished`);
    return row;
  }
}
