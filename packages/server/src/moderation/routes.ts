// Moderation over HTTP: users report images; moderators (and admins) work the report queue, hide and
// unhide images, suspend and unsuspend users and read the audit log; admins set the prompt filter.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuditList,
  AuditQuery,
  CreateReportBody,
  HiddenImageList,
  IdempotencyHeaders,
  IdParams,
  ListQuery,
  ModeratedImage,
  ModerationReasonBody,
  Problem,
  PromptFilterRules,
  PromptFilterState,
  Report,
  ReportQueue,
  ResolveReportBody,
  ResolveReportResult,
  UserStanding,
} from '@dreamfold/protocol';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import type { Actor } from './service.js';

const withConflict = { ...problems, 409: Problem };

export const moderationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { moderation, promptFilter } = services;
  const actor = (req: FastifyRequest): Actor => {
    const user = userOf(req);
    return { userId: user.userId, role: user.role };
  };
  const staff = { tags: ['moderation'], security: bearerSecurity };

  app.post(
    '/v1/images/:id/reports',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['images'],
        summary: 'Report an image to the moderators (one open report per user and image).',
        security: bearerSecurity,
        params: IdParams,
        headers: IdempotencyHeaders,
        body: CreateReportBody,
        response: { 201: Report, ...withConflict },
      },
    },
    async (req, reply) => {
      const answer = await moderation.report(
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
    '/v1/moderation/reports',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Open reports grouped by image, longest waiting first.',
        querystring: ListQuery,
        response: { 200: ReportQueue, ...problems },
      },
    },
    async (req) => moderation.queue(req.query.limit ?? 20, req.query.cursor),
  );

  app.post(
    '/v1/moderation/reports/:id/resolve',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary:
          'Decide a report: dismiss (the image stays) or hide the image. Closes every open report on it.',
        params: IdParams,
        body: ResolveReportBody,
        response: { 200: ResolveReportResult, ...withConflict },
      },
    },
    async (req) => moderation.resolve(actor(req), req.params.id, req.body),
  );

  app.post(
    '/v1/moderation/images/:id/hide',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Take an image down: out of the gallery, annotation tasks and dataset releases.',
        params: IdParams,
        body: ModerationReasonBody,
        response: { 200: ModeratedImage, ...withConflict },
      },
    },
    async (req) => moderation.hide(actor(req), req.params.id, req.body.reason),
  );

  app.post(
    '/v1/moderation/images/:id/unhide',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        params: IdParams,
        body: ModerationReasonBody,
        response: { 200: ModeratedImage, ...withConflict },
      },
    },
    async (req) => moderation.unhide(actor(req), req.params.id, req.body.reason),
  );

  app.get(
    '/v1/moderation/hidden-images',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Hidden images, most recently hidden first.',
        querystring: ListQuery,
        response: { 200: HiddenImageList, ...problems },
      },
    },
    async (req) => moderation.hidden(req.query.limit ?? 20, req.query.cursor),
  );

  app.get(
    '/v1/moderation/users/:id',
    {
      config: { auth: 'moderator' },
      schema: { ...staff, params: IdParams, response: { 200: UserStanding, ...problems } },
    },
    async (req) => moderation.standing(req.params.id),
  );

  app.post(
    '/v1/moderation/users/:id/suspend',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Suspend a user: their API keys, worker keys and sessions stop working at once.',
        params: IdParams,
        body: ModerationReasonBody,
        response: { 200: UserStanding, ...withConflict },
      },
    },
    async (req) => moderation.suspend(actor(req), req.params.id, req.body.reason),
  );

  app.post(
    '/v1/moderation/users/:id/unsuspend',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        params: IdParams,
        body: ModerationReasonBody,
        response: { 200: UserStanding, ...withConflict },
      },
    },
    async (req) => moderation.unsuspend(actor(req), req.params.id, req.body.reason),
  );

  app.get(
    '/v1/moderation/audit',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'Every moderator and admin action, newest first; filter by actor, action and target.',
        querystring: AuditQuery,
        response: { 200: AuditList, ...problems },
      },
    },
    async (req) => moderation.audit(req.query),
  );

  app.get(
    '/v1/moderation/prompt-filter',
    {
      config: { auth: 'moderator' },
      schema: {
        ...staff,
        summary: 'The prompt filter rules in force.',
        response: { 200: PromptFilterState, ...problems },
      },
    },
    async () => promptFilter.state(),
  );

  app.put(
    '/v1/admin/prompt-filter',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary:
          'Replace the prompt filter rules (validated; applies to every replica within seconds). Prompts already submitted are screened again in the background: their images are hidden, or shown again when only the old rules hid them.',
        security: bearerSecurity,
        body: PromptFilterRules,
        response: { 200: PromptFilterState, ...problems },
      },
    },
    async (req) => {
      const state = await promptFilter.replace(userOf(req).userId, req.body);
      // Prompts already submitted are screened again in the background (safety/reevaluation.ts).
      await services.safety.reevaluations.promptRulesChanged(userOf(req).userId, state);
      return state;
    },
  );

  app.delete(
    '/v1/admin/prompt-filter',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Drop the run-time rules: PROMPT_BLOCKLIST_FILE (or no rules) applies again.',
        security: bearerSecurity,
        response: { 200: PromptFilterState, ...problems },
      },
    },
    async (req) => {
      const state = await promptFilter.reset(userOf(req).userId);
      await services.safety.reevaluations.promptRulesChanged(userOf(req).userId, state);
      return state;
    },
  );
};
