// The credits ledger's rules. Every movement is a transfer whose entries sum to zero, posted in the
// caller's transaction together with the change that caused it, under a natural key that makes a repeat
// a no-op. Balances are derived (SUM over entries), never stored.
//
// Accounts: `user:<id>` (spendable), `escrow:<id>` (that user's reservations for unfinished images) and
// `platform` (the issuer: it mints grants, awards and worker earnings, and receives settled costs, so
// its balance is minus every credit in circulation and the books sum to zero). Escrow is one account per
// user rather than one shared account or one per generation: "reserved" on a user's summary is then one
// indexed SUM, no row is shared by every generation of every user, and references on the transfers
// already tie each movement to its generation.
//
// For other domains (call inside your own transaction, e.g. withIdempotency's):
//   services.credits.award(trx, { userId, amount, kind: 'annotation', reference: { type, id } })
//   services.credits.grant(trx, { userId, amount, memo, actorId, key })
//   services.credits.balance(trx, userId)
import type { Kysely, Transaction } from 'kysely';
import type {
  AccessStage,
  CreditGrant,
  CreditGrantBody,
  CreditMovementList,
  CreditQuote,
  CreditSummary,
} from '@dreamfold/protocol';
import type { Database } from '../db/schema.js';
import type { Dialect } from '../db/connect.js';
import type { Clock } from '../clock.js';
import { AppError, notFound } from '../errors.js';
import { newId, newTimeOrderedId, toIso } from '../ids.js';
import { withIdempotency, type IdempotentAnswer } from '../idempotency/idempotency.js';
import { recordAudit } from '../audit/record.js';
import { imagePrice, workerEarning, type Pricing } from './pricing.js';
import * as q from './queries.js';
import { assertWholeCredits, Ledger, type Posted } from './ledger.js';
import { creditHistory, creditSummary } from './statements.js';
import { heldAccount, HeldEarnings } from './held-earnings.js';
import { earnKey } from './claw-back.js';
import { Reservations } from './reservations.js';

export type { Posted } from './ledger.js';

/** Something a credit movement is about, shown to the user in their history: never another user's id. */
export interface CreditReference {
  type: string;
  id: string;
}

export interface AwardInput {
  userId: string;
  /** Whole credits, ≥ 0; 0 posts nothing (a reward configured to 0). */
  amount: number;
  kind: 'annotation';
  /** The natural key: one award per (kind, reference), ever. E.g. { type: 'annotation', id }. */
  reference: CreditReference;
  memo?: string;
}

export interface GrantInput {
  userId: string;
  /** Whole credits; negative takes credits back (never below a zero balance). */
  amount: number;
  memo: string;
  actorId: string | null;
  /** The natural key of this grant: the same key never posts twice. */
  key: string;
}

/** What a finished job earned its worker's owner, as the worker's receipt shows it. */
export interface JobReceipt {
  credits: number;
  /** In the worker's held account until its results are verified (trust/). */
  held?: boolean;
  transferId?: string;
}

/** What a generation costs, decided before its transaction (the access stage is read outside it). */
export interface GenerationCharge {
  perImage: number;
  total: number;
  /** Only the open stage charges; in the research stage approved researchers generate free. */
  charged: boolean;
  stage: AccessStage;
}

/** The one thing credits needs from the access-stage setting. */
export interface StageSource {
  current(): Promise<AccessStage>;
}

export class CreditsService {
  private readonly ledger: Ledger;
  /** Earnings of workers without a verified record (trust/): held, released, reversed. */
  readonly held: HeldEarnings;
  private readonly reservations = new Reservations();

  constructor(
    private readonly db: Kysely<Database>,
    dialect: Dialect,
    private readonly clock: Clock,
    private readonly stage: StageSource,
    readonly pricing: Pricing,
  ) {
    this.ledger = new Ledger(db, dialect, clock);
    this.held = new HeldEarnings(this.ledger, pricing);
  }

  // --- for other domains -------------------------------------------------------------------------

  /** Credits a user for accepted work (an annotation), minted from the platform. Idempotent per reference. */
  async award(trx: Kysely<Database>, input: AwardInput): Promise<Posted> {
    assertWholeCredits(input.amount, 'award amount');
    if (input.amount < 0) throw new Error('An award cannot be negative.');
    if (input.amount === 0) return { transferId: null, posted: false };
    return this.ledger.postOne(trx, {
      id: newTimeOrderedId(),
      key: `${input.kind}:${input.reference.type}:${input.reference.id}`,
      kind: input.kind,
      referenceType: input.reference.type,
      referenceId: input.reference.id,
      memo: input.memo ?? null,
      actorId: null,
      entries: [
        { account: q.PLATFORM_ACCOUNT, amount: -input.amount },
        { account: q.userAccount(input.userId), amount: input.amount },
      ],
    });
  }

