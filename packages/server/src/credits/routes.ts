// Credits over HTTP: a user's summary and history, a price quote, and the admin's grants and reads.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreditBooks,
  CreditGrant,
  CreditGrantBody,
  CreditMovementList,
  CreditQuote,
  CreditQuoteQuery,
  CreditSummary,
  GENERATION_DEFAULTS,
  IdempotencyHeaders,
  IdParams,
  ListQuery,
  Problem,
} from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import { notFound } from '../errors.js';
import { userExists } from './queries.js';
import { trialBalance } from './books.js';

export const creditsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { credits } = services;
  const db = services.database.db;

  app.get(
    '/v1/me/credits',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['credits'],
        summary: 'Your balance, what is reserved for unfinished images, and where your credits came from.',
        security: bearerSecurity,
        response: { 200: CreditSummary, ...problems },
      },
    },
    async (req) => credits.summary(userOf(req).userId),
  );

  app.get(
    '/v1/me/credits/history',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['credits'],
        summary: 'Every movement of your credits, newest first.',
        security: bearerSecurity,
        querystring: ListQuery,
        response: { 200: CreditMovementList, ...problems },
      },
    },
    async (req) => credits.history(userOf(req).userId, req.query.limit ?? 20, req.query.cursor),
  );

  app.get(
    '/v1/credits/quote',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['credits'],
        summary: 'What a generation with these parameters would cost you now.',
        security: bearerSecurity,
        querystring: CreditQuoteQuery,
        response: { 200: CreditQuote, ...problems },
      },
    },
    async (req) =>
      credits.quote(userOf(req).userId, {
        width: req.query.width ?? GENERATION_DEFAULTS.width,
        height: req.query.height ?? GENERATION_DEFAULTS.height,
        steps: req.query.steps ?? GENERATION_DEFAULTS.steps,
        n: req.query.n ?? GENERATION_DEFAULTS.n,
      }),
  );

  app.post(
    '/v1/admin/credits/grants',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin', 'credits'],
        summary: 'Give a user credits (negative: take them back). Audited; Idempotency-Key honoured.',
        security: bearerSecurity,
        headers: IdempotencyHeaders,
        body: CreditGrantBody,
        response: { 201: CreditGrant, 402: Problem, 422: Problem, ...problems },
      },
    },
    async (req, reply) => {
      const answer = await credits.adminGrant(userOf(req).userId, req.body, req.headers['idempotency-key']);
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(answer.body);
    },
  );

  app.get(
    '/v1/admin/users/:id/credits',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin', 'credits'],
        security: bearerSecurity,
        params: IdParams,
        response: { 200: CreditSummary, ...problems },
      },
    },
    async (req) => {
      if (!(await userExists(db, req.params.id))) throw notFound('User');
      return credits.summary(req.params.id);
    },
  );

  app.get(
    '/v1/admin/users/:id/credits/history',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin', 'credits'],
        security: bearerSecurity,
        params: IdParams,
        querystring: ListQuery,
        response: { 200: CreditMovementList, ...problems },
      },
    },
    async (req) => {
      if (!(await userExists(db, req.params.id))) throw notFound('User');
      return credits.history(req.params.id, req.query.limit ?? 20, req.query.cursor);
    },
  );

  app.get(
    '/v1/admin/credits/books',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin', 'credits'],
        summary: 'Trial balance: checks every transfer, every balance and escrow against the queue.',
        security: bearerSecurity,
        response: { 200: CreditBooks, ...problems },
      },
    },
    async () => trialBalance(db),
  );
};
