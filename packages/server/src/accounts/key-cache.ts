/**
 * Remembers recent key → principal lookups for a few seconds: every worker call is authenticated, and
 * the lookup was two of the dozen statements of a job cycle. Revoking on this replica forgets at once;
 * other replicas honour a revocation within the TTL.
 */
export class KeyCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly max = 10_000,
  ) {}

  get(hash: string, now = Date.now()): V | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (e.until <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.value;
  }

  set(hash: string, value: V, now = Date.now()): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(hash, { value, until: now + this.ttlMs });
  }

  /** Forgets every entry matching the predicate (after a revocation). */
  forget(match: (value: V) => boolean): void {
    for (const [k, e] of this.entries) if (match(e.value)) this.entries.delete(k);
  }
}
