// Verification and reputation over HTTP: a worker's standing for its owner (and staff), the events
// behind it, and the model fingerprints an admin pins.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  IdParams,
  ModelFingerprints,
  ModelParams,
  ModerationReasonBody,
  Problem,
  PutModelFingerprintsBody,
  TrustEventList,
  TrustEventQuery,
  WorkerReputation,
} from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { isStaff, userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

export const trustRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { trust } = services;
  const viewer = (req: Parameters<typeof userOf>[0]) => {
    const user = userOf(req);
    return { userId: user.userId, staff: isStaff(user) };
  };

  app.get(
    '/v1/workers/:id/reputation',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['workers'],
        summary:
          'How the worker stands: trusted, new, on probation or suspended, why, its verified record, held credits and fingerprints.',
        security: bearerSecurity,
        params: IdParams,
        response: { 200: WorkerReputation, ...problems },
      },
    },
    async (req) => trust.views.reputation(viewer(req), req.params.id),
  );

  app.get(
    '/v1/workers/:id/trust-events',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['workers'],
        summary: 'What happened to the worker’s results and standing, newest first, with reasons.',
        security: bearerSecurity,
        params: IdParams,
        querystring: TrustEventQuery,
        response: { 200: TrustEventList, ...problems },
      },
    },
    async (req) =>
      trust.views.events(viewer(req), req.params.id, req.query.limit ?? 50, req.query.cursor, req.query.kind),
  );

  app.post(
    '/v1/moderation/workers/:id/reinstate',
    {
      config: { auth: 'moderator' },
      schema: {
        tags: ['moderation'],
        summary:
          'Reinstate a suspended worker, with the reason its owner will read: it comes back on probation (every result checked), never trusted at once.',
        security: bearerSecurity,
        params: IdParams,
        body: ModerationReasonBody,
        response: { 200: WorkerReputation, ...problems, 409: Problem },
      },
    },
    async (req) => trust.reinstate(userOf(req).userId, req.params.id, req.body.reason),
  );

  app.get(
    '/v1/admin/models/:model/fingerprints',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'The known weights of a model: pinned by an admin, or first seen from trusted workers.',
        security: bearerSecurity,
        params: ModelParams,
        response: { 200: ModelFingerprints, ...problems },
      },
    },
    async (req) => trust.fingerprints.get(req.params.model),
  );

  app.put(
    '/v1/admin/models/:model/fingerprints',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary:
          'Pin a model to these weights (SHA-256 from fingerprintModel): workers reporting others get no jobs of it. [] unpins.',
        security: bearerSecurity,
        params: ModelParams,
        body: PutModelFingerprintsBody,
        response: { 200: ModelFingerprints, ...problems },
      },
    },
    async (req) => trust.fingerprints.put(userOf(req).userId, req.params.model, req.body.fingerprints),
  );
};
