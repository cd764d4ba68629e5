// Research access: moderators read applications and decide them. A decision is fenced (only a pending
// application can be decided), audited in the same transaction, and mailed to the applicant.
import type { Kysely } from 'kysely';
import type { Application, ApplicationDecisionBody, ApplicationList, AccessState } from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { recordAudit } from '../audit/record.js';
import { mails } from '../mail/templates.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import * as q from './queries.js';
import { toUser, type AccountsService } from './service.js';
import type { IdentityService } from './identity-service.js';

export class ApplicationsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly accounts: AccountsService,
    private readonly identity: IdentityService,
    private readonly publicUrl: () => string,
  ) {}

  async list(access: AccessState, limit: number, cursor: string | undefined): Promise<ApplicationList> {
    const after = decodeCursor(cursor);
    const rows = await q.listApplications(this.db, { access, limit, after });
    const last = rows.at(-1);
    return {
      items: rows.map(toApplication),
      nextCursor:
        rows.length === limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : undefined,
    };
  }

  async decide(actorId: string, userId: string, body: ApplicationDecisionBody): Promise<Application> {
    const reason = body.reason?.trim() || null;
    if (body.decision === 'reject' && !reason) {
      throw new AppError('validation_failed', 'A rejection needs a reason: the applicant receives it.', [
        { path: '/reason', message: 'Required when rejecting.' },
      ]);
    }
    const row = await q.findUserById(this.db, userId);
    if (!row || row.deleted_at !== null || row.intended_use === null) throw notFound('Application');
    if (row.email_verified_at === null) {
      throw new AppError('conflict', 'The applicant has not confirmed their email yet.');
    }
    const now = this.clock.now();
    const access = body.decision === 'approve' ? 'approved' : 'rejected';
    await this.db.transaction().execute(async (trx) => {
      const decided = await q.decideApplication(trx, { id: userId, access, reason, now });
      if (!decided) throw new AppError('conflict', `This application was already decided (${row.access}).`);
      await recordAudit(trx, {
        actorId,
        action: `application.${body.decision}`,
        targetType: 'user',
        targetId: userId,
        detail: reason ? { reason } : {},
        at: now,
      });
    });
    this.accounts.forgetUser(userId);
    await this.identity.deliver(
      access === 'approved'
        ? mails.applicationApproved(row.email, `${this.publicUrl()}/generate`)
        : mails.applicationRejected(row.email, reason ?? ''),
    );
    const updated = await q.findUserById(this.db, userId);
    if (!updated) throw notFound('Application');
    return toApplication(updated);
  }
}

function toApplication(row: q.UserRow): Application {
  return {
    user: toUser(row),
    affiliation: row.affiliation ?? undefined,
    occupation: (row.occupation as Application['occupation']) ?? undefined,
    intendedUse: row.intended_use ?? undefined,
  };
}
