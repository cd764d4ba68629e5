// Builds the coordinator: one Fastify app, one plugin per domain, services wired here and nowhere else.
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import cookie from '@fastify/cookie';
import type { Logger } from 'pino';
import pino from 'pino';
import './http/types.js';
import type { Config } from './config.js';
import { systemClock, type Clock } from './clock.js';
import { openDatabase, type DatabaseHandle } from './db/connect.js';
import type { EventBus } from './events/bus.js';
import { inlineUploadValidator, UploadThread, type UploadValidator } from './images/upload-validator.js';
import { MemoryBus } from './events/memory-bus.js';
import { PgBus } from './events/pg-bus.js';
import type { BlobStore } from './storage/blob-store.js';
import { openBlobStore } from './storage/open-blob-store.js';
import { Metrics } from './metrics/metrics.js';
import { AccountsService } from './accounts/service.js';
import { GenerationService } from './jobs/generation-service.js';
import { GenerationPublisher } from './jobs/publisher.js';
import { failedJobs } from './safety/failed-jobs.js';
import { GenerationCache } from './jobs/generation-cache.js';
import { countQueued } from './jobs/sql/read-generations.js';
import { WorkerService } from './workers/worker-service.js';
import { LeaseService } from './workers/lease-service.js';
import { AccessStageSetting } from './settings/access-stage.js';
import { IdentityService } from './accounts/identity-service.js';
import { ApplicationsService } from './accounts/applications.js';
import { SessionAuthenticator } from './accounts/session-auth.js';
import { authRoutes } from './accounts/auth-routes.js';
import { applicationRoutes } from './accounts/application-routes.js';
import { createMailer } from './mail/mailer.js';
import { CreditsService } from './credits/service.js';
import { creditsRoutes } from './credits/routes.js';
import { annotationAdminRoutes, annotationRoutes, createAnnotations } from './annotations/index.js';
import { registerAuth, bearerToken } from './http/auth.js';
import { registerProblemHandlers } from './http/problem.js';
import { systemRoutes } from './http/system-routes.js';
import { accountsRoutes } from './accounts/routes.js';
import { generationRoutes } from './jobs/routes.js';
import { workerRoutes } from './workers/routes.js';
import { webApp } from './http/web-app.js';
import { ModerationService } from './moderation/service.js';
import type { AccountStopEffect } from './accounts/account-stop.js';
import { PromptFilter, loadRuleFile } from './moderation/prompt-filter.js';
import { moderationRoutes } from './moderation/routes.js';
import { ImageService } from './images/service.js';
import { Thumbnails } from './images/thumbnails.js';
import { imageRoutes } from './images/routes.js';
import type { Services } from './services.js';
import { Housekeeping } from './housekeeping/service.js';
import { DatasetService } from './datasets/release-service.js';
import { datasetRoutes } from './datasets/routes.js';
import { ScoringService } from './scoring/service.js';
import { scoringRoutes } from './scoring/routes.js';
import { SafetyService } from './safety/service.js';
import { safetyRoutes } from './safety/routes.js';
import { CoordinatorRuns } from './fairness/outages.js';
import { FairnessService } from './fairness/service.js';
import { RequesterFairness } from './fairness/requesters.js';
import { leaseHooks } from './fairness/lease-hooks.js';
import { fairnessRoutes } from './fairness/routes.js';
import { TrustService } from './trust/service.js';
import { trustRoutes } from './trust/routes.js';
import { DonorService } from './donors/service.js';
import { donorRoutes } from './donors/routes.js';
import { GenerationLimitsSetting } from './settings/generation-limits.js';
import { generationLimitRoutes } from './settings/limits-routes.js';
import { sha256Hex } from './ids.js';

export interface BuildOptions {
  config: Config;
  clock?: Clock;
  /** false: no request logging (tests, benchmarks). */
  logger?: Logger | false;
  /** How often expired leases are taken back (ms). */
  reaperIntervalMs?: number;
  /** How often long-polls re-check the queue in case a notification was missed (ms). */
  safetyWakeMs?: number;
  /** Provide an already open store (tests share one S3 server). */
  blobs?: BlobStore;
  /** The built web app to serve at `/` (default packages/web/dist; tests build their own). */
  webRoot?: string;
  /** How often the dataset release schedule is checked (ms). */
  datasetScheduleCheckMs?: number;
  /** How often the background scorer looks for embeddings to score (ms). */
  scoringIntervalMs?: number;
  /** How often expired idempotency keys, sessions and email links are deleted (housekeeping/). */
  housekeepingIntervalMs?: number;
}

export type CoordinatorApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface Coordinator {
  app: CoordinatorApp;
  services: Services;
  close(): Promise<void>;
}

