// Every setting comes from the environment (documented in the README's Configuration table).
import { join, resolve } from 'node:path';
import { ACCESS_STAGES, type AccessStage } from '@dreamfold/protocol';
import type { SqliteSynchronous } from './db/connect.js';
import { THRESHOLDS } from './trust/thresholds.js';

export interface Config {
  host: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string;
  blobUrl: string;
  sqliteSynchronous: SqliteSynchronous;
  /** PostgreSQL: hot statements prepared once per connection (db/pg-named-statements.ts). */
  pgPreparedStatements: boolean;
  /** Where uploads are checked and re-encoded: a thread of their own, or the event loop. */
  uploadValidation: 'thread' | 'inline';
  logLevel: string;
  leaseSeconds: number;
  maxAttempts: number;
  maxPixels: number;
  maxPopWaitSeconds: number;
  rateLimitPerMinute: number;
  trustProxy: boolean;
  metricsToken: string | undefined;
  /** Credits pricing; see credits/pricing.ts. */
  credits: {
    /** What one 512×512, 25-step image costs; other sizes scale with pixels × steps, rounded up. 0: free. */
    imageCost: number;
    /** What a worker's owner earns for one completed 512×512, 25-step image, scaled the same way. */
    workerReward: number;
    /** What one accepted annotation earns. */
    annotationReward: number;
  };
  /** Annotation tasks and their quality control; see annotations/. */
  annotations: {
    /** How long a handed-out task may be answered. */
    taskTtlSeconds: number;
    /** Unanswered, unexpired tasks one user may hold at a time. */
    maxOpenTasks: number;
    /** The most credits annotations earn a user in any 60 minutes (answers beyond it earn nothing). */
    hourlyCreditCap: number;
    /** Share of handed-out tasks that are gold items (checks with a known answer), in percent. */
    goldPercent: number;
    /** Gold answers a rater gives before their agreement score counts. */
    minGoldAnswers: number;
    /** Raters whose smoothed agreement score falls below this (percent) are excluded. */
    minAgreementPercent: number;
  };
  /** The access stage at first start; an admin can switch it at run time (stored in the database). */
  accessStage: AccessStage;
  /** One blocked word or /regex/flags per line; unset: no rules until an admin sets some at run time. */
  promptBlocklistFile: string | undefined;
  /** smtp(s)://user:pass@host:port; unset: mails are written to DATA_DIR/mail. */
  smtpUrl: string | undefined;
  mailFrom: string;
  sessionDays: number;
  /** How long an Idempotency-Key's answer is kept for retries (housekeeping/). */
  idempotencyKeyHours: number;
  /** Failed sign-ins in a row before the account locks, and for how long. */
  signInMaxFailures: number;
  signInLockMinutes: number;
  /** Sign-in, sign-up and reset requests per minute per IP (0: no limit). */
  signInRatePerMinute: number;
  /** Verification of results and worker reputation; see trust/policy.ts and trust/thresholds.ts. */
  trust: {
    /** off: results accepted unchecked; checks: cheap checks and reputation only; full: also replication. */
    mode: 'off' | 'checks' | 'full';
    /** The smallest chance, in percent, that a trusted worker's result gets a second opinion. */
    minReplicationPercent: number;
    /** Results in a row confirmed by other workers before a worker is trusted. */
    verifiedToTrust: number;
    probationStrikes: number;
    suspendStrikes: number;
    /** Accepted results in a row that take one strike off. */
    strikeDecayResults: number;
    /** Perceptual-hash distance (of 64 bits) at or below which two runs of a job agree. */
    agreeMaxDistance: number;
    /** CLIP-embedding cosine at or above which two runs agree, where both results came with an embedding. */
    agreeMinCosine: number;
    /** A result faster than trusted workers of the same hardware by more than this factor is refused. */
    speedSlack: number;
    /** Faster than this (ms per megapixel-step) is refused whatever the hardware. */
    minMsPerMpxStep: number;
    /** Replicas no eligible worker took within this long are given up. */
    replicaTtlSeconds: number;
  };
  /** Worker registration limits (trust/limits.ts); 0 switches a limit off. */
  workerLimits: {
    /** Accounts younger than this are "new". */
    newAccountDays: number;
    /** Workers (not revoked) a new account may have. */
    perNewAccount: number;
    /** Workers (not revoked) new accounts may have registered from one IP. */
    perIpForNewAccounts: number;
    /** Registrations per hour, per account and per IP. */
    registrationsPerHour: number;
  };
  /** Output safety (safety/): the NSFW classifier and its thresholds at first start (admins change them). */
  safety: {
    classifier: 'nsfwjs' | 'off';
    /** Classifier threads per coordinator (each ~10 images/s on one core). */
    threads: number;
    hideThreshold: number;
    blurThreshold: number;
  };
  /** Refuse requests no worker seen within this many seconds can serve (fairness/); 0: never refuse. */
  unservableWindowSeconds: number;
  /** CLIP image embeddings and aesthetic scoring (scoring/). */
  scoring: {
    /** Width of the embeddings workers send and releases ship (768: CLIP ViT-L/14). */
    embeddingDim: number;
    /** Embeddings per background scoring batch. */
    batchRows: number;
  };
}

