// Sign-up, email verification, sign-in/out and password reset: the public side of accounts. Sign-in,
// sign-up and reset are rate limited per IP on top of the per-account lockout.
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccessStageInfo,
  EmailBody,
  Problem,
  ResetPasswordBody,
  Session,
  SignInBody,
  SignUpBody,
  SignUpResult,
  TokenBody,
  User,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { problems } from '../http/schemas.js';
import { toIso } from '../ids.js';
import { SESSION_COOKIE } from './sessions.js';
import { describeSignUp } from './generation-access.js';

export const authRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { identity, accounts, accessStage, config } = services;
  const limited =
    config.signInRatePerMinute > 0
      ? { rateLimit: { max: config.signInRatePerMinute, timeWindow: '1 minute' } }
      : { rateLimit: false as const };
  const secureCookie = config.publicUrl.startsWith('https:');

  const setSessionCookie = (reply: FastifyReply, token: string, expiresAt: number) =>
    reply.setCookie(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: secureCookie,
      expires: new Date(expiresAt),
    });

  app.get(
    '/v1/access',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'The access stage and how sign-up works in it.',
        response: { 200: AccessStageInfo },
      },
    },
    async () => {
      const stage = await accessStage.current();
      return { stage, signUp: describeSignUp(stage) };
    },
  );

  app.post(
    '/v1/auth/sign-up',
    {
      config: { auth: 'public', ...limited },
      schema: {
        tags: ['auth'],
        summary: 'Create an account (an application in the research stage); a confirmation mail follows.',
        body: SignUpBody,
        response: { 201: SignUpResult, 409: Problem, ...problems },
      },
    },
    async (req, reply) => reply.code(201).send(await identity.signUp(req.body)),
  );

  app.post(
    '/v1/auth/verify-email',
    {
      config: { auth: 'public', ...limited },
      schema: { tags: ['auth'], body: TokenBody, response: { 200: User, 409: Problem, ...problems } },
    },
    async (req) => identity.verifyEmail(req.body.token),
  );

  app.post(
    '/v1/auth/resend-verification',
    {
      config: { auth: 'user', ...limited },
      schema: { tags: ['auth'], response: { 202: Type.Null(), 409: Problem, ...problems } },
    },
    async (req, reply) => {
      await identity.resendVerification(userOf(req).userId);
      return reply.code(202).send(null);
    },
  );

  app.post(
    '/v1/auth/sign-in',
    {
      config: { auth: 'public', ...limited },
      schema: {
        tags: ['auth'],
        summary: 'Email and password; sets the HttpOnly session cookie and returns the CSRF token.',
        body: SignInBody,
        response: { 200: Session, ...problems },
      },
    },
    async (req, reply) => {
      const { session, user } = await identity.signIn(req.body.email, req.body.password);
      setSessionCookie(reply, session.token, session.expiresAt);
      return {
        user,
        csrfToken: session.csrfToken,
        expiresAt: toIso(session.expiresAt),
        stage: await accessStage.current(),
      };
    },
  );

  app.get(
    '/v1/auth/session',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and the CSRF token (web app).',
        response: { 200: Session, ...problems },
      },
    },
    async (req) => {
      const principal = userOf(req);
      const session = principal.sessionId ? await identity.session(principal.sessionId) : undefined;
      return {
        user: await accounts.getUser(principal.userId),
        // API-key callers need no CSRF token; they get an empty one.
        csrfToken: session?.csrfToken ?? '',
        expiresAt: toIso(session?.expiresAt ?? services.clock.now()),
        stage: await accessStage.current(),
      };
    },
  );

  app.post(
    '/v1/auth/sign-out',
    {
      config: { auth: 'user' },
      schema: { tags: ['auth'], response: { 204: Type.Null(), ...problems } },
    },
    async (req, reply) => {
      const { sessionId } = userOf(req);
      if (sessionId) await identity.signOut(sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/auth/password-reset',
    {
      config: { auth: 'public', ...limited },
      schema: {
        tags: ['auth'],
        summary: 'Mails a reset link when the email has an account; the answer is the same either way.',
        body: EmailBody,
        response: { 202: Type.Null(), ...problems },
      },
    },
    async (req, reply) => {
      await identity.requestPasswordReset(req.body.email);
      return reply.code(202).send(null);
    },
  );

  app.post(
    '/v1/auth/password-reset/confirm',
    {
      config: { auth: 'public', ...limited },
      schema: { tags: ['auth'], body: ResetPasswordBody, response: { 204: Type.Null(), ...problems } },
    },
    async (req, reply) => {
      await identity.resetPassword(req.body.token, req.body.password);
      return reply.code(204).send(null);
    },
  );
};
