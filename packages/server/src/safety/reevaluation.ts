// Re-evaluation after a change of the rules: new classifier thresholds apply to images already classified
// (from their stored scores, no image is classified again), and new prompt-filter rules to prompts already
// submitted: their finished images are hidden or shown again, and their images not made yet (queued, or
// being made) are not made at all — failed with the rule in words and refunded, in the same transaction,
// and their requesters told by the generation's events. Each change restarts its kind's run.
//
// Bounded, batched and resumable: a run walks its table in primary-key order, one page per transaction
// (BATCH rows), and records the last key it handled in `reevaluations` in the same transaction, fenced on
// the position it read. A restart resumes from there (start()); a second replica running the same kind
// cannot apply a page twice; a newer change restarts the run from the beginning with the new target.
//
// What it changes is what the system decided, never a person: a moderator's hide stays, an image whose
// appeal a moderator decided keeps that decision, and only hides this kind wrote are lifted. Every hide
// and every show is audited (action image.hide / image.unhide, detail.reevaluation = true).
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { PromptFilterRules, SafetyReevaluation } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { toIso, toIsoOrUndefined } from '../ids.js';
import { recordAudit, type AuditEntry } from '../audit/record.js';
import { compileRules } from '../moderation/prompt-rules.js';
import { breachDetail } from '../moderation/prompt-filter.js';
import { withdrawnBeforeGeneration } from './prompt-gate.js';
import { classifierReason } from './scanner.js';
import { CLASSIFIER_PREFIX, PROMPT_FILTER_PREFIX, promptFilterReason } from './hide-reasons.js';
import * as q from './reevaluation-queries.js';

const BATCH = 200;

type Counts = { processed: number; hidden: number; shown: number };
type Page = { last: string | null; counts: Counts; finished: boolean; failed: FailedJob[] };

/** A job a new prompt rule stopped before it was made. */
export interface FailedJob {
  id: string;
  generationId: string;
  index: number;
  reason: string;
}

/** What failing jobs means beyond their rows: the requester refunded and told (credits/, jobs/). */
export interface FailedJobs {
  /** In the page's transaction: each job's share of its generation's reservation goes back. */
  refund(trx: Transaction<Database>, jobs: readonly FailedJob[]): Promise<void>;
  /** After it committed: the generation's watchers hear of it (a `failed` event, then `finished`). */
  announce(jobs: readonly FailedJob[]): Promise<void>;
}