export class ConfigError extends Error {}

function fraction(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new ConfigError(`${name} must be a number between 0 and 1 (got "${raw}").`);
  }
  return n;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}").`);
  }
  return n;
}

function oneOf<const T extends readonly string[]>(
  env: NodeJS.ProcessEnv,
  name: string,
  values: T,
  fallback: T[number],
): T[number] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!values.includes(raw))
    throw new ConfigError(`${name} must be one of ${values.join(', ')} (got "${raw}").`);
  return raw;
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';
const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.DATA_DIR ?? 'data');
  const port = int(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST ?? '127.0.0.1';
  const synchronous = (env.SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new ConfigError(`SQLITE_SYNCHRONOUS must be NORMAL or FULL (got "${env.SQLITE_SYNCHRONOUS}").`);
  }
  return {
    host,
    port,
    // By default, the address the server listens on: "localhost" may resolve to ::1 while we listen on
    // 127.0.0.1, and workers follow these URLs literally.
    publicUrl: (
      env.PUBLIC_URL ?? `http://${isWildcard(host) ? 'localhost' : bracketed(host)}:${port}`
    ).replace(/\/$/, ''),
    dataDir,
    databaseUrl: env.DATABASE_URL || `sqlite:${join(dataDir, 'dreamfold.db')}`,
    blobUrl: env.BLOB_URL || `file:${join(dataDir, 'blobs')}`,
    sqliteSynchronous: synchronous,
    pgPreparedStatements: oneOf(env, 'PG_PREPARED_STATEMENTS', ['on', 'off'] as const, 'on') === 'on',
    uploadValidation: oneOf(env, 'UPLOAD_VALIDATION', ['thread', 'inline'] as const, 'thread'),
    logLevel: env.LOG_LEVEL ?? 'info',
    leaseSeconds: int(env, 'LEASE_SECONDS', 60, 5, 3600),
    maxAttempts: int(env, 'MAX_ATTEMPTS', 3, 1, 20),
    maxPixels: int(env, 'MAX_PIXELS', 1024 * 1024, 4096, 2048 * 2048),
    maxPopWaitSeconds: int(env, 'MAX_POP_WAIT_SECONDS', 30, 0, 60),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 3000, 0, 10_000_000),
    trustProxy: env.TRUST_PROXY === 'true' || env.TRUST_PROXY === '1',
    metricsToken: env.METRICS_TOKEN || undefined,
    credits: {
      imageCost: int(env, 'CREDITS_IMAGE_COST', 10, 0, 1_000_000),
      workerReward: int(env, 'CREDITS_WORKER_REWARD', 10, 0, 1_000_000),
      annotationReward: int(env, 'CREDITS_ANNOTATION_REWARD', 2, 0, 1_000_000),
    },
    annotations: {
      taskTtlSeconds: int(env, 'ANNOTATION_TASK_TTL_SECONDS', 600, 10, 86_400),
      maxOpenTasks: int(env, 'ANNOTATION_MAX_OPEN_TASKS', 20, 1, 100_000),
      hourlyCreditCap: int(env, 'ANNOTATION_HOURLY_CREDIT_CAP', 100, 1, 1_000_000_000),
      goldPercent: int(env, 'ANNOTATION_GOLD_PERCENT', 10, 0, 100),
      minGoldAnswers: int(env, 'ANNOTATION_MIN_GOLD_ANSWERS', 5, 1, 10_000),
      minAgreementPercent: int(env, 'ANNOTATION_MIN_AGREEMENT_PERCENT', 60, 0, 100),
    },
    accessStage: oneOf(env, 'ACCESS_STAGE', ACCESS_STAGES, 'research'),
    promptBlocklistFile: env.PROMPT_BLOCKLIST_FILE ? resolve(env.PROMPT_BLOCKLIST_FILE) : undefined,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'Dreamfold <no-reply@localhost>',
    sessionDays: int(env, 'SESSION_DAYS', 14, 1, 365),
    idempotencyKeyHours: int(env, 'IDEMPOTENCY_KEY_HOURS', 24, 1, 24 * 365),
    signInMaxFailures: int(env, 'SIGN_IN_MAX_FAILURES', 5, 1, 100),
    signInLockMinutes: int(env, 'SIGN_IN_LOCK_MINUTES', 15, 1, 24 * 60),
    signInRatePerMinute: int(env, 'SIGN_IN_RATE_PER_MINUTE', 10, 0, 100_000),
    trust: {
      mode: oneOf(env, 'TRUST_VERIFY', ['off', 'checks', 'full'] as const, 'full'),
      minReplicationPercent: int(env, 'TRUST_MIN_REPLICATION_PERCENT', 5, 0, 100),
      verifiedToTrust: int(env, 'TRUST_VERIFIED_TO_TRUST', 5, 1, 1000),
      probationStrikes: int(env, 'TRUST_PROBATION_STRIKES', 2, 1, 100),
      suspendStrikes: int(env, 'TRUST_SUSPEND_STRIKES', 4, 1, 100),
      strikeDecayResults: int(env, 'TRUST_STRIKE_DECAY_RESULTS', 10, 1, 10_000),
      agreeMaxDistance: int(env, 'TRUST_AGREE_MAX_DISTANCE', THRESHOLDS.agreeDistance, 0, 32),
      agreeMinCosine: fraction(env, 'TRUST_AGREE_MIN_COSINE', THRESHOLDS.agreeCosine),
      speedSlack: int(env, 'TRUST_SPEED_SLACK', 8, 1, 1000),
      minMsPerMpxStep: int(env, 'TRUST_MIN_MS_PER_MPX_STEP', 5, 0, 100_000),
      replicaTtlSeconds: int(env, 'TRUST_REPLICA_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    },
    workerLimits: {
      newAccountDays: int(env, 'WORKER_LIMIT_NEW_ACCOUNT_DAYS', 7, 0, 3650),
      perNewAccount: int(env, 'WORKER_LIMIT_PER_NEW_ACCOUNT', 3, 0, 100_000),
      perIpForNewAccounts: int(env, 'WORKER_LIMIT_PER_IP', 5, 0, 100_000),
      registrationsPerHour: int(env, 'WORKER_REGISTRATIONS_PER_HOUR', 10, 0, 100_000),
    },
    safety: {
      classifier: oneOf(env, 'NSFW_CLASSIFIER', ['nsfwjs', 'off'] as const, 'nsfwjs'),
      threads: int(env, 'NSFW_CLASSIFIER_THREADS', 1, 1, 64),
      hideThreshold: fraction(env, 'NSFW_HIDE_THRESHOLD', 0.8),
      blurThreshold: fraction(env, 'NSFW_BLUR_THRESHOLD', 0.5),
    },
    unservableWindowSeconds: int(env, 'UNSERVABLE_WINDOW_SECONDS', 600, 0, 7 * 86_400),
    scoring: {
      embeddingDim: int(env, 'EMBEDDING_DIM', 768, 1, 4096),
      batchRows: int(env, 'SCORING_BATCH_ROWS', 500, 1, 10_000),
    },
  };
}
