// Sign in with email and password; the coordinator sets the session cookie and answers the CSRF token.
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type { Session } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { ErrorMessage } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { safeNext } from '../lib/navigation.js';

export default function SignInPage() {
  const { user, signedIn, stage } = useSession();
  const [, navigate] = useLocation();
  const next = safeNext(new URLSearchParams(useSearch()).get('next'));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      const session = await api.post<Session>(
        '/v1/auth/sign-in',
        { email: String(form.get('email')).trim(), password: String(form.get('password')) },
        { expectUnauthorized: true },
      );
      signedIn(session);
      navigate(next);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  if (user) {
    return (
      <Page title="Sign in">
        <p>
          You are signed in as <strong>{user.email}</strong>.
        </p>
        <div className="row">
          <Link className="button button-primary" href={next}>
            Continue
          </Link>
          <Link className="button" href="/account">
            Your account
          </Link>
        </div>
      </Page>
    );
  }

  return (
    <Page title="Sign in">
      <form className="card" onSubmit={submit} noValidate={false}>
        <ErrorMessage error={error} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        <div className="form-actions">
          <SubmitButton busy={busy} busyLabel="Signing in…">
            Sign in
          </SubmitButton>
          <Link href="/reset-password">Forgot your password?</Link>
        </div>
      </form>
      <p>
        New here?{' '}
        <Link href="/sign-up">
          {stage === 'research' ? 'Apply for research access' : 'Create an account'}
        </Link>
        .
      </p>
    </Page>
  );
}
