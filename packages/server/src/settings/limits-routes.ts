// Generation limits over HTTP: anyone may read what is in force (the generate form shows it); admins change
// it for every replica, or go back to the defaults from the environment.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GenerationLimitValues, GenerationLimitsInfo, Problem } from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

export const generationLimitRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { generationLimits } = services;

  app.get(
    '/v1/generation-limits',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['generations'],
        summary: 'The generation limits in force, the defaults from the environment, and the ceiling.',
        response: { 200: GenerationLimitsInfo, 429: Problem },
      },
    },
    async () => generationLimits.info(),
  );

  app.put(
    '/v1/admin/generation-limits',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Change the generation limits for every replica (audited); never beyond the ceiling.',
        security: bearerSecurity,
        body: GenerationLimitValues,
        response: { 200: GenerationLimitsInfo, ...problems },
      },
    },
    async (req) => generationLimits.set(userOf(req).userId, req.body),
  );

  app.delete(
    '/v1/admin/generation-limits',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Go back to the defaults from the environment (audited).',
        security: bearerSecurity,
        response: { 200: GenerationLimitsInfo, ...problems },
      },
    },
    async (req) => generationLimits.set(userOf(req).userId, undefined),
  );
};
