import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
  CreatedUser,
  CreateUserBody,
  IdParams,
  Problem,
  User,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';

export const accountsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { accounts } = services;

  app.get(
    '/v1/me',
    {
      config: { auth: 'user' },
      schema: { tags: ['accounts'], security: bearerSecurity, response: { 200: User, ...problems } },
    },
    async (req) => accounts.getUser(userOf(req).userId),
  );

  app.get(
    '/v1/me/api-keys',
    {
      config: { auth: 'user' },
      schema: { tags: ['accounts'], security: bearerSecurity, response: { 200: ApiKeyList, ...problems } },
    },
    async (req) => ({ items: await accounts.listApiKeys(userOf(req).userId) }),
  );

  app.post(
    '/v1/me/api-keys',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['accounts'],
        security: bearerSecurity,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...problems },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await accounts.createApiKey(userOf(req).userId, req.body.name)),
  );

  app.delete(
    '/v1/me/api-keys/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['accounts'],
        security: bearerSecurity,
        params: IdParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (req, reply) => {
      await accounts.revokeApiKey(userOf(req).userId, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/admin/users',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        security: bearerSecurity,
        body: CreateUserBody,
        response: { 201: CreatedUser, 409: Problem, ...problems },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await accounts.createUser(req.body.email, req.body.role ?? 'user')),
  );
};
