// Output safety over HTTP: owners appeal a hidden image; moderators work the appeals and read how often
// each rule was wrong; admins set the classifier's thresholds.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  Appeal,
  AppealList,
  AppealQuery,
  AppealStats,
  CreateAppealBody,
  DecideAppealBody,
  IdempotencyHeaders,
  IdParams,
  ListQuery,
  ModeratorAppealList,
  Problem,
  SafetyReevaluationList,
  SafetySettings,
  SafetyThresholds,
} from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

const withConflict = { ...problems, 409: Problem };

export const safetyRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { safety } = services;
  const staff = { tags: ['moderation'], security: bearerSecurity };

  app.post(
    '/v1/images/:id/appeals',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['images'],
        summary:
          'Appeal the decision that hid your image (the classifier or a moderator); one open appeal per image.',
        security: bearerSecurity,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: CreateAppealBody,
        response: { 201: Appeal, ...withConflict, 422: Problem },
      },
    },
    async (req, reply) => {
      const answer = await safety.appeals.create(
        userOf(req).userId,
        req.params.id,
        req.body,
        req.headers['idempotency-key'],
      );
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(answer.body);
    },
  );

  app.get(
    '/v1/me/appeals',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['images'],
        summary: 'Your appeals, newest first.',
        security: bearerSecurity,
        querystring: ListQuery,
        response: { 200: AppealList, ...problems },
      },
    },
    async (req) => safety.appeals.mine(userOf(req).userId, req.query.limit ?? 20, req.query.cursor),
  );

  app.get(
    '/v1/moderation/appeals',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Appeals in one state (default open), oldest first.',
        querystring: AppealQuery,
        response: { 200: ModeratorAppealList, ...problems },
      },
    },
    async (req) => safety.appeals.queue(req.query),
  );

  app.post(
    '/v1/moderation/appeals/:id/decision',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Uphold an appeal’s decision, or overturn it (the image becomes public again). Audited.',
        params: IdParams,
        body: DecideAppealBody,
        response: { 200: Appeal, ...withConflict },
      },
    },
    async (req) => safety.appeals.decide(userOf(req).userId, req.params.id, req.body),
  );

  app.get(
    '/v1/moderation/appeals/stats',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Appeal outcomes by rule and classifier: the counted false positives, per score band.',
        response: { 200: AppealStats, ...problems },
      },
    },
    async () => safety.appeals.stats(),
  );

  app.get(
    '/v1/moderation/safety',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'The classifier, its thresholds and how many images wait for it.',
        response: { 200: SafetySettings, ...problems },
      },
    },
    async () => safety.settings(),
  );

  app.put(
    '/v1/admin/safety/thresholds',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary:
          'Set the hide and blur thresholds, audited. Blurring follows at once; a new hide threshold applies to new verdicts at once and to images already classified in the background, by their stored scores (GET /v1/admin/safety/reevaluations).',
        security: bearerSecurity,
        body: SafetyThresholds,
        response: { 200: SafetySettings, ...problems },
      },
    },
    async (req) => safety.setThresholds(userOf(req).userId, req.body),
  );

  app.get(
    '/v1/admin/safety/reevaluations',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary:
          'Progress of the background re-evaluations that follow a threshold or prompt-filter change: how many looked at, hidden and shown again.',
        security: bearerSecurity,
        response: { 200: SafetyReevaluationList, ...problems },
      },
    },
    async () => ({ items: await safety.reevaluations.list() }),
  );
};
