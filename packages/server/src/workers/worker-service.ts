import type { Kysely } from 'kysely';
import type { WorkerInfo } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { notFound } from '../errors.js';
import { newId, newSecret, sha256Hex, toIso, toIsoOrUndefined } from '../ids.js';
import { WORKER_KEY_PREFIX, type Principal } from '../accounts/principal.js';
import * as q from './queries.js';
import { KeyCache } from '../accounts/key-cache.js';

export const ONLINE_WINDOW_MS = 60_000;

/** Donors' workers: registration, keys, listing. */
export class WorkerService {
  private readonly keys = new KeyCache<Extract<Principal, { kind: 'worker' }>>();
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async register(userId: string, name: string): Promise<{ worker: WorkerInfo; key: string }> {
    const key = newSecret(WORKER_KEY_PREFIX);
    const row: Omit<q.WorkerRow, 'jobs_done' | 'jobs_failed' | 'jobs_excused'> = {
      id: newId(),
      user_id: userId,
      name,
      key_prefix: key.slice(0, 10),
      key_hash: sha256Hex(key),
      backend: null,
      models: '[]',
      max_pixels: 0,
      hardware: '{}',
      version: null,
      created_at: this.clock.now(),
      last_seen_at: null,
      revoked_at: null,
      paused_at: null,
      ms_per_mpx_step: null,
    };
    await q.insertWorker(this.db, row);
    return { worker: this.toInfo({ ...row, jobs_done: 0, jobs_failed: 0, jobs_excused: 0 }), key };
  }

  async list(userId: string): Promise<WorkerInfo[]> {
    return (await q.listWorkers(this.db, userId)).map((r) => this.toInfo(r));
  }

  async revoke(userId: string, workerId: string): Promise<void> {
    const revoked = await q.revokeWorker(this.db, { id: workerId, userId, now: this.clock.now() });
    if (!revoked) throw notFound('Worker');
    this.keys.forget((p) => p.workerId === workerId);
  }

  /** Drops cached key lookups of one owner's workers (after a suspension), so it applies at once here. */
  forgetUser(userId: string): void {
    this.keys.forget((p) => p.userId === userId);
  }

  async authenticate(key: string): Promise<Principal | undefined> {
    const hash = sha256Hex(key);
    const cached = this.keys.get(hash);
    if (cached) return cached;
    const found = await q.findActiveWorkerByKeyHash(this.db, hash);
    if (!found || found.suspendedAt !== null) return undefined;
    const principal = { kind: 'worker' as const, workerId: found.workerId, userId: found.userId };
    this.keys.set(hash, principal);
    return principal;
  }

  onlineCount(): Promise<number> {
    return q.countOnlineWorkers(this.db, this.clock.now() - ONLINE_WINDOW_MS);
  }

  private toInfo(r: q.WorkerRow): WorkerInfo {
    return {
      id: r.id,
      name: r.name,
      keyPrefix: r.key_prefix,
      backend: r.backend ?? undefined,
      models: JSON.parse(r.models) as string[],
      maxPixels: r.max_pixels,
      hardware: JSON.parse(r.hardware) as WorkerInfo['hardware'],
      online:
        r.revoked_at === null &&
        r.last_seen_at !== null &&
        this.clock.now() - r.last_seen_at < ONLINE_WINDOW_MS,
      jobsDone: r.jobs_done,
      jobsFailed: r.jobs_failed,
      createdAt: toIso(r.created_at),
      lastSeenAt: toIsoOrUndefined(r.last_seen_at),
      revokedAt: toIsoOrUndefined(r.revoked_at),
      // Fairness (fairness/): paused by its owner, failures not its fault, measured speed.
      pausedAt: toIsoOrUndefined(r.paused_at),
      jobsExcused: r.jobs_excused,
      msPerMegapixelStep: r.ms_per_mpx_step ?? undefined,
    };
  }
}
