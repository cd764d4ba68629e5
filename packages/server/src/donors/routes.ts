// Donors over HTTP: the public leaderboard, how the caller appears on it, and the caller's workers'
// current jobs and throughput history.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ActivityQuery,
  DonorLeaderboard,
  DonorProfile,
  DonorProfileBody,
  LeaderboardQuery,
  Problem,
  WorkerActivityList,
} from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

export const donorRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { donors } = services;

  app.get(
    '/v1/donors/leaderboard',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['donors'],
        summary:
          'Donors ranked by verified work (megapixel-steps of accepted images) over a period; public names ' +
          'only where donors chose one, pseudonyms otherwise; recomputed at most once a minute.',
        querystring: LeaderboardQuery,
        response: { 200: DonorLeaderboard, 400: Problem, 429: Problem },
      },
    },
    async (req) => donors.leaderboard(req.query.period ?? 'week', req.query.limit ?? 20),
  );

  app.get(
    '/v1/me/donor-profile',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['donors'],
        summary: 'How you appear on the donors leaderboard.',
        security: bearerSecurity,
        response: { 200: DonorProfile, ...problems },
      },
    },
    async (req) => donors.profile(userOf(req).userId),
  );

  app.put(
    '/v1/me/donor-profile',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['donors'],
        summary: 'Choose a pseudonym (default), a public name of your choosing, or to be hidden.',
        security: bearerSecurity,
        body: DonorProfileBody,
        response: { 200: DonorProfile, ...problems, 422: Problem },
      },
    },
    async (req) => donors.setProfile(userOf(req).userId, req.body),
  );

  app.get(
    '/v1/workers/activity',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['workers'],
        summary: 'Your workers: the job each holds now, and finished jobs and megapixel-steps per hour.',
        security: bearerSecurity,
        querystring: ActivityQuery,
        response: { 200: WorkerActivityList, ...problems },
      },
    },
    async (req) => donors.activity(userOf(req).userId, req.query.days ?? 7),
  );
};
