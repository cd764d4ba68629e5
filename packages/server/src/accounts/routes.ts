import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccessStageInfo,
  ApiKeyList,
  ChangeEmailBody,
  ChangePasswordBody,
  CreateApiKeyBody,
  DeleteAccountBody,
  SetAccessStageBody,
  UpdateProfileBody,
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
import { describeSignUp } from './generation-access.js';

export const accountsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { accounts, identity, accessStage } = services;

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
    async (req, reply) => {
      const actor = { actorId: userOf(req).userId, via: 'api' as const };
      return reply.code(201).send(await accounts.createUser(req.body.email, req.body.role ?? 'user', actor));
    },
  );

  app.patch(
    '/v1/me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['accounts'],
        summary: 'Display name and dataset consent.',
        security: bearerSecurity,
        body: UpdateProfileBody,
        response: { 200: User, ...problems },
      },
    },
    async (req) => identity.updateProfile(userOf(req).userId, req.body),
  );

  app.post(
    '/v1/me/password',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['accounts'],
        summary: 'Change the password; other sessions are signed out.',
        security: bearerSecurity,
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (req, reply) => {
      await identity.changePassword(userOf(req), req.body.currentPassword, req.body.password);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/me/email',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['accounts'],
        summary: 'Change the email: it changes once the link mailed to the new address is opened.',
        security: bearerSecurity,
        body: ChangeEmailBody,
        response: { 202: Type.Null(), 409: Problem, ...problems },
      },
    },
    async (req, reply) => {
      await identity.requestEmailChange(userOf(req).userId, req.body.email, req.body.currentPassword);
      return reply.code(202).send(null);
    },
  );

  app.delete(
    '/v1/me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['accounts'],
        summary: 'Delete the account: personal data is erased; images stay pseudonymous or are withdrawn.',
        security: bearerSecurity,
        body: DeleteAccountBody,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (req, reply) => {
      await identity.deleteAccount(userOf(req).userId, req.body);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/v1/admin/access',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Switch the access stage (research or open) for every replica.',
        security: bearerSecurity,
        body: SetAccessStageBody,
        response: { 200: AccessStageInfo, ...problems },
      },
    },
    async (req) => {
      await accessStage.set(userOf(req).userId, req.body.stage);
      return { stage: req.body.stage, signUp: describeSignUp(req.body.stage) };
    },
  );
};
