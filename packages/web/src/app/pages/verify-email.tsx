// The link from the verification mail (also used to confirm a changed email): /verify-email?token=…
import { useEffect, useRef, useState } from 'react';
import { Link, useSearch } from 'wouter';
import type { User } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';

type Result = { state: 'working' } | { state: 'done'; user: User } | { state: 'failed'; error: unknown };

export default function VerifyEmailPage() {
  const token = new URLSearchParams(useSearch()).get('token') ?? '';
  const { user: signedIn, stage, refresh } = useSession();
  const [result, setResult] = useState<Result>({ state: 'working' });
  const sent = useRef('');

  useEffect(() => {
    // Tokens work once: never send the same one twice (React runs effects twice in development).
    if (!token || sent.current === token) return;
    sent.current = token;
    api
      .post<User>('/v1/auth/verify-email', { token })
      .then((user) => {
        setResult({ state: 'done', user });
        void refresh();
      })
      .catch((error: unknown) => setResult({ state: 'failed', error }));
  }, [token, refresh]);

  if (!token) {
    return (
      <Page title="Confirm your email">
        <p>
          This page confirms your email address with the link from our mail. The link seems incomplete: open
          it again from the mail, or copy the whole address into the browser.
        </p>
      </Page>
    );
  }
  if (result.state === 'working') {
    return (
      <Page title="Confirm your email">
        <Loading label="Confirming your email…" lines={2} />
      </Page>
    );
  }
  if (result.state === 'failed') {
    return (
      <Page title="Confirm your email">
        <ErrorMessage error={result.error} />
        <p>
          Links work once and for a limited time.{' '}
          {signedIn ? (
            <>
              Ask for a new one on <Link href="/account">your account page</Link>.
            </>
          ) : (
            <>
              <Link href="/sign-in?next=/account">Sign in</Link> to ask for a new one.
            </>
          )}
        </p>
      </Page>
    );
  }
  const { user } = result;
  const waiting = stage === 'research' && user.role === 'user' && user.access === 'pending';
  return (
    <Page title="Email confirmed">
      <Notice kind="success">
        <p>
          <strong>{user.email}</strong> is confirmed.
        </p>
        {waiting ? (
          <p>
            Your application is now with our moderators. You will get an email when they decide, usually
            within a few days.
          </p>
        ) : null}
      </Notice>
      <div className="row">
        {signedIn ? (
          <Link className="button button-primary" href={waiting ? '/account' : '/generate'}>
            {waiting ? 'See your application' : 'Start generating'}
          </Link>
        ) : (
          <Link
            className="button button-primary"
            href={`/sign-in?next=${waiting ? '/account' : '/generate'}`}
          >
            Sign in
          </Link>
        )}
      </div>
    </Page>
  );
}
