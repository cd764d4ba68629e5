// Authorization on every route: each route declares `config.auth`; a route that declares nothing is
// refused, so forgetting it fails closed. Credentials: Bearer keys (`dfk_…` for people and their
// programs, `dfw_…` for workers) or the web app's session cookie. A cookie-authenticated request that
// changes state must echo the session's CSRF token in X-CSRF-Token; Bearer requests need none (a browser
// never attaches them by itself).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { USER_KEY_PREFIX, WORKER_KEY_PREFIX, hasRole, type Principal } from '../accounts/principal.js';
import type { AccountsService } from '../accounts/service.js';
import { SESSION_COOKIE } from '../accounts/sessions.js';
import { csrfMatches, type SessionAuthenticator } from '../accounts/session-auth.js';
import type { WorkerService } from '../workers/worker-service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function registerAuth(
  app: FastifyInstance,
  accounts: AccountsService,
  workers: WorkerService,
  sessions: SessionAuthenticator,
): void {
  async function resolve(request: FastifyRequest): Promise<Principal | undefined> {
    const token = bearerToken(request);
    if (token) {
      if (token.startsWith(WORKER_KEY_PREFIX)) return workers.authenticate(token);
      if (token.startsWith(USER_KEY_PREFIX)) return accounts.authenticateUserKey(token);
      return undefined;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (!cookie) return undefined;
    const found = await sessions.authenticate(cookie);
    if (!found) return undefined;
    if (!SAFE_METHODS.has(request.method) && !csrfMatches(found.csrfToken, request.headers['x-csrf-token'])) {
      throw new AppError('csrf_failed', 'Send the csrfToken from GET /v1/auth/session as X-CSRF-Token.');
    }
    return found.principal;
  }

  app.addHook('onRequest', async (request) => {
    const requirement = request.routeOptions.config?.auth;
    if (requirement === 'public') {
      // Public API routes still learn who is calling when a credential comes along (moderators see
      // hidden images in the gallery); a bad credential on a public route is simply ignored.
      if (request.url.startsWith('/v1/') && (request.headers.authorization || request.headers.cookie)) {
        request.principal = await resolve(request).catch(() => undefined);
      }
      return;
    }
    if (requirement === undefined) {
      // Unmatched routes reach the not-found handler; matched routes without a declaration are a bug.
      if (request.routeOptions.url === undefined) return;
      throw new AppError('forbidden', 'This route has no access rule.');
    }
    const principal = await resolve(request);
    if (!principal) {
      throw new AppError(
        'unauthorized',
        bearerToken(request) || request.cookies[SESSION_COOKIE]
          ? 'The key or session is unknown, revoked or expired, or its account is suspended.'
          : 'Sign in, or send "Authorization: Bearer <key>".',
      );
    }
    if (requirement === 'worker') {
      if (principal.kind !== 'worker') throw new AppError('forbidden', 'This route is for worker keys.');
    } else if (principal.kind !== 'user') {
      throw new AppError('forbidden', 'Worker keys can only call the worker routes.');
    } else if (requirement !== 'user' && !hasRole(principal.role, requirement)) {
      throw new AppError('forbidden', `This route needs the ${requirement} role.`);
    }
    request.principal = principal;
  });
}

/** The authenticated user of a route declared `user`/`moderator`/`admin`. */
export function userOf(request: FastifyRequest): Extract<Principal, { kind: 'user' }> {
  const p = request.principal;
  if (p?.kind !== 'user') throw new AppError('unauthorized');
  return p;
}

/** The caller of a public route when they sent a valid user credential. */
export function optionalUserOf(request: FastifyRequest): Extract<Principal, { kind: 'user' }> | undefined {
  const p = request.principal;
  return p?.kind === 'user' ? p : undefined;
}

export function workerOf(request: FastifyRequest): Extract<Principal, { kind: 'worker' }> {
  const p = request.principal;
  if (p?.kind !== 'worker') throw new AppError('unauthorized');
  return p;
}

export const isStaff = (p: Extract<Principal, { kind: 'user' }>) => hasRole(p.role, 'moderator');
