import type { Principal, AuthRequirement } from '../accounts/principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route says who may call it; the auth hook refuses routes that say nothing. */
    auth?: AuthRequirement;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export {};
