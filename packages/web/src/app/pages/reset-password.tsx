// Forgotten password: without a token, ask for a reset mail; with the mail's token, choose a new password.
import { useState, type FormEvent } from 'react';
import { Link, useSearch } from 'wouter';
import { api } from '../api/client.js';
import { Page } from '../ui/page.js';
import { ErrorMessage, Notice } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { fieldErrorsOf } from '../ui/field-errors.js';
import { ACCOUNT_LIMITS } from '../lib/protocol-constants.js';

function RequestReset() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [sentTo, setSentTo] = useState<string>();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get('email') ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/v1/auth/password-reset', { email });
      setSentTo(email);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Reset your password">
      {sentTo ? (
        <Notice kind="success">
          <p>
            If <strong>{sentTo}</strong> has an account, a mail with a reset link is on its way. The link
            works for a short time and once.
          </p>
        </Notice>
      ) : (
        <form className="card" onSubmit={submit}>
          <p>Enter the email of your account and we will mail you a link to choose a new password.</p>
          <ErrorMessage error={error} />
          <TextField label="Email" name="email" type="email" autoComplete="email" required />
          <div className="form-actions">
            <SubmitButton busy={busy} busyLabel="Sending…">
              Send the link
            </SubmitButton>
            <Link href="/sign-in">Back to sign in</Link>
          </div>
        </form>
      )}
    </Page>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get('password') ?? '');
    if (password !== String(form.get('confirm') ?? '')) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/v1/auth/password-reset/confirm', { token, password });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <Page title="Password changed">
        <Notice kind="success">
          <p>Your new password is set. Other sessions were signed out.</p>
        </Notice>
        <Link className="button button-primary" href="/sign-in">
          Sign in
        </Link>
      </Page>
    );
  }
  const errors = fieldErrorsOf(error);
  return (
    <Page title="Choose a new password">
      <form className="card" onSubmit={submit}>
        <ErrorMessage error={error} />
        <TextField
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={ACCOUNT_LIMITS.passwordMin}
          maxLength={ACCOUNT_LIMITS.passwordMax}
          hint={`At least ${ACCOUNT_LIMITS.passwordMin} characters.`}
          error={errors.password}
        />
        <TextField
          label="Repeat the new password"
          name="confirm"
          type="password"
          autoComplete="new-password"
          required
          error={mismatch ? 'The two passwords differ.' : undefined}
        />
        <div className="form-actions">
          <SubmitButton busy={busy} busyLabel="Saving…">
            Set the new password
          </SubmitButton>
        </div>
        {error ? (
          <p className="small muted">
            Link expired or already used? <Link href="/reset-password">Ask for a new one</Link>.
          </p>
        ) : null}
      </form>
    </Page>
  );
}

export default function ResetPasswordPage() {
  const token = new URLSearchParams(useSearch()).get('token');
  return token ? <ChooseNewPassword token={token} /> : <RequestReset />;
}
