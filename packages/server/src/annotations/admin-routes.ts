// Gold items and raters over HTTP, for moderators and admins: every change is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreateGoldBody,
  GoldItem,
  GoldList,
  GoldListQuery,
  IdempotencyHeaders,
  IdParams,
  ModerationReasonBody,
  Problem,
  RaterList,
  RaterListQuery,
  RaterParams,
  RaterSummary,
} from '@dreamfold/protocol';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import type { RaterViewer } from './raters.js';

const viewer = (req: FastifyRequest): RaterViewer => {
  const user = userOf(req);
  return { userId: user.userId, admin: user.role === 'admin' };
};

export const annotationAdminRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { gold, raters } = services.annotations;

  app.post(
    '/v1/admin/annotations/gold',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['annotations', 'admin'],
        summary:
          'Marks an image (rating range or flags) or a pair of the same prompt (the better one, or a tie) as a gold item: mixed into tasks unannounced, it scores the raters who get it.',
        security: bearerSecurity,
        headers: IdempotencyHeaders,
        body: CreateGoldBody,
        response: { 201: GoldItem, 409: Problem, 422: Problem, ...problems },
      },
    },
    async (req, reply) => {
      const answer = await gold.create(userOf(req).userId, req.body, req.headers['idempotency-key']);
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(answer.body);
    },
  );

  app.get(
    '/v1/admin/annotations/gold',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['annotations', 'admin'],
        summary:
          'Gold items, newest first, with how often raters agreed with each (a low share hints at a bad item).',
        security: bearerSecurity,
        querystring: GoldListQuery,
        response: { 200: GoldList, ...problems },
      },
    },
    async (req) => gold.list(req.query.kind, req.query.limit ?? 50, req.query.cursor),
  );

  app.delete(
    '/v1/admin/annotations/gold/:id',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['annotations', 'admin'],
        summary: 'Retires a gold item: no longer handed out; the verdicts of answers already given stand.',
        security: bearerSecurity,
        params: IdParams,
        response: { 200: GoldItem, ...problems },
      },
    },
    async (req) => gold.retire(userOf(req).userId, req.params.id),
  );

  app.get(
    '/v1/admin/annotations/raters',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['annotations', 'admin'],
        summary:
          'Raters with their answers, checks and earnings: excluded ones (most recently excluded first), earning ones, or all (newest first). Emails for admins only.',
        security: bearerSecurity,
        querystring: RaterListQuery,
        response: { 200: RaterList, ...problems },
      },
    },
    async (req) =>
      raters.list(viewer(req), {
        filter: req.query.status ?? 'all',
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      }),
  );

  app.post(
    '/v1/admin/annotations/raters/:userId/reinstate',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['annotations', 'admin'],
        summary:
          'Reinstates an excluded rater: their answers rejoin the aggregates and their checks start over (409 if not excluded).',
        security: bearerSecurity,
        params: RaterParams,
        body: ModerationReasonBody,
        response: { 200: RaterSummary, 409: Problem, ...problems },
      },
    },
    async (req) => raters.reinstate(viewer(req), req.params.userId, req.body.reason),
  );
};