export class Reevaluations {
  private readonly running = new Map<q.ReevaluationKind, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly jobs: FailedJobs,
    private readonly batch = BATCH,
  ) {}

  /** Classifier thresholds changed: images already classified are hidden or shown by their stored score. */
  thresholdsChanged(actorId: string, hideAbove: number): Promise<void> {
    return this.begin('safety_thresholds', JSON.stringify({ hideAbove }), actorId);
  }

  /** The prompt filter changed: prompts already submitted are screened again. */
  promptRulesChanged(actorId: string, rules: PromptFilterRules): Promise<void> {
    return this.begin(
      'prompt_filter',
      JSON.stringify({ words: rules.words, patterns: rules.patterns }),
      actorId,
    );
  }

  /** Resumes runs a restart interrupted. */
  async resume(): Promise<void> {
    for (const kind of await q.unfinished(this.db)) this.kick(kind);
  }

  /** Shutting down: runs stop after the page in hand; the next start resumes them (resume()). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  /** Resolves when no run is in progress in this process (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  async list(): Promise<SafetyReevaluation[]> {
    return (await q.list(this.db)).map((r) => ({
      kind: r.kind,
      processed: Number(r.processed),
      hidden: Number(r.hidden),
      shown: Number(r.shown),
      startedAt: toIso(Number(r.started_at)),
      finishedAt: toIsoOrUndefined(r.finished_at === null ? null : Number(r.finished_at)),
    }));
  }

  private async begin(kind: q.ReevaluationKind, target: string, actorId: string): Promise<void> {
    await q.restart(this.db, { kind, target, actorId, now: this.clock.now() });
    this.kick(kind);
  }

  private kick(kind: q.ReevaluationKind): void {
    if (this.stopped || this.running.has(kind)) return; // the loop reads the row again before each page
    const run = this.run(kind)
      .catch((err: Error) => this.log.error({ err: err.message, kind }, 're-evaluation failed'))
      .finally(() => this.running.delete(kind));
    this.running.set(kind, run);
  }

  private async run(kind: q.ReevaluationKind): Promise<void> {
    while (!this.stopped) {
      const row = await q.read(this.db, kind);
      if (!row || row.finished_at !== null) return;
      const startedAt = Number(row.started_at);
      const failed = await this.db
        .transaction()
        .execute(async (trx) => {
          const page =
            kind === 'safety_thresholds'
              ? await this.thresholdPage(trx, row)
              : await this.promptPage(trx, row);
          await this.jobs.refund(trx, page.failed);
          const moved = await q.advance(trx, {
            kind,
            startedAt,
            after: row.after_id,
            last: page.last,
            counts: page.counts,
            finished: page.finished,
            now: this.clock.now(),
          });
          // Someone else did this page, or a newer change restarted the run: undo ours, read the row again.
          if (!moved) throw new Superseded();
          return page.failed;
        })
        .catch((err: unknown) => {
          if (!(err instanceof Superseded)) throw err;
          return [];
        });
      await this.jobs.announce(failed);
    }
  }

  private async thresholdPage(trx: Kysely<Database>, row: q.ReevaluationRow): Promise<Page> {
    const { hideAbove } = JSON.parse(row.target) as { hideAbove: number };
    const rows = await q.classifiedPage(trx, { after: row.after_id, limit: this.batch });
    const counts: Counts = { processed: rows.length, hidden: 0, shown: 0 };
    const now = this.clock.now();
    for (const r of rows) {
      if (r.nsfw_score === null || Number(r.decided) === 1) continue;
      const score = Number(r.nsfw_score);
      const detail = { by: 'classifier', reevaluation: true, score, threshold: hideAbove };
      if (score >= hideAbove) {
        const reason = classifierReason(score, hideAbove);
        if (!(await q.hideForSafety(trx, { imageId: r.image_id, reason, now }))) continue;
        await q.setClassifierHid(trx, r.image_id, 1);
        await this.audit(trx, row, 'image.hide', r.image_id, { ...detail, reason }, now);
        counts.hidden++;
      } else if (Number(r.hid) === 1) {
        if (!(await q.unhideSafety(trx, { imageId: r.image_id, prefix: CLASSIFIER_PREFIX }))) continue;
        await q.setClassifierHid(trx, r.image_id, 0);
        await this.audit(trx, row, 'image.unhide', r.image_id, { ...detail, hiddenFor: r.reason }, now);
        counts.shown++;
      }
    }
    return { last: rows.at(-1)?.image_id ?? null, counts, finished: rows.length < this.batch, failed: [] };
  }

  private async promptPage(trx: Kysely<Database>, row: q.ReevaluationRow): Promise<Page> {
    const rules = compileRules(JSON.parse(row.target) as PromptFilterRules);
    const generations = await q.promptPage(trx, { after: row.after_id, limit: this.batch });
    const counts: Counts = { processed: generations.length, hidden: 0, shown: 0 };
    const hits = new Map<string, { rule: string; detail: string }>();
    for (const g of generations) {
      const inPrompt = rules.match(g.prompt);
      const inNegative = inPrompt || !g.negative_prompt ? undefined : rules.match(g.negative_prompt);
      const hit = inPrompt ?? inNegative;
      const label = inPrompt ? 'prompt' : 'negative prompt';
      if (hit) hits.set(g.id, { rule: hit.rule, detail: breachDetail(label, hit) });
    }
    const now = this.clock.now();
    for (const image of await q.imagesOf(
      trx,
      generations.map((g) => g.id),
    )) {
      if (Number(image.decided) === 1) continue;
      const hit = hits.get(image.generation_id);
      if (hit !== undefined) {
        const reason = promptFilterReason(hit.rule);
        if (!(await q.hideForSafety(trx, { imageId: image.image_id, reason, now }))) continue;
        await this.audit(
          trx,
          row,
          'image.hide',
          image.image_id,
          { by: 'prompt_filter', reevaluation: true, reason },
          now,
        );
        counts.hidden++;
      } else if (image.reason?.startsWith(PROMPT_FILTER_PREFIX)) {
        if (!(await q.unhideSafety(trx, { imageId: image.image_id, prefix: PROMPT_FILTER_PREFIX }))) continue;
        await this.audit(
          trx,
          row,
          'image.unhide',
          image.image_id,
          { by: 'prompt_filter', reevaluation: true, hiddenFor: image.reason },
          now,
        );
        counts.shown++;
      }
    }
    // Not made yet: not made at all. After the hides (lock order: hidden_images, then jobs; see
    // trust/lock-order.ts), one statement per generation whose prompt now breaks a rule.
    const failed: FailedJob[] = [];
    for (const [generationId, hit] of hits) {
      const reason = withdrawnBeforeGeneration(hit.detail);
      const jobs = await q.failUnfinished(trx, { generationId, reason, now });
      if (jobs.length === 0) continue;
      failed.push(...jobs.map((j) => ({ id: j.id, generationId, index: j.idx, reason })));
      await this.auditRow(trx, row, {
        action: 'generation.fail',
        targetType: 'generation',
        targetId: generationId,
        detail: { by: 'prompt_filter', reevaluation: true, reason, jobs: jobs.map((j) => j.id) },
        at: now,
      });
    }
    return {
      last: generations.at(-1)?.id ?? null,
      counts,
      finished: generations.length < this.batch,
      failed,
    };
  }

  private audit(
    trx: Kysely<Database>,
    row: q.ReevaluationRow,
    action: 'image.hide' | 'image.unhide',
    imageId: string,
    detail: Record<string, unknown>,
    now: number,
  ) {
    return this.auditRow(trx, row, { action, targetType: 'image', targetId: imageId, detail, at: now });
  }

  private auditRow(trx: Kysely<Database>, row: q.ReevaluationRow, entry: Omit<AuditEntry, 'actorId'>) {
    // The admin whose change caused it is the actor: the log then reads as the consequence of their act.
    return recordAudit(trx, { ...entry, actorId: row.actor_id });
  }
}

class Superseded extends Error {}
