// Who is signed in. The session lives in an HttpOnly cookie the app cannot read; GET /v1/auth/session
// tells us whose it is and hands us the CSRF token for state-changing requests.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { AccessStage, AccessStageInfo, Role, Session, User } from '@dreamfold/protocol';
import { api, ApiError, onUnauthorized, setCsrfToken } from './api/client.js';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; ended?: boolean }
  | { status: 'signed-in'; session: Session };

export interface SessionContextValue {
  state: SessionState;
  user: User | undefined;
  /** The platform's access stage (research or open), known before anyone signs in. */
  access: AccessStageInfo | undefined;
  stage: AccessStage | undefined;
  signedIn(session: Session): void;
  signOut(): Promise<void>;
  /** Re-read the session (after a profile change, email verification, approval). */
  refresh(): Promise<void>;
  updateUser(user: User): void;
}

const SessionContext = createContext<SessionContextValue | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [access, setAccess] = useState<AccessStageInfo>();

  const refresh = useCallback(async () => {
    try {
      const session = await api.get<Session>('/v1/auth/session', { expectUnauthorized: true });
      setCsrfToken(session.csrfToken);
      setState({ status: 'signed-in', session });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
        setCsrfToken(undefined);
        setState({ status: 'signed-out' });
      } else {
        // Offline or a server error: treat as signed out for now, pages show their own errors.
        setState({ status: 'signed-out' });
      }
    }
  }, []);

  useEffect(() => {
    void refresh();
    api
      .get<AccessStageInfo>('/v1/access')
      .then(setAccess)
      .catch(() => setAccess(undefined));
  }, [refresh]);

  useEffect(
    () =>
      onUnauthorized(() => {
        setCsrfToken(undefined);
        setState((s) => (s.status === 'signed-in' ? { status: 'signed-out', ended: true } : s));
      }),
    [],
  );

  const value = useMemo<SessionContextValue>(() => {
    const session = state.status === 'signed-in' ? state.session : undefined;
    return {
      state,
      user: session?.user,
      access,
      stage: session?.stage ?? access?.stage,
      signedIn: (s) => {
        setCsrfToken(s.csrfToken);
        setState({ status: 'signed-in', session: s });
        setAccess((a) => (a ? { ...a, stage: s.stage } : a));
      },
      signOut: async () => {
        try {
          await api.post('/v1/auth/sign-out');
        } finally {
          setCsrfToken(undefined);
          setState({ status: 'signed-out' });
        }
      },
      refresh,
      updateUser: (user) =>
        setState((s) =>
          s.status === 'signed-in' ? { status: 'signed-in', session: { ...s.session, user } } : s,
        ),
    };
  }, [state, access, refresh]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

const RANK: Record<Role, number> = { user: 0, moderator: 1, admin: 2 };
export const hasRole = (user: User | undefined, role: Role) => !!user && RANK[user.role] >= RANK[role];

/** Whether this user may generate now, and if not, why (in words). */
export function generationAccess(
  user: User | undefined,
  stage: AccessStage | undefined,
): { allowed: true } | { allowed: false; reason: string } {
  if (!user) return { allowed: false, reason: 'Sign in to generate images.' };
  if (user.suspended) return { allowed: false, reason: 'Your account is suspended.' };
  if (!user.emailVerified)
    return { allowed: false, reason: 'Verify your email first: open the link we sent you.' };
  if (stage === 'research' && user.access !== 'approved' && user.role === 'user') {
    return user.access === 'rejected'
      ? {
          allowed: false,
          reason: `Your application was not approved${user.accessReason ? `: ${user.accessReason}` : '.'}`,
        }
      : {
          allowed: false,
          reason: 'Your application is waiting for a moderator. You will get an email when it is decided.',
        };
  }
  return { allowed: true };
}
