// Pages that need a signed-in user (or a role) say so in words, with the way in, instead of redirecting.
import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import type { Role, User } from '@dreamfold/protocol';
import { hasRole, useSession } from '../session.js';
import { Loading } from './feedback.js';
import { Page } from './page.js';

export function RequireUser({
  title,
  role,
  why,
  children,
}: {
  title: string;
  role?: Role;
  /** What signing in gives here, e.g. "to see your images". */
  why: string;
  children: (user: User) => ReactNode;
}) {
  const { state, user, stage } = useSession();
  const [location] = useLocation();
  if (state.status === 'loading') {
    return (
      <Page title={title}>
        <Loading />
      </Page>
    );
  }
  if (!user) {
    const next = encodeURIComponent(location + window.location.search);
    return (
      <Page title={title}>
        <div className="card">
          <p>Sign in {why}.</p>
          <div className="row">
            <Link className="button button-primary" href={`/sign-in?next=${next}`}>
              Sign in
            </Link>
            <Link className="button" href="/sign-up">
              {stage === 'research' ? 'Apply for access' : 'Create an account'}
            </Link>
          </div>
        </div>
      </Page>
    );
  }
  if (role && !hasRole(user, role)) {
    return (
      <Page title={title}>
        <div className="alert alert-warning" role="alert">
          This page is for {role === 'admin' ? 'administrators' : 'moderators'}. You are signed in as{' '}
          {user.email}, which does not have that role.
        </div>
      </Page>
    );
  }
  return <>{children(user)}</>;
}
