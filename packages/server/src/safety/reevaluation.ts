// Re-evaluation after a change of the rules: new classifier thresholds apply to images already classified
// (from their stored scores, no image is classified again), and new prompt-filter rules to prompts already
// submitted (their finished images are hidden or shown again). Each change restarts its kind's run.
//
// Bounded, batched and resumable: a run walks its table in primary-key order, one page per transaction
// (BATCH rows), and records the last key it handled in `reevaluations` in the same transaction, fenced on
// the position it read. A restart resumes from there (start()); a second replica running the same kind
// cannot apply a page twice; a newer change restarts the run from the beginning with the new target.
//
// What it changes is what the system decided, never a person: a moderator's hide stays, an image whose
// appeal a moderator decided keeps that decision, and only hides this kind wrote are lifted. Every hide
// and every show is audited (action image.hide / image.unhide, detail.reevaluation = true).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { PromptFilterRules, SafetyReevaluation } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { toIso, toIsoOrUndefined } from '../ids.js';
import { recordAudit } from '../audit/record.js';
import { compileRules } from '../moderation/prompt-rules.js';
import { classifierReason } from './scanner.js';
import * as q from './reevaluation-queries.js';

const BATCH = 200;
/** Reasons of the hides each kind writes (and may lift). */
const CLASSIFIER_PREFIX = 'nsfw_classifier:';
const PROMPT_PREFIX = 'prompt_filter:';

type Counts = { processed: number; hidden: number; shown: number };
type Page = { last: string | null; counts: Counts; finished: boolean };

export class Reevaluations {
  private readonly running = new Map<q.ReevaluationKind, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly log: Logger,
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
      await this.db
        .transaction()
        .execute(async (trx) => {
          const page =
            kind === 'safety_thresholds'
              ? await this.thresholdPage(trx, row)
              : await this.promptPage(trx, row);
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
        })
        .catch((err: unknown) => {
          if (!(err instanceof Superseded)) throw err;
        });
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
    return { last: rows.at(-1)?.image_id ?? null, counts, finished: rows.length < this.batch };
  }

  private async promptPage(trx: Kysely<Database>, row: q.ReevaluationRow): Promise<Page> {
    const rules = compileRules(JSON.parse(row.target) as PromptFilterRules);
    const generations = await q.promptPage(trx, { after: row.after_id, limit: this.batch });
    const counts: Counts = { processed: generations.length, hidden: 0, shown: 0 };
    const hits = new Map<string, string>();
    for (const g of generations) {
      const hit = rules.match(g.prompt) ?? (g.negative_prompt ? rules.match(g.negative_prompt) : undefined);
      if (hit) hits.set(g.id, hit.rule);
    }
    const now = this.clock.now();
    for (const image of await q.imagesOf(
      trx,
      generations.map((g) => g.id),
    )) {
      if (Number(image.decided) === 1) continue;
      const rule = hits.get(image.generation_id);
      if (rule !== undefined) {
        const reason = `${PROMPT_PREFIX} its prompt matches ${rule}`;
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
      } else if (image.reason?.startsWith(PROMPT_PREFIX)) {
        if (!(await q.unhideSafety(trx, { imageId: image.image_id, prefix: PROMPT_PREFIX }))) continue;
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
    return { last: generations.at(-1)?.id ?? null, counts, finished: generations.length < this.batch };
  }

  private audit(
    trx: Kysely<Database>,
    row: q.ReevaluationRow,
    action: 'image.hide' | 'image.unhide',
    imageId: string,
    detail: Record<string, unknown>,
    now: number,
  ) {
    // The admin whose change caused it is the actor: the log then reads as the consequence of their act.
    return recordAudit(trx, {
      actorId: row.actor_id,
      action,
      targetType: 'image',
      targetId: imageId,
      detail,
      at: now,
    });
  }
}

class Superseded extends Error {}