export async function buildCoordinator(options: BuildOptions): Promise<Coordinator> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  // Read before anything opens: a bad blocklist stops start-up with the offending lines named.
  const blocklist = config.promptBlocklistFile ? loadRuleFile(config.promptBlocklistFile) : undefined;
  const log =
    options.logger === false
      ? pino({ level: 'silent' })
      : (options.logger ?? pino({ level: config.logLevel }));
  const database: DatabaseHandle = await openDatabase(config.databaseUrl, {
    sqliteSynchronous: config.sqliteSynchronous,
    pgPreparedStatements: config.pgPreparedStatements,
    onPoolError: (err) => log.warn({ err: err.message }, 'an idle database connection was closed'),
    onCheckpointError: (message) => log.warn({ err: message }, 'a background WAL checkpoint failed'),
  });
  const bus: EventBus =
    database.dialect === 'postgres' ? await PgBus.connect(config.databaseUrl, log) : new MemoryBus();
  // With SQLITE_SYNCHRONOUS=FULL a committed result survives a power loss, so its image file must too.
  const blobs =
    options.blobs ??
    openBlobStore(config.blobUrl, {
      durable: database.dialect === 'sqlite' && config.sqliteSynchronous === 'FULL',
    });
  const { db } = database;

  const accessStage = new AccessStageSetting(db, clock, config.accessStage);
  const credits = new CreditsService(db, database.dialect, clock, accessStage, config.credits);
  const annotations = createAnnotations({ db, dialect: database.dialect, clock, credits, config });
  const accounts = new AccountsService(db, clock);
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    folder: join(config.dataDir, 'mail'),
    log,
  });
  const publicUrl = () => config.publicUrl;
  // What stops with an account (suspended or deleted): filled below, once jobs/ is built.
  const accountEffects: AccountStopEffect[] = [];
  const identity = new IdentityService(db, clock, mailer, accessStage, accounts, log, {
    publicUrl,
    sessionDays: config.sessionDays,
    signInMaxFailures: config.signInMaxFailures,
    signInLockMinutes: config.signInLockMinutes,
    accountEffects,
  });
  const applications = new ApplicationsService(db, clock, accounts, identity, publicUrl);
  const sessions = new SessionAuthenticator(db, clock, identity.sessionTtlMs);
  const workers = new WorkerService(db, clock);
  const promptFilter = new PromptFilter(db, clock, blocklist);
  const images = new ImageService(db, new Thumbnails(blobs));
  const publisher = new GenerationPublisher(db, bus, log);
  // Output safety: the NSFW classifier runs off the request path on every finished image (safety/).
  const safetyService = new SafetyService(
    db,
    database.dialect,
    clock,
    blobs,
    log,
    {
      classifier: config.safety.classifier,
      threads: config.safety.threads,
      thresholds: { hideAbove: config.safety.hideThreshold, blurAbove: config.safety.blurThreshold },
      maxPixels: config.maxPixels,
    },
    failedJobs(credits, publisher),
  );
  // Fairness: coordinator runs tell an outage from a worker that went away (fairness/outages.ts).
  // After an outage, workers get one lease length plus their longest back-off (60 s) to come back.
  const runs = new CoordinatorRuns(db, clock, {
    aliveMs: 5000,
    graceMs: config.leaseSeconds * 1000 + 60_000,
  });
  const fairness = new FairnessService(db, clock, runs, { maxPopWaitMs: config.maxPopWaitSeconds * 1000 });
  const requesters = new RequesterFairness(db, clock, { windowSeconds: config.unservableWindowSeconds });
  const generationCache = new GenerationCache(db);
  // Uploads are checked and re-encoded on a thread of their own unless UPLOAD_VALIDATION=inline.
  const uploads: UploadValidator =
    config.uploadValidation === 'thread' ? new UploadThread() : inlineUploadValidator;
  const trust = new TrustService({
    db,
    dialect: database.dialect,
    clock,
    bus,
    publisher,
    credits,
    generations: generationCache,
    config,
    deliver: (mail) => identity.deliver(mail),
    publicUrl,
    uploads,
  });
  const generationLimits = new GenerationLimitsSetting(db, clock, config.maxPixels);
  const generations = new GenerationService(
    db,
    clock,
    bus,
    publisher,
    generationCache,
    {
      maxPixels: config.maxPixels,
      maxAttempts: config.maxAttempts,
      settings: generationLimits,
    },
    credits,
    database.dialect,
  );
  // A suspension or deletion cancels and refunds the user's unfinished images in its own transaction.
  accountEffects.push(generations);
  const moderation = new ModerationService(db, clock, [accounts, workers], accountEffects);
  const metrics: Metrics = new Metrics(
    {
      jobsByState: () => countQueued(db),
      workersOnline: () => workers.onlineCount(),
      // Called at scrape time, after `leases` below exists.
      waitingWorkers: (): number => leases.waiters.size,
    },
    { defaultMetrics: options.logger !== false },
  );
  const leases: LeaseService = new LeaseService(
    db,
    database.dialect,
    clock,
    bus,
    blobs,
    publisher,
    generationCache,
    metrics,
    {
      leaseMs: config.leaseSeconds * 1000,
      heartbeatIntervalMs: Math.max(1000, Math.floor((config.leaseSeconds * 1000) / 4)),
      maxPopWaitMs: config.maxPopWaitSeconds * 1000,
      maxUploadBytes: config.maxPixels * 4 + 1024 * 1024,
      uploadUrlTtlSeconds: 600,
      publicUrl: () => config.publicUrl,
    },
    credits,
    leaseHooks(safetyService, fairness),
    trust,
    uploads,
  );
  const datasets = new DatasetService(database, blobs, clock, {
    dir: join(config.dataDir, 'datasets'),
    log,
    embeddingDim: config.scoring.embeddingDim,
  });
  const scoring = new ScoringService(db, blobs, clock, trust, { ...config.scoring, log });
  const services: Services = {
    config,
    clock,
    database,
    bus,
    blobs,
    metrics,
    accounts,
    generations,
    workers,
    leases,
    accessStage,
    identity,
    applications,
    credits,
    promptFilter,
    moderation,
    images,
    annotations,
    datasets,
    scoring,
    safety: safetyService,
    fairness,
    requesters,
    trust,
    donors: new DonorService(db, clock, promptFilter),
    generationLimits,
    housekeeping: new Housekeeping(
      db,
      clock,
      { idempotencyKeyHours: config.idempotencyKeyHours, dialect: database.dialect },
      log,
    ),
  };

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    forceCloseConnections: true,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  registerProblemHandlers(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Dreamfold API',
        version: '1',
        description:
          'Open, volunteer-powered text-to-image platform: generations, workers, the worker protocol.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.addHook('onRoute', (route) => {
    // The docs routes come from @fastify/swagger-ui; they are public by nature.
    if (route.url.startsWith('/docs') || route.url === '/openapi.json') {
      route.config = { ...(route.config as object), auth: 'public' };
    }
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(cookie);
  // Registered even when the global limit is off: sign-in and sign-up carry their own route limits.
  await app.register(rateLimit, {
    global: config.rateLimitPerMinute > 0,
    max: config.rateLimitPerMinute,
    timeWindow: '1 minute',
    // Per key when one is sent (hashed: the limiter's store never holds secrets), else per IP.
    keyGenerator: (req) => {
      const token = bearerToken(req);
      return token ? `k:${sha256Hex(token).slice(0, 32)}` : `ip:${req.ip}`;
    },
  });

  registerAuth(app, accounts, workers, sessions);
  app.addHook('onResponse', async (req, reply) => {
    metrics.requestDuration
      .labels(req.method, req.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  await app.register(systemRoutes, { services });
  await app.register(authRoutes, { services });
  await app.register(accountsRoutes, { services });
  await app.register(applicationRoutes, { services });
  await app.register(generationRoutes, { services });
  await app.register(workerRoutes, { services });
  await app.register(creditsRoutes, { services });
  await app.register(annotationRoutes, { services });
  await app.register(annotationAdminRoutes, { services });
  await app.register(moderationRoutes, { services });
  await app.register(imageRoutes, { services });
  await app.register(datasetRoutes, { services });
  await app.register(scoringRoutes, { services });
  await app.register(safetyRoutes, { services });
  await app.register(fairnessRoutes, { services });
  await app.register(trustRoutes, { services });
  await app.register(donorRoutes, { services });
  await app.register(generationLimitRoutes, { services });
  // The web app at `/` and its client-side routes (http/web-app.ts).
  await app.register(webApp, { root: options.webRoot });

  // Before the reaper's first pass: it needs the outages before this run to excuse their leases.
  await runs.start();
  await safetyService.start();
  const reaper = setInterval(() => {
    leases.expire().catch((err: Error) => log.error({ err: err.message }, 'lease reaper failed'));
  }, options.reaperIntervalMs ?? 1000);
  const safety = setInterval(() => leases.waiters.wakeAll(), options.safetyWakeMs ?? 5000);
  reaper.unref();
  safety.unref();
  datasets.start(options.datasetScheduleCheckMs ?? 60_000);
  scoring.start(options.scoringIntervalMs ?? 5_000);
  services.housekeeping.start(options.housekeepingIntervalMs ?? 600_000);

  app.addHook('preClose', async () => {
    clearInterval(reaper);
    clearInterval(safety);
    leases.stop();
    await datasets.stop();
    await scoring.stop();
    await services.housekeeping.stop();
    await safetyService.stop();
    await runs.stop();
  });
  app.addHook('onClose', async () => {
    mailer.close();
    await uploads.close();
    await bus.close();
    await blobs.close();
    await database.close();
  });

  await app.ready();
  return { app, services, close: () => app.close() };
}
