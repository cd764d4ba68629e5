// The cheap checks every result gets on arrival, after validateUpload decoded it and checked its size:
// blank, noise, replay (exact bytes or a perceptual near-copy of an earlier result of another job), and
// timing (faster than the worker's kind of hardware can compute it). Thresholds: thresholds.ts.
import type { Kysely } from 'kysely';
import type { Database, TrustEventsTable } from '../db/schema.js';
import type { GenerationRow } from '../jobs/sql/read-generations.js';
import type { Clock } from '../clock.js';
import { sha256Hex } from '../ids.js';
import { analyseImage, hammingDistance, hashBands, type ImageFeatures } from './image-analysis.js';
import { THRESHOLDS } from './thresholds.js';
import type { Standing } from './standing.js';
import { trustedBestSpeeds } from './sql/standing.js';
import { resultsNearBands, resultsWithSha } from './sql/results.js';

export type CheckName = NonNullable<TrustEventsTable['check_name']>;

/** The parameters that decide what a deterministic model draws. */
export interface ResultParams {
  model: string;
  prompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  sampler: string;
  seed: number;
}

export interface Submission {
  workerId: string;
  ownerId: string;
  /** The job whose picture this is (for a replica: the job it re-runs). */
  jobId: string;
  params: ResultParams;
  /** When this lease began (ms); null when unknown (a lease taken before the column existed). */
  leasedAt: number | null;
  /** The validated, re-encoded PNG. */
  png: Buffer;
  /** Its features when already computed (the upload thread does, images/upload-validator.ts). */
  features?: ImageFeatures;
}

export type Verdict =
  | { ok: true; features: ImageFeatures; paramsKey: string; msPerMpxStep: number | null }
  | { ok: false; check: CheckName; detail: string };

export interface TimingSettings {
  /** Refused when faster than trusted workers of the same hardware by more than this factor. */
  speedSlack: number;
  /** Refused when faster than this many ms per megapixel-step, whatever the hardware. */
  minMsPerMpxStep: number;
}

/** Earlier results looked at per lookup: enough for any honest collision, bounded for hot hashes. */
const CANDIDATES = 200;
/** A hardware reference needs this many trusted workers of that kind, so one odd machine cannot set it. */
const MIN_PEERS = 3;
const REFERENCE_TTL_MS = 10_000;

export function paramsOf(
  g: Pick<
    GenerationRow,
    'model' | 'prompt' | 'negative_prompt' | 'width' | 'height' | 'steps' | 'guidance_scale' | 'sampler'
  >,
  seed: number,
): ResultParams {
  return {
    model: g.model,
    prompt: g.prompt,
    negativePrompt: g.negative_prompt,
    width: g.width,
    height: g.height,
    steps: g.steps,
    guidanceScale: g.guidance_scale,
    sampler: g.sampler,
    seed,
  };
}

export const paramsKey = (p: ResultParams): string =>
  sha256Hex(
    JSON.stringify([
      p.model,
      p.prompt,
      p.negativePrompt,
      p.width,
      p.height,
      p.steps,
      p.guidanceScale,
      p.sampler,
      p.seed,
    ]),
  );

