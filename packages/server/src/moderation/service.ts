// Moderation's rules: who may report, hide, unhide, suspend and unsuspend whom, and what each decision
// changes. Every moderator action and its audit entry commit in one transaction, so the log can never
// claim something that did not happen, or miss something that did.
import type { Kysely, Transaction } from 'kysely';
import type {
  AuditList,
  AuditQuery,
  CreateReportBody,
  HiddenImageList,
  ModeratedImage,
  Report,
  ReportQueue,
  ReportReason,
  ResolveReportBody,
  ResolveReportResult,
  Role,
  UserStanding,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { newId, toIso } from '../ids.js';
import { recordAudit } from '../audit/record.js';
import type { AccountStopEffect, AccountStopOutcome } from '../accounts/account-stop.js';
import { withIdempotency, type IdempotentAnswer } from '../idempotency/idempotency.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { imageIsPublic } from './visibility.js';
import * as q from './queries.js';
import { toAuditEntry, toModeratedImage, toModeratorReport, toReport, toStanding } from './views.js';

/** The staff member acting (moderator or admin). */
export interface Actor {
  userId: string;
  role: Role;
}

/** Told when a user's standing changed, so cached key lookups on this replica stop at once. */
export interface StandingListener {
  forgetUser(userId: string): void;
}

const REPORTS_PER_QUEUE_ITEM = 20;

export class ModerationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly standingListeners: StandingListener[],
    /** Run in a suspension's transaction: jobs/ cancels and refunds the user's unfinished images. */
    private readonly accountEffects: readonly AccountStopEffect[] = [],
  ) {}

  /** Any signed-in user reports an image they can see; one open report per user per image. */
  async report(
    reporterId: string,
    imageId: string,
    body: CreateReportBody,
    idempotencyKey: string | undefined,
  ): Promise<IdempotentAnswer<Report>> {
    try {
      return await withIdempotency(
        this.db,
        this.clock,
        {
          userId: reporterId,
          key: idempotencyKey,
          route: 'POST /v1/images/:id/reports',
          request: { imageId, body },
        },
        async (trx) => {
          const image = await this.imageSeenBy(trx, reporterId, imageId);
          if (await q.findOpenReport(trx, image.id, reporterId)) throw alreadyReported();
          const row = {
            id: newId(),
            image_id: image.id,
            reporter_id: reporterId,
            reason: body.reason,
            note: body.note ?? null,
            state: 'open' as const,
            created_at: this.clock.now(),
            resolved_at: null,
            resolved_by: null,
          };
          await q.insertReport(trx, row);
          return { status: 201, body: toReport(row) };
        },
      );
    } catch (err) {
      // A concurrent report by the same user got in first; the partial unique index said no.
      if (isUniqueViolation(err)) throw alreadyReported();
      throw err;
    }
  }

  async queue(limit: number, cursor: string | undefined): Promise<ReportQueue> {
    const after = decodeCursor(cursor, ['number', 'string'] as const);
    const groups = await q.openReportGroups(this.db, { limit, after });
    const ids = groups.map((g) => g.imageId);
    const [images, reports, reasons] = await Promise.all([
      q.moderatedImages(this.db, ids),
      q.openReportsOf(this.db, ids, REPORTS_PER_QUEUE_ITEM),
      q.openReasonCounts(this.db, ids),
    ]);
    const imageById = new Map(images.map((i) => [i.id, toModeratedImage(i)]));
    const items: ReportQueue['items'] = [];
    for (const g of groups) {
      const image = imageById.get(g.imageId);
      // Reports reference finished jobs, so this only skips an image deleted since the first read.
      if (!image) continue;
      items.push({
        image,
        openReports: g.open,
        reasons: reasons
          .filter((r) => r.imageId === g.imageId)
          // Only ReportReason values are ever written (the route validates them).
          .map((r) => ({ reason: r.reason as ReportReason, count: r.count })),
        firstReportedAt: toIso(g.firstAt),
        lastReportedAt: toIso(g.lastAt),
        reports: reports.filter((r) => r.image_id === g.imageId).map(toModeratorReport),
      });
    }
    const last = groups.at(-1);
    return {
      items,
      nextCursor: groups.length === limit && last ? encodeCursor([last.firstAt, last.imageId]) : undefined,
    };
  }

  /**
   * Decides a report. The decision is about the image, so it closes every open report on it: dismiss
   * keeps the image, hide takes it down (if a moderator had not already).
   */
  async resolve(actor: Actor, reportId: string, body: ResolveReportBody): Promise<ResolveReportResult> {
    const now = this.clock.now();
    const imageId = await this.db.transaction().execute(async (trx) => {
      const report = await q.findReport(trx, reportId);
      if (!report) throw notFound('Report');
      const image = await this.imageForAction(trx, actor, report.image_id);
      if (report.state !== 'open')
        throw new AppError('conflict', `This report was already resolved (${report.state}).`);
      const state = body.action === 'hide' ? 'actioned' : 'dismissed';
      // Fenced on state = 'open': of two moderators deciding at once, the second closes nothing.
      const resolved = await q.closeOpenReports(trx, { imageId: image.id, state, by: actor.userId, now });
      if (resolved === 0)
        throw new AppError('conflict', 'Another moderator resolved these reports just now.');
      let hidden = false;
      if (body.action === 'hide') {
        hidden = await q.hideImage(trx, {
          image_id: image.id,
          reason: body.reason,
          hidden_by: actor.userId,
          hidden_at: now,
        });
        if (hidden)
          await recordAudit(trx, {
            actorId: actor.userId,
            action: 'image.hide',
            targetType: 'image',
            targetId: image.id,
            detail: { reason: body.reason, report: reportId },
            at: now,
          });
      }
      await recordAudit(trx, {
        actorId: actor.userId,
        action: 'report.resolve',
        targetType: 'report',
        targetId: reportId,
        detail: { action: body.action, reason: body.reason, image: image.id, reportsClosed: resolved },
        at: now,
      });
      return { id: image.id, resolved };
    });
    return { image: await this.moderated(imageId.id), resolved: imageId.resolved };
  }

  /** Takes an image down (gallery, file for others, annotation tasks, releases); closes its open reports. */
  async hide(actor: Actor, imageId: string, reason: string): Promise<ModeratedImage> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const image = await this.imageForAction(trx, actor, imageId);
      const hidden = await q.hideImage(trx, {
        image_id: image.id,
        reason,
        hidden_by: actor.userId,
        hidden_at: now,
      });
      if (!hidden) throw new AppError('conflict', 'The image is already hidden.');
      const closed = await q.closeOpenReports(trx, {
        imageId: image.id,
        state: 'actioned',
        by: actor.userId,
        now,
      });
      await recordAudit(trx, {
        actorId: actor.userId,
        action: 'image.hide',
        targetType: 'image',
        targetId: image.id,
        detail: { reason, reportsClosed: closed },
        at: now,
      });
    });
    return this.moderated(imageId);
  }

  async unhide(actor: Actor, imageId: string, reason: string): Promise<ModeratedImage> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const image = await this.imageForAction(trx, actor, imageId);
      if (!(await q.unhideImage(trx, image.id))) throw new AppError('conflict', 'The image is not hidden.');
      await recordAudit(trx, {
        actorId: actor.userId,
        action: 'image.unhide',
        targetType: 'image',
        targetId: image.id,
        detail: { reason, hiddenFor: image.hiddenReason },
        at: now,
      });
    });
    return this.moderated(imageId);
  }

  async hidden(limit: number, cursor: string | undefined): Promise<HiddenImageList> {
    const after = decodeCursor(cursor, ['number', 'string'] as const);
    const rows = await q.listHidden(this.db, { limit, after });
    const images = new Map(
      (
        await q.moderatedImages(
          this.db,
          rows.map((r) => r.image_id),
        )
      ).map((i) => [i.id, toModeratedImage(i)]),
    );
    const items: HiddenImageList['items'] = [];
    for (const r of rows) {
      const image = images.get(r.image_id);
      if (image)
        items.push({
          image,
          reason: r.reason,
          hiddenBy: r.hidden_by ?? undefined,
          hiddenAt: toIso(r.hidden_at),
        });
    }
    const last = rows.at(-1);
    return {
      items,
      nextCursor: rows.length === limit && last ? encodeCursor([last.hidden_at, last.image_id]) : undefined,
    };
  }

  /**
   * Suspends a user: their keys, worker keys and sessions stop working at once on this replica, and in
   * the same transaction their queued and running images are cancelled and refunded (the effects).
   */
  async suspend(actor: Actor, userId: string, reason: string): Promise<UserStanding> {
    const now = this.clock.now();
    const outcomes = await this.db.transaction().execute(async (trx) => {
      await this.userForAction(trx, actor, userId);
      if (!(await q.suspendUser(trx, { id: userId, reason, now })))
        throw new AppError('conflict', 'The user is already suspended.');
      await q.deleteSessions(trx, userId);
      const done: AccountStopOutcome[] = [];
      for (const effect of this.accountEffects)
        done.push(await effect.accountStopped(trx, { userId, why: 'suspended', reason, now }));
      await recordAudit(trx, {
        actorId: actor.userId,
        action: 'user.suspend',
        targetType: 'user',
        targetId: userId,
        detail: Object.assign({ reason }, ...done.map((o) => o.detail)) as Record<string, unknown>,
        at: now,
      });
      return done;
    });
    for (const l of this.standingListeners) l.forgetUser(userId);
    await Promise.all(outcomes.map((o) => o.announce()));
    return this.standing(userId);
  }

  async unsuspend(actor: Actor, userId: string, reason: string): Promise<UserStanding> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const user = await this.userForAction(trx, actor, userId);
      if (!(await q.unsuspendUser(trx, userId))) throw new AppError('conflict', 'The user is not suspended.');
      await recordAudit(trx, {
        actorId: actor.userId,
        action: 'user.unsuspend',
        targetType: 'user',
        targetId: userId,
        detail: { reason, suspendedFor: user.suspension_reason },
        at: now,
      });
    });
    for (const l of this.standingListeners) l.forgetUser(userId);
    return this.standing(userId);
  }

  async standing(userId: string): Promise<UserStanding> {
    const user = await q.findUser(this.db, userId);
    if (!user) throw notFound('User');
    return toStanding(user);
  }

  async audit(query: AuditQuery): Promise<AuditList> {
    const limit = query.limit ?? 50;
    const after = decodeCursor(query.cursor, ['number', 'string'] as const);
    const rows = await q.listAudit(this.db, { ...query, limit, after });
    const last = rows.at(-1);
    return {
      items: rows.map(toAuditEntry),
      nextCursor: rows.length === limit && last ? encodeCursor([last.created_at, last.id]) : undefined,
    };
  }

  private async moderated(imageId: string): Promise<ModeratedImage> {
    const [row] = await q.moderatedImages(this.db, [imageId]);
    if (!row) throw notFound('Image');
    return toModeratedImage(row);
  }

  /** The image, if this user may see it: public, or their own. Others' non-public images do not exist. */
  private async imageSeenBy(trx: Transaction<Database>, userId: string, imageId: string) {
    const [image] = await q.moderatedImages(trx, [imageId]);
    if (!image) throw notFound('Image');
    if (image.ownerId === userId) return image;
    if (!(await imageIsPublic(trx, image.id))) throw notFound('Image');
    return image;
  }

  /** Staff act on images, but never on their own: someone else decides about those. */
  private async imageForAction(trx: Transaction<Database>, actor: Actor, imageId: string) {
    const [image] = await q.moderatedImages(trx, [imageId]);
    if (!image) throw notFound('Image');
    if (image.ownerId === actor.userId)
      throw new AppError('forbidden', 'Moderators cannot act on their own images; ask another moderator.');
    return image;
  }

  /** Moderators act on plain users only; admins on anyone; nobody on themselves. */
  private async userForAction(trx: Transaction<Database>, actor: Actor, userId: string) {
    const user = await q.findUser(trx, userId);
    if (!user) throw notFound('User');
    if (user.id === actor.userId)
      throw new AppError('forbidden', 'Moderators cannot act on their own account; ask another moderator.');
    if (actor.role !== 'admin' && user.role !== 'user')
      throw new AppError('forbidden', `Only an admin can suspend or unsuspend a ${user.role}.`);
    return user;
  }
}

const alreadyReported = () =>
  new AppError('conflict', 'You already reported this image; a moderator will look at it.');

/** A unique-index violation on either database. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
