// What each generation reserved: its escrow account, its owner and the share of one image. Written once,
// in the transaction that created the generation, and never changed; so it is remembered here instead of
// being read (a three-table join) every time one of its jobs ends. Each replica fills its own copy.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import * as q from './queries.js';

export type Reservation = NonNullable<Awaited<ReturnType<typeof q.reservationOfGeneration>>>;

export class Reservations {
  /** null: the generation reserved nothing (it was free). Bounded, oldest first out. */
  private readonly known = new Map<string, Reservation | null>();

  constructor(private readonly max = 10_000) {}

  /**
   * Told by `reserve`, inside the generation's transaction: should it roll back, the generation never
   * existed and its (fresh, never reused) id is never asked for.
   */
  remember(generationId: string, reservation: Reservation | null): void {
    if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value as string);
    this.known.set(generationId, reservation);
  }

  async of(db: Kysely<Database>, generationId: string): Promise<Reservation | undefined> {
    let r = this.known.get(generationId);
    if (r === undefined) {
      r = (await q.reservationOfGeneration(db, generationId)) ?? null;
      this.remember(generationId, r);
    }
    return r ?? undefined;
  }
}
