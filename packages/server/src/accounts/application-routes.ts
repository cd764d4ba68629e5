// The moderators' side of research access: read applications, approve or reject them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ACCESS_STATES,
  Application,
  ApplicationDecisionBody,
  ApplicationList,
  IdParams,
  Problem,
  StringEnum,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

const ApplicationQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(ACCESS_STATES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const applicationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { applications } = services;

  app.get(
    '/v1/moderation/applications',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['moderation'],
        summary: 'Research access applications (pending ones once the email is confirmed), oldest first.',
        security: bearerSecurity,
        querystring: ApplicationQuery,
        response: { 200: ApplicationList, ...problems },
      },
    },
    async (req) => applications.list(req.query.state ?? 'pending', req.query.limit ?? 50, req.query.cursor),
  );

  app.post(
    '/v1/moderation/applications/:id/decision',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['moderation'],
        summary: 'Approve or reject (with a reason); the applicant is told by email.',
        security: bearerSecurity,
        params: IdParams,
        body: ApplicationDecisionBody,
        response: { 200: Application, 409: Problem, ...problems },
      },
    },
    async (req) => applications.decide(userOf(req).userId, req.params.id, req.body),
  );
};