  /** Gives (or, negative, takes back) credits. Records no audit entry: the caller's action does. */
  async grant(trx: Kysely<Database>, input: GrantInput): Promise<Posted> {
    assertWholeCredits(input.amount, 'grant amount');
    if (input.amount === 0) throw new AppError('validation_failed', 'A grant of 0 credits changes nothing.');
    const user = q.userAccount(input.userId);
    if (input.amount < 0) {
      const existing = await q.findTransferId(trx, input.key);
      if (existing) return { transferId: existing, posted: false };
      await this.ledger.debit(
        trx,
        user,
        -input.amount,
        (balance) =>
          new AppError(
            'insufficient_credits',
            `Taking back ${-input.amount} credits would leave a negative balance (the user has ${balance}).`,
          ),
      );
    }
    return this.ledger.postOne(trx, {
      id: newTimeOrderedId(),
      key: input.key,
      kind: 'grant',
      referenceType: null,
      referenceId: null,
      memo: input.memo,
      actorId: input.actorId,
      entries: [
        { account: q.PLATFORM_ACCOUNT, amount: -input.amount },
        { account: user, amount: input.amount },
      ],
    });
  }

  /** What the user can spend now. */
  balance(db: Kysely<Database>, userId: string): Promise<number> {
    return q.accountBalance(db, q.userAccount(userId));
  }

  // --- generations and jobs (hooks called by jobs/ and workers/) ----------------------------------

  /** Prices a generation under the current access stage. Call before the generation's transaction. */
  async quoteGeneration(p: {
    width: number;
    height: number;
    steps: number;
    n: number;
  }): Promise<GenerationCharge> {
    const stage = await this.stage.current();
    const perImage = imagePrice(this.pricing, p);
    return { perImage, total: perImage * p.n, charged: stage === 'open' && perImage > 0, stage };
  }

  /**
   * Moves a generation's cost from the user's balance into escrow, in the transaction that inserts it;
   * refuses with 402 when the balance is short. Nothing is reserved when the charge is not `charged`.
   */
  async reserve(
    trx: Transaction<Database>,
    p: { userId: string; generationId: string; n: number; charge: GenerationCharge },
  ): Promise<void> {
    const { charge } = p;
    if (!charge.charged) {
      this.reservations.remember(p.generationId, null);
      return;
    }
    const user = q.userAccount(p.userId);
    await this.ledger.debit(
      trx,
      user,
      charge.total,
      (balance) =>
        new AppError(
          'insufficient_credits',
          `This generation costs ${charge.total} credits (${p.n} × ${charge.perImage}); your balance is ` +
            `${balance}. Earn credits with annotation tasks (rating images) or by running a worker.`,
        ),
    );
    await this.ledger.postOne(trx, {
      id: newTimeOrderedId(),
      key: q.reservationKey(p.generationId),
      kind: 'reserve',
      referenceType: 'generation',
      referenceId: p.generationId,
      memo: null,
      actorId: null,
      entries: [
        { account: user, amount: -charge.total },
        { account: q.escrowAccount(p.userId), amount: charge.total },
      ],
    });
    this.reservations.remember(p.generationId, {
      escrow: q.escrowAccount(p.userId),
      userId: p.userId,
      perImage: charge.total / p.n,
    });
  }

  /**
   * A job finished with an image, in the transaction that marked it done: its share of the reservation
   * (if any) goes from escrow to the platform, and the worker's owner earns by pixels × steps. Answers
   * the worker's receipt, or undefined when this earning had been posted before (read it with the key).
   */
  async jobCompleted(
    trx: Transaction<Database>,
    job: {
      id: string;
      generationId: string;
      pixels: number;
      steps: number;
      workerId: string;
      workerOwnerId: string;
      /** Set by trust/ for a worker without a verified record: the earning waits in its held account. */
      holdEarning?: boolean;
      /** Times the job was re-run after a withdrawn result: each run's worker is paid under its own key. */
      reruns?: number;
    },
  ): Promise<JobReceipt | undefined> {
    const drafts: q.TransferDraft[] = [];
    const reservation = await this.reservations.of(trx, job.generationId);
    if (reservation) drafts.push(jobEnd('settle', job, reservation, q.PLATFORM_ACCOUNT));
    const earned = workerEarning(this.pricing, job);
    const earning = earned > 0 ? { id: newTimeOrderedId(), key: earnKey(job.id, job.reruns) } : undefined;
    if (earning) {
      drafts.push({
        ...earning,
        kind: 'worker_earning',
        // The earner's own worker, not the job: the job belongs to somebody else's generation.
        referenceType: 'worker',
        referenceId: job.workerId,
        memo: null,
        actorId: null,
        entries: [
          { account: q.PLATFORM_ACCOUNT, amount: -earned },
          {
            account: job.holdEarning ? heldAccount(job.workerId) : q.userAccount(job.workerOwnerId),
            amount: earned,
          },
        ],
      });
    }
    const posted = await this.ledger.post(trx, drafts);
    if (!earning) return { credits: 0 };
    if (!posted.has(earning.key)) return undefined;
    return { credits: earned, held: job.holdEarning ?? false, transferId: earning.id };
  }

