// Authorization on every route: each route declares `config.auth`; a route that declares nothing is
// refused, so forgetting it fails closed. Bearer keys: `dfk_…` for people and their programs,
// `dfw_…` for workers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { USER_KEY_PREFIX, WORKER_KEY_PREFIX, hasRole, type Principal } from '../accounts/principal.js';
import type { AccountsService } from '../accounts/service.js';
import type { WorkerService } from '../workers/worker-service.js';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function registerAuth(app: FastifyInstance, accounts: AccountsService, workers: WorkerService): void {
  app.addHook('onRequest', async (request) => {
    const requirement = request.routeOptions.config?.auth;
    if (requirement === 'public') return;
    if (requirement === undefined) {
      // Unmatched routes reach the not-found handler; matched routes without a declaration are a bug.
      if (request.routeOptions.url === undefined) return;
      throw new AppError('forbidden', 'This route has no access rule.');
    }
    const token = bearerToken(request);
    if (!token) throw new AppError('unauthorized', 'Send "Authorization: Bearer <key>".');
    let principal: Principal | undefined;
    if (token.startsWith(WORKER_KEY_PREFIX)) principal = await workers.authenticate(token);
    else if (token.startsWith(USER_KEY_PREFIX)) principal = await accounts.authenticateUserKey(token);
    if (!principal)
      throw new AppError('unauthorized', 'The key is unknown, revoked, or its account is suspended.');
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

export function workerOf(request: FastifyRequest): Extract<Principal, { kind: 'worker' }> {
  const p = request.principal;
  if (p?.kind !== 'worker') throw new AppError('unauthorized');
  return p;
}

export const isStaff = (p: Extract<Principal, { kind: 'user' }>) => hasRole(p.role, 'moderator');
