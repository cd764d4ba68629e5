// Identity: sign-up (an application in the research stage), email verification, sign-in with lockout,
// sessions, password reset and change, email change, profile and account deletion. Mail is sent after
// the change it announces has committed; a failed send is logged and the user can ask again.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type {
  DeleteAccountBody,
  SignUpBody,
  SignUpResult,
  UpdateProfileBody,
  User,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { Mail, Mailer } from '../mail/mailer.js';
import { mails } from '../mail/templates.js';
import type { AccessStageSetting } from '../settings/access-stage.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkPassword, hashPassword } from './passwords.js';
import { consumeEmailToken, issueEmailToken, revokeEmailTokens } from './email-tokens.js';
import { createSession, deleteSession, deleteSessionsOf, readSession, type NewSession } from './sessions.js';
import * as q from './queries.js';
import { toUser, type AccountsService } from './service.js';
import type { AccountStopEffect, AccountStopOutcome } from './account-stop.js';

const HOUR = 60 * 60 * 1000;
const VERIFY_TTL_MS = 48 * HOUR;
const RESET_TTL_MS = HOUR;

export interface IdentityOptions {
  publicUrl: () => string;
  sessionDays: number;
  signInMaxFailures: number;
  signInLockMinutes: number;
  /** Run in an account deletion's transaction (jobs/: unfinished images cancelled and refunded). */
  accountEffects?: readonly AccountStopEffect[];
}

