// Fair to requesters: a request no recently seen worker can serve is refused at once, with what is being
// served, instead of waiting forever; the slowest worker a requester accepts is honoured by the claim
// query; ETAs come from the measured speeds of the workers that can take the job.
//
// The rule: look at workers (not revoked) seen within UNSERVABLE_WINDOW_SECONDS. If there are none, the
// platform may be starting or between donors, and we cannot tell what will be served: accept and queue.
// If there are some and none serves the model at that size (or, with maxSecondsPerImage, none is
// measured fast enough), answer 422 `unservable`. Paused workers count as serving: they come back.
import type { Kysely } from 'kysely';
import type { Generation, GenerationEta, ServedModels } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { toIso } from '../ids.js';
import { maxMsPerMegapixelStep, secondsPerImage } from './speed.js';
import * as q from './queries.js';

export interface RequesterSettings {
  /** Workers seen within this many seconds count; 0 turns the unservable check off. */
  windowSeconds: number;
}

interface Server {
  id: string;
  models: string[];
  maxPixels: number;
  speed: number | null;
  paused: boolean;
}

/** Every submission asks; the worker table changes slowly, so the answer is kept this long. */
const SNAPSHOT_MS = 2000;

export class RequesterFairness {
  private snapshot: { servers: Server[]; until: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly settings: RequesterSettings,
  ) {}

  private async servers(): Promise<Server[]> {
    const now = this.clock.now();
    if (this.snapshot && this.snapshot.until > now) return this.snapshot.servers;
    // With the check off, ETAs still look at workers seen in the last ten minutes.
    const windowMs = (this.settings.windowSeconds || 600) * 1000;
    const rows = await q.recentWorkers(this.db, now - windowMs);
    const servers = rows.map((r) => ({
      id: r.id,
      models: JSON.parse(r.models) as string[],
      maxPixels: r.max_pixels,
      speed: r.ms_per_mpx_step,
      paused: r.paused_at !== null,
    }));
    this.snapshot = { servers, until: now + SNAPSHOT_MS };
    return servers;
  }

  async served(): Promise<ServedModels> {
    const byModel = new Map<string, ServedModels['items'][number]>();
    for (const s of await this.servers()) {
      for (const model of s.models) {
        const item = byModel.get(model) ?? { model, maxPixels: 0, workers: 0 };
        item.maxPixels = Math.max(item.maxPixels, s.maxPixels);
        item.workers++;
        if (s.speed !== null) {
          item.fastestMsPerMegapixelStep = Math.min(item.fastestMsPerMegapixelStep ?? Infinity, s.speed);
        }
        byModel.set(model, item);
      }
    }
    return {
      items: [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model)),
      windowSeconds: this.settings.windowSeconds || 600,
    };
  }

  /** Throws 422 unservable when workers are around but none can take this request. */
  async assertServable(r: {
    model: string;
    width: number;
    height: number;
    steps: number;
    maxSecondsPerImage?: number;
  }): Promise<void> {
    if (this.settings.windowSeconds === 0) return;
    const servers = await this.servers();
    if (servers.length === 0) return;
    const pixels = r.width * r.height;
    const fits = servers.filter((s) => s.models.includes(r.model) && s.maxPixels >= pixels);
    const served = await this.served();
    const list = served.items.map((i) => ({
      path: 'served',
      message: `${i.model}: up to ${i.maxPixels} pixels, ${i.workers} worker${i.workers === 1 ? '' : 's'}`,
    }));
    const window = `the last ${Math.round(served.windowSeconds / 60)} minutes`;
    if (fits.length === 0) {
      const forModel = served.items.find((i) => i.model === r.model);
      throw new AppError(
        'unservable',
        forModel
          ? `No worker seen in ${window} takes ${r.model} at ${r.width}×${r.height} (${pixels} pixels); the largest is ${forModel.maxPixels} pixels. Ask for a smaller size.`
          : `No worker seen in ${window} serves ${r.model}. Served now: ${served.items.map((i) => i.model).join(', ') || 'nothing'}.`,
        list,
      );
    }
    if (r.maxSecondsPerImage !== undefined) {
      const limit = maxMsPerMegapixelStep(r.maxSecondsPerImage, pixels, r.steps);
      const measured = fits.filter((s) => s.speed !== null).map((s) => s.speed as number);
      if (!measured.some((speed) => speed <= limit)) {
        const fastest = measured.length ? Math.min(...measured) : undefined;
        throw new AppError(
          'unservable',
          fastest === undefined
            ? `No worker serving ${r.model} has a measured speed yet, so none is known to finish within ${r.maxSecondsPerImage} s. Leave maxSecondsPerImage out, or try later.`
            : `The fastest worker serving ${r.model} takes about ${secondsPerImage(fastest, pixels, r.steps).toFixed(1)} s for this image; maxSecondsPerImage is ${r.maxSecondsPerImage}.`,
          [{ path: 'body/maxSecondsPerImage', message: 'no worker is fast enough' }, ...list],
        );
      }
    }
  }

  /**
   * When a generation should be done: its images still queued, behind `queuePosition` others of the same
   * model (taken to be of similar size), shared among the unpaused workers that can serve them at their
   * measured speeds; unknown speeds are assumed to be the median of the known ones.
   */
  async eta(g: Generation): Promise<GenerationEta | undefined> {
    const open = g.images.filter((i) => i.state === 'queued' || i.state === 'leased');
    if (open.length === 0) return undefined;
    const pixels = g.params.width * g.params.height;
    const steps = g.params.steps;
    const limit =
      g.maxSecondsPerImage === undefined
        ? Infinity
        : maxMsPerMegapixelStep(g.maxSecondsPerImage, pixels, steps);
    // The claim query gives a speed-limited job only to measured workers within the limit.
    const fast = (s: Server) => limit === Infinity || (s.speed !== null && s.speed <= limit);
    const servers = (await this.servers()).filter(
      (s) => !s.paused && s.models.includes(g.params.model) && s.maxPixels >= pixels && fast(s),
    );
    if (servers.length === 0) return { workers: 0, basis: 'no_worker' };
    const known = servers
      .filter((s) => s.speed !== null)
      .map((s) => s.speed as number)
      .sort((a, b) => a - b);
    if (known.length === 0) return { workers: servers.length, basis: 'assumed' };
    const median = known[Math.floor(known.length / 2)] as number;
    const perImageMs = servers.map((s) => secondsPerImage(s.speed ?? median, pixels, steps) * 1000);
    // Images per millisecond, all servers together.
    const rate = perImageMs.reduce((a, t) => a + 1 / t, 0);
    const mean = servers.length / rate;
    const leasedLeft = g.images
      .filter((i) => i.state === 'leased')
      .map((i) => mean * Math.max(0, 1 - i.step / Math.max(1, steps)));
    const queued = g.images.filter((i) => i.state === 'queued').length;
    const queuedMs = queued > 0 ? ((g.queuePosition ?? 0) + queued) / rate : 0;
    const ms = Math.max(queuedMs, ...leasedLeft, 0);
    return {
      seconds: Math.round(ms / 100) / 10,
      finishesAt: toIso(this.clock.now() + ms),
      workers: servers.length,
      basis: known.length === servers.length ? 'measured' : 'assumed',
    };
  }
}
