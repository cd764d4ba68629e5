import type { AccessState, Role } from '@dreamfold/protocol';

/** Who is calling. Users (people and their programs) and workers authenticate with different keys. */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      role: Role;
      /** How the user signed in: an API key (programs) or a session cookie (the web app). */
      apiKeyId: string | null;
      sessionId: string | null;
      /** Read with the key or session on every request, so the generation check costs no query. */
      emailVerified: boolean;
      access: AccessState;
    }
  | { kind: 'worker'; workerId: string; userId: string };

/** What a route requires; every route declares one in its `config.auth`. */
export type AuthRequirement = 'public' | 'user' | 'moderator' | 'admin' | 'worker';

export const USER_KEY_PREFIX = 'dfk_';
export const WORKER_KEY_PREFIX = 'dfw_';

const RANK: Record<Role, number> = { user: 0, moderator: 1, admin: 2 };

export function hasRole(role: Role, needed: Role): boolean {
  return (RANK[role] ?? -1) >= RANK[needed];
}