export class IdentityService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly mailer: Mailer,
    private readonly stage: AccessStageSetting,
    private readonly accounts: AccountsService,
    private readonly log: Logger,
    private readonly options: IdentityOptions,
  ) {}

  async signUp(body: SignUpBody): Promise<SignUpResult> {
    const stage = await this.stage.current();
    if (stage === 'research') {
      const missing = (['displayName', 'affiliation', 'occupation', 'intendedUse'] as const).filter(
        (f) => !body[f]?.trim(),
      );
      if (missing.length > 0) {
        throw new AppError(
          'validation_failed',
          'Research access is by application: tell us who you are and what you will use Dreamfold for.',
          missing.map((f) => ({
            path: `/${f}`,
            message: 'Required while the platform is in the research stage.',
          })),
        );
      }
    }
    const email = normalizeEmail(body.email);
    const now = this.clock.now();
    const passwordHash = await hashPassword(body.password);
    const id = newId();
    try {
      await q.insertUser(this.db, {
        id,
        email,
        role: 'user',
        created_at: now,
        suspended_at: null,
        password_hash: passwordHash,
        display_name: body.displayName?.trim() ?? null,
        affiliation: body.affiliation?.trim() ?? null,
        occupation: body.occupation ?? null,
        intended_use: body.intendedUse?.trim() ?? null,
        // In the open stage there is nothing to apply for; in the research stage a moderator decides.
        access: stage === 'open' ? 'approved' : 'pending',
        access_decided_at: stage === 'open' ? now : null,
      });
    } catch (err) {
      if (await q.findUserByEmail(this.db, email)) {
        throw new AppError('conflict', 'An account with this email exists. Sign in, or reset the password.');
      }
      throw err;
    }
    await this.sendVerification(id, email);
    const user = toUser(await this.userRow(id));
    const next =
      stage === 'open'
        ? 'We sent you a mail: confirm your email, then you can generate.'
        : 'We sent you a mail: confirm your email; then a moderator reviews your application and you get a mail with the decision.';
    return { user, stage, next };
  }

  async resendVerification(userId: string): Promise<void> {
    const row = await this.userRow(userId);
    if (row.email_verified_at !== null) throw new AppError('conflict', 'This email is already confirmed.');
    await this.sendVerification(userId, row.email);
  }

  /** Confirms an email: the sign-up address, or a new address from an email change. */
  async verifyEmail(token: string): Promise<User> {
    const now = this.clock.now();
    const { userId, notice } = await this.db.transaction().execute(async (trx) => {
      const t = await consumeEmailToken(trx, { token, purposes: ['verify_email', 'change_email'], now });
      const row = await q.findUserById(trx, t.user_id);
      if (!row || row.deleted_at !== null)
        throw new AppError('invalid_token', 'This account no longer exists.');
      if (t.purpose === 'change_email' && t.new_email) {
        const taken = await q.findUserByEmail(trx, t.new_email);
        if (taken && taken.id !== row.id)
          throw new AppError('conflict', 'Another account uses this email now.');
        await q.updateUser(trx, row.id, { email: t.new_email, email_verified_at: now });
        return { userId: row.id, notice: undefined };
      }
      const first = row.email_verified_at === null;
      await q.updateUser(trx, row.id, { email_verified_at: row.email_verified_at ?? now });
      return {
        userId: row.id,
        notice: first && row.access === 'pending' ? mails.applicationReceived(row.email) : undefined,
      };
    });
    if (notice) await this.deliver(notice);
    this.accounts.forgetUser(userId);
    return toUser(await this.userRow(userId));
  }

  /** Checks the password and opens a session; repeated failures lock the account for a while. */
  async signIn(emailInput: string, password: string): Promise<{ session: NewSession; user: User }> {
    const email = normalizeEmail(emailInput);
    const now = this.clock.now();
    const row = await q.findUserByEmail(this.db, email);
    if (row?.locked_until && row.locked_until > now) {
      const minutes = Math.ceil((row.locked_until - now) / 60_000);
      throw new AppError(
        'account_locked',
        `Too many failed sign-ins: try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or reset the password.`,
      );
    }
    const ok = await checkPassword(row?.password_hash ?? null, password);
    if (!row || !ok) {
      if (row) await this.countFailure(row.id, row.failed_sign_ins + 1, now);
      throw new AppError('invalid_credentials', 'The email or password is wrong.');
    }
    if (row.suspended_at !== null) {
      throw new AppError(
        'account_suspended',
        `This account is suspended${row.suspension_reason ? `: ${row.suspension_reason}` : ''}.`,
      );
    }
    if (row.failed_sign_ins > 0 || row.locked_until !== null) {
      await q.updateUser(this.db, row.id, { failed_sign_ins: 0, locked_until: null });
    }
    const session = await createSession(this.db, { userId: row.id, now, ttlMs: this.sessionTtlMs });
    return { session, user: toUser(row) };
  }

  async signOut(sessionId: string): Promise<void> {
    await deleteSession(this.db, sessionId);
  }

  async session(sessionId: string): Promise<{ csrfToken: string; expiresAt: number } | undefined> {
    return readSession(this.db, sessionId);
  }

  get sessionTtlMs(): number {
    return this.options.sessionDays * 24 * HOUR;
  }

  /** Always answers the same way, whether or not the email has an account. */
  async requestPasswordReset(emailInput: string): Promise<void> {
    const row = await q.findUserByEmail(this.db, normalizeEmail(emailInput));
    if (!row || row.deleted_at !== null) return;
    const now = this.clock.now();
    await revokeEmailTokens(this.db, { userId: row.id, purpose: 'reset_password', now });
    const token = await issueEmailToken(this.db, {
      userId: row.id,
      purpose: 'reset_password',
      now,
      ttlMs: RESET_TTL_MS,
    });
    await this.deliver(
      mails.resetPassword(row.email, this.link('/reset-password', token), RESET_TTL_MS / 60_000),
    );
  }

  /** Sets a new password from a mailed link; every session ends and the lockout is lifted. */
  async resetPassword(token: string, password: string): Promise<void> {
    const now = this.clock.now();
    const passwordHash = await hashPassword(password);
    await this.db.transaction().execute(async (trx) => {
      const t = await consumeEmailToken(trx, { token, purposes: ['reset_password'], now });
      await q.updateUser(trx, t.user_id, {
        password_hash: passwordHash,
        failed_sign_ins: 0,
        locked_until: null,
      });
      await deleteSessionsOf(trx, t.user_id);
    });
  }

  async changePassword(
    principal: { userId: string; sessionId: string | null },
    current: string,
    password: string,
  ): Promise<void> {
    const row = await this.userRow(principal.userId);
    await this.requirePassword(row, current);
    await q.updateUser(this.db, row.id, { password_hash: await hashPassword(password) });
    // Other browsers signed in with the old password are signed out; this one stays.
    await deleteSessionsOf(this.db, row.id, principal.sessionId ?? undefined);
  }

  /** Sends a confirmation link to the new address; the email changes once it is opened. */
  async requestEmailChange(userId: string, newEmailInput: string, current: string): Promise<void> {
    const row = await this.userRow(userId);
    await this.requirePassword(row, current);
    const newEmail = normalizeEmail(newEmailInput);
    if (newEmail === row.email) throw new AppError('conflict', 'This is already your email.');
    if (await q.findUserByEmail(this.db, newEmail)) {
      throw new AppError('conflict', 'Another account uses this email.');
    }
    const now = this.clock.now();
    await revokeEmailTokens(this.db, { userId, purpose: 'change_email', now });
    const token = await issueEmailToken(this.db, {
      userId,
      purpose: 'change_email',
      newEmail,
      now,
      ttlMs: VERIFY_TTL_MS,
    });
    await this.deliver(
      mails.confirmNewEmail(newEmail, this.link('/verify-email', token), VERIFY_TTL_MS / HOUR),
    );
    await this.deliver(mails.emailChangeRequested(row.email, newEmail));
  }

  async updateProfile(userId: string, body: UpdateProfileBody): Promise<User> {
    await this.userRow(userId);
    await q.updateUser(this.db, userId, {
      ...(body.displayName !== undefined ? { display_name: body.displayName.trim() } : {}),
      ...(body.datasetConsent !== undefined ? { dataset_consent: body.datasetConsent } : {}),
    });
    return toUser(await this.userRow(userId));
  }

  /**
   * Deletes an account: personal data (email, name, affiliation, password, keys, sessions) is erased at
   * once; the rows that other data points at stay, pseudonymous. The user chooses whether their images
   * stay in future dataset releases or are withdrawn with the account.
   */
  async deleteAccount(userId: string, body: DeleteAccountBody): Promise<void> {
    const row = await this.userRow(userId);
    if (row.password_hash !== null) await this.requirePassword(row, body.currentPassword ?? '');
    const now = this.clock.now();
    const outcomes = await this.db.transaction().execute(async (trx) => {
      await q.eraseUser(trx, {
        id: userId,
        now,
        datasetConsent: body.images === 'withdraw' ? 'withdrawn' : 'pseudonymous',
      });
      await deleteSessionsOf(trx, userId);
      // Unfinished images are cancelled and refunded with the account (jobs/), as with a suspension.
      const done: AccountStopOutcome[] = [];
      for (const effect of this.options.accountEffects ?? [])
        done.push(await effect.accountStopped(trx, { userId, why: 'deleted', now }));
      return done;
    });
    this.accounts.forgetUser(userId);
    await Promise.all(outcomes.map((o) => o.announce()));
    if (row.email_verified_at !== null) await this.deliver(mails.accountDeleted(row.email, body.images));
  }

  private async sendVerification(userId: string, email: string): Promise<void> {
    const now = this.clock.now();
    await revokeEmailTokens(this.db, { userId, purpose: 'verify_email', now });
    const token = await issueEmailToken(this.db, {
      userId,
      purpose: 'verify_email',
      now,
      ttlMs: VERIFY_TTL_MS,
    });
    await this.deliver(mails.verifyEmail(email, this.link('/verify-email', token), VERIFY_TTL_MS / HOUR));
  }

  private async countFailure(userId: string, failures: number, now: number): Promise<void> {
    const lock = failures >= this.options.signInMaxFailures;
    await q.updateUser(this.db, userId, {
      failed_sign_ins: lock ? 0 : failures,
      ...(lock ? { locked_until: now + this.options.signInLockMinutes * 60_000 } : {}),
    });
  }

  private async requirePassword(row: q.UserRow, password: string): Promise<void> {
    if (!(await checkPassword(row.password_hash, password))) {
      throw new AppError('invalid_credentials', 'The current password is wrong.');
    }
  }

  private async userRow(userId: string): Promise<q.UserRow> {
    const row = await q.findUserById(this.db, userId);
    if (!row || row.deleted_at !== null) throw notFound('User');
    return row;
  }

  private link(path: string, token: string): string {
    return `${this.options.publicUrl()}${path}?token=${encodeURIComponent(token)}`;
  }

  /** Mail failures never undo the change that caused the mail; they are logged (without the address). */
  async deliver(mail: Mail): Promise<void> {
    try {
      await this.mailer.send(mail);
    } catch (err) {
      this.log.error({ err: (err as Error).message, subject: mail.subject }, 'sending mail failed');
    }
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