export class ResultChecks {
  private readonly references = new Map<string, { at: number; ms: number | undefined }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly standing: Standing,
    private readonly timing: TimingSettings,
  ) {}

  async inspect(s: Submission): Promise<Verdict> {
    const features = s.features ?? (await analyseImage(s.png));
    if (features.spread < THRESHOLDS.blankSpread) {
      return {
        ok: false,
        check: 'blank',
        detail: `The image is blank: its colours barely vary (largest channel spread ${features.spread.toFixed(1)} of 255 on a 32×32 copy; below ${THRESHOLDS.blankSpread} counts as blank).`,
      };
    }
    if (features.correlation < THRESHOLDS.noiseCorrelation) {
      return {
        ok: false,
        check: 'noise',
        detail: `The image is random noise: neighbouring pixels are unrelated (correlation ${features.correlation.toFixed(2)}; below ${THRESHOLDS.noiseCorrelation} counts as noise).`,
      };
    }
    const key = paramsKey(s.params);
    const replay = await this.replayOf(s, key, features);
    if (replay) return { ok: false, check: 'replay', detail: replay };
    const now = this.clock.now();
    const work = (s.params.width * s.params.height * s.params.steps) / 1e6;
    const elapsed = s.leasedAt === null ? null : Math.max(0, now - s.leasedAt);
    if (elapsed !== null) {
      const fastest = await this.fastestPlausible(s.workerId);
      const minMs = work * fastest.ms;
      if (elapsed < minMs) {
        return {
          ok: false,
          check: 'too_fast',
          detail: `The result arrived ${elapsed} ms after the lease began; ${s.params.width}×${s.params.height} at ${s.params.steps} steps takes at least ${Math.ceil(minMs)} ms ${fastest.basis}.`,
        };
      }
    }
    return {
      ok: true,
      features,
      paramsKey: key,
      msPerMpxStep: elapsed !== null && elapsed > 0 && work > 0 ? elapsed / work : null,
    };
  }

  /** Why this is a replay, or undefined. Identical parameters (same job, a replica) may repeat a picture. */
  private async replayOf(s: Submission, key: string, f: ImageFeatures): Promise<string | undefined> {
    const exact = (await resultsWithSha(this.db, f.pixelSha256, CANDIDATES)).find(
      (r) => r.params_key !== key && r.job_id !== s.jobId,
    );
    if (exact) return 'The image is byte for byte an earlier result of another job with other parameters.';
    const bands = hashBands(f.phash);
    const probes = bands.map((b) => [b, ...Array.from({ length: 16 }, (_, bit) => b ^ (1 << bit))]) as [
      number[],
      number[],
      number[],
      number[],
    ];
    for (const r of await resultsNearBands(this.db, probes, CANDIDATES)) {
      // Same seed, similar prompt: a model honestly draws a similar picture; only other seeds count.
      if (r.job_id === s.jobId || r.params_key === key || Number(r.seed) === s.params.seed) continue;
      const d = hammingDistance(r.phash, f.phash);
      // Confirmed by the second hash: unrelated pictures do collide on one 64-bit hash now and then.
      if (
        d <= THRESHOLDS.replayDistance &&
        hammingDistance(r.dhash, f.dhash) <= THRESHOLDS.replayConfirmDistance
      ) {
        return `The image is a near copy of an earlier result made with another seed (${d} of 64 perceptual-hash bits differ; ${THRESHOLDS.replayDistance} or fewer counts as a copy).`;
      }
    }
    return undefined;
  }

  /** The fewest ms per megapixel-step this worker could plausibly take, and what that is based on. */
  private async fastestPlausible(workerId: string): Promise<{ ms: number; basis: string }> {
    const floor = { ms: this.timing.minMsPerMpxStep, basis: 'on the fastest hardware there is' };
    const row = await this.standing.row(this.db, workerId);
    if (!row.hw_class) return floor;
    const now = this.clock.now();
    let ref = this.references.get(row.hw_class);
    if (!ref || now - ref.at > REFERENCE_TTL_MS) {
      const speeds = (await trustedBestSpeeds(this.db, row.hw_class)).sort((a, b) => a - b);
      ref = { at: now, ms: speeds.length >= MIN_PEERS ? speeds[Math.floor(speeds.length / 2)] : undefined };
      this.references.set(row.hw_class, ref);
    }
    if (ref.ms === undefined || ref.ms / this.timing.speedSlack <= floor.ms) return floor;
    return {
      ms: ref.ms / this.timing.speedSlack,
      basis: `on this hardware (${this.timing.speedSlack}× faster than trusted workers with the same GPU at their fastest)`,
    };
  }
}
