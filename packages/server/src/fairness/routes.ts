// Fairness over HTTP. Each donor-facing read and the pause switch exist twice: under /v1/workers/{id}/… for
// the owner (user key or the web app), and under /v1/workers/me/… for the worker itself (its worker key:
// `dreamfold worker pause|resume`, and the idle log). Anyone else's worker answers 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import {
  IdParams,
  IncidentList,
  ListQuery,
  PauseState,
  ReceiptList,
  ServedModels,
  WhyIdle,
} from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { userOf, workerOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import { notFound } from '../errors.js';
import { whyIdle } from './why-idle.js';
import { findWorker } from './queries.js';

export const fairnessRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { fairness, requesters, clock } = services;
  const db = services.database.db;
  const tags = ['workers'];

  /** The worker a request is about: its own (worker key) or one of the caller's (user key). */
  const subject = async (req: FastifyRequest, id: string | undefined): Promise<string> => {
    if (id === undefined) return workerOf(req).workerId;
    return (await fairness.owned(userOf(req).userId, id)).id;
  };

  app.get(
    '/v1/models',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['generations'],
        summary: 'Models that recently seen workers serve, with the largest size and fastest measured speed.',
        response: { 200: ServedModels, ...problems },
      },
    },
    async () => requesters.served(),
  );

  // One definition, two routes: the owner's and the worker's own.
  for (const [prefix, auth] of [
    ['/v1/workers/:id', 'user'],
    ['/v1/workers/me', 'worker'],
  ] as const) {
    const params = auth === 'user' ? { params: IdParams } : {};
    const idOf = (req: FastifyRequest) => (req.params as { id?: string }).id;
    const who = auth === 'user' ? 'one of your workers' : 'this worker (worker key)';

    for (const [action, paused] of [
      ['pause', true],
      ['resume', false],
    ] as const) {
      app.post(
        `${prefix}/${action}`,
        {
          config: { auth },
          schema: {
            tags,
            summary: paused
              ? `Pause ${who}: it finishes its current job, then takes none until resumed. No penalty.`
              : `Resume ${who}: it takes jobs again from its next poll.`,
            security: bearerSecurity,
            ...params,
            response: { 200: PauseState, ...problems },
          },
        },
        async (req) => fairness.setPaused(await subject(req, idOf(req)), paused),
      );
    }

    app.get(
      `${prefix}/why-idle`,
      {
        config: { auth },
        schema: {
          tags,
          summary: `Why ${who} gets no jobs: its state, its filters, and what is queued by model and size.`,
          security: bearerSecurity,
          ...params,
          response: { 200: WhyIdle, ...problems },
        },
      },
      async (req) => {
        const id = await subject(req, idOf(req));
        const worker = await findWorker(db, id);
        if (!worker) throw notFound('Worker');
        return whyIdle(db, clock.now(), worker);
      },
    );

    app.get(
      `${prefix}/receipts`,
      {
        config: { auth },
        schema: {
          tags,
          summary: `Every job ${who} finished and the credits it earned (from the ledger), newest first.`,
          security: bearerSecurity,
          ...params,
          querystring: ListQuery,
          response: { 200: ReceiptList, ...problems },
        },
      },
      async (req) =>
        fairness.receipts(await subject(req, idOf(req)), req.query.limit ?? 20, req.query.cursor),
    );

    app.get(
      `${prefix}/incidents`,
      {
        config: { auth },
        schema: {
          tags,
          summary: `Failures and lost leases of ${who}, each saying whether it counts against it.`,
          security: bearerSecurity,
          ...params,
          querystring: ListQuery,
          response: { 200: IncidentList, ...problems },
        },
      },
      async (req) =>
        fairness.incidents(await subject(req, idOf(req)), req.query.limit ?? 20, req.query.cursor),
    );
  }
};
