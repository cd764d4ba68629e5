import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem, Stats } from '@dreamfold/protocol';
import { Type } from 'typebox';
import { sql } from 'kysely';
import type { Services } from '../services.js';
import { AppError } from '../errors.js';
import { bearerToken } from './auth.js';
import { countQueued } from '../jobs/sql/read-generations.js';

export const systemRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/healthz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['system'],
        summary: 'The process is alive.',
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['system'],
        summary: 'The database answers; safe to route traffic here.',
        response: { 200: Type.Object({ ok: Type.Boolean() }), 503: Problem },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(services.database.db);
      } catch {
        throw new AppError('unavailable', 'The database does not answer.');
      }
      return { ok: true };
    },
  );

  app.get(
    '/v1/stats',
    {
      config: { auth: 'public' },
      schema: { tags: ['system'], summary: 'Live platform figures.', response: { 200: Stats } },
    },
    async () => {
      const db = services.database.db;
      const [states, workersOnline, ratings, releases] = await Promise.all([
        countQueued(db),
        services.workers.onlineCount(),
        // One row per rater, so this stays small however many answers there are.
        db
          .selectFrom('annotation_raters')
          .select(
            sql<string | number>`coalesce(sum(rating_answers + pairwise_answers + flag_answers), 0)`.as('n'),
          )
          .executeTakeFirstOrThrow(),
        // dataset_releases is the datasets domain's own table (datasets/queries.ts), outside `Database`.
        sql<{ n: string | number }>`select count(*) as n from dataset_releases where state = 'ready'`.execute(
          db,
        ),
      ]);
      const count = (s: string) => states.find((r) => r.state === s)?.count ?? 0;
      return {
        imagesGenerated: count('done'),
        workersOnline,
        queueLength: count('queued'),
        ratingsCollected: Number(ratings.n),
        datasetsReleased: Number(releases.rows[0]?.n ?? 0),
      };
    },
  );

  app.get(
    '/metrics',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (bearer METRICS_TOKEN when set).',
        hide: false,
      },
    },
    async (req, reply) => {
      const token = services.config.metricsToken;
      if (token && bearerToken(req) !== token)
        throw new AppError('unauthorized', 'Send the METRICS_TOKEN as a bearer token.');
      const body = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(body);
    },
  );
};