  /**
   * Jobs that failed for good or were cancelled, in that transaction: their shares go back to the user
   * (with `memo` in their history when given). Returns the credits refunded by this call.
   */
  async jobsRefunded(
    trx: Transaction<Database>,
    jobs: readonly { id: string; generationId: string }[],
    memo: string | null = null,
  ): Promise<number> {
    const drafts: q.TransferDraft[] = [];
    for (const job of jobs) {
      const reservation = await this.reservations.of(trx, job.generationId);
      if (reservation)
        drafts.push({ ...jobEnd('refund', job, reservation, q.userAccount(reservation.userId)), memo });
    }
    const posted = await this.ledger.post(trx, drafts);
    let refunded = 0;
    for (const d of drafts) if (posted.has(d.key)) refunded += d.entries[1]?.amount ?? 0;
    // A re-run (trust/reruns.ts) that fails or is cancelled: its share was settled when the result later
    // withdrawn was accepted, so its job-end exists. The requester gets the share back from the platform,
    // once (they paid for an image they never got to keep).
    const rerunRefunds: q.TransferDraft[] = [];
    for (const d of drafts) {
      if (posted.has(d.key) || (await q.transferKind(trx, d.key)) !== 'settle') continue;
      const [, to] = d.entries as [{ account: string; amount: number }, { account: string; amount: number }];
      rerunRefunds.push({
        ...d,
        id: newTimeOrderedId(),
        key: `rerun-refund:${d.key.slice('job-end:'.length)}`,
        memo: 'A re-run of an image whose first result was withdrawn could not be made: its share is refunded.',
        entries: [
          { account: q.PLATFORM_ACCOUNT, amount: -to.amount },
          { account: to.account, amount: to.amount },
        ],
      });
    }
    const rerunPosted = await this.ledger.post(trx, rerunRefunds);
    for (const d of rerunRefunds) if (rerunPosted.has(d.key)) refunded += d.entries[1]?.amount ?? 0;
    return refunded;
  }

  // --- HTTP-facing reads and the admin grant -------------------------------------------------------

  async quote(
    userId: string,
    p: { width: number; height: number; steps: number; n: number },
  ): Promise<CreditQuote> {
    const charge = await this.quoteGeneration(p);
    return {
      perImage: charge.perImage,
      total: charge.total,
      charged: charge.charged,
      stage: charge.stage,
      balance: await this.balance(this.db, userId),
    };
  }

  /** A user's figures (GET /v1/me/credits). */
  summary(userId: string): Promise<CreditSummary> {
    return creditSummary(this.db, userId);
  }

  /** A user's movements, newest first (GET /v1/me/credits/history). */
  history(userId: string, limit: number, cursor: string | undefined): Promise<CreditMovementList> {
    return creditHistory(this.db, userId, limit, cursor);
  }

  /** An admin's grant: idempotent on the Idempotency-Key, audited in the same transaction. */
  async adminGrant(
    actorId: string,
    body: CreditGrantBody,
    idempotencyKey: string | undefined,
  ): Promise<IdempotentAnswer<CreditGrant>> {
    const route = 'POST /v1/admin/credits/grants';
    return withIdempotency(
      this.db,
      this.clock,
      { userId: actorId, key: idempotencyKey, route, request: body },
      async (trx) => {
        if (!(await q.userExists(trx, body.userId))) throw notFound('User');
        const posted = await this.grant(trx, {
          userId: body.userId,
          amount: body.amount,
          memo: body.memo,
          actorId,
          key: idempotencyKey ? `grant:${actorId}:${idempotencyKey}` : `grant:${newId()}`,
        });
        const now = this.clock.now();
        await recordAudit(trx, {
          actorId,
          action: 'credits.grant',
          targetType: 'user',
          targetId: body.userId,
          detail: { amount: body.amount, memo: body.memo, transferId: posted.transferId },
          at: now,
        });
        return {
          status: 201,
          body: {
            transferId: posted.transferId as string,
            userId: body.userId,
            amount: body.amount,
            memo: body.memo,
            balance: await this.balance(trx, body.userId),
            createdAt: toIso(now),
          },
        };
      },
    );
  }
}

/** Settles (to the platform) or refunds (to the user) one job's share of its generation's reservation. */
function jobEnd(
  kind: 'settle' | 'refund',
  job: { id: string; generationId: string },
  reservation: { escrow: string; perImage: number },
  to: string,
): q.TransferDraft {
  return {
    id: newTimeOrderedId(),
    // One key for both outcomes: a job's share leaves escrow once, whichever way.
    key: `job-end:${job.id}`,
    kind,
    referenceType: 'generation',
    referenceId: job.generationId,
    memo: null,
    actorId: null,
    entries: [
      { account: reservation.escrow, amount: -reservation.perImage },
      { account: to, amount: reservation.perImage },
    ],
  };
}
