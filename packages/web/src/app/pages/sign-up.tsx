// Sign up. In the research stage this is an application (name, affiliation, occupation, intended use)
// that a moderator decides on after the email is verified; in the open stage only email and password.
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import type { Occupation, SignUpBody, SignUpResult } from '@dreamfold/protocol';
import { api, newIdempotencyKey } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { SelectField, SubmitButton, TextArea, TextField } from '../ui/forms.js';
import { fieldErrorsOf } from '../ui/field-errors.js';
import { OCCUPATION_LABELS } from '../lib/labels.js';
import { ACCOUNT_LIMITS, OCCUPATIONS } from '../lib/protocol-constants.js';

export default function SignUpPage() {
  const { user, stage, state } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<SignUpResult>();
  const [key] = useState(newIdempotencyKey);
  const research = stage !== 'open';
  const title = research ? 'Apply for research access' : 'Create an account';

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => {
      const value = String(form.get(name) ?? '').trim();
      return value === '' ? undefined : value;
    };
    const body: SignUpBody = {
      email: text('email') ?? '',
      password: String(form.get('password') ?? ''),
      displayName: text('displayName'),
      affiliation: research ? text('affiliation') : undefined,
      occupation: research ? (text('occupation') as Occupation | undefined) : undefined,
      intendedUse: research ? text('intendedUse') : undefined,
    };
    setBusy(true);
    setError(undefined);
    try {
      setDone(await api.post<SignUpResult>('/v1/auth/sign-up', body, { idempotencyKey: key }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (state.status === 'loading') {
    return (
      <Page title={title}>
        <Loading />
      </Page>
    );
  }
  if (done) {
    return (
      <Page title="Check your email">
        <Notice kind="success">
          <p>
            We sent a verification link to <strong>{done.user.email}</strong>. Open it to confirm your
            address.
          </p>
          <p>{done.next}</p>
        </Notice>
        <p className="muted">
          No email after a few minutes? Check your spam folder, or <Link href="/sign-in">sign in</Link> and
          ask for a new link from your account page.
        </p>
      </Page>
    );
  }
  if (user) {
    return (
      <Page title={title}>
        <p>
          You are already signed in as <strong>{user.email}</strong>.{' '}
          <Link href="/account">Go to your account</Link>.
        </p>
      </Page>
    );
  }

  const errors = fieldErrorsOf(error);
  return (
    <Page
      title={title}
      intro={
        research
          ? 'Dreamfold is in its research stage: approved researchers, engineers, journalists, educators and decision-makers generate images. Tell us who you are and what you will use it for; a moderator decides, usually within a few days, and tells you by email.'
          : 'Generating is free: you pay with credits earned by rating images. You need a verified email.'
      }
    >
      <form className="card" onSubmit={submit}>
        <ErrorMessage error={error} />
        <TextField
          label={research ? 'Full name' : 'Display name (optional)'}
          name="displayName"
          autoComplete="name"
          required={research}
          maxLength={ACCOUNT_LIMITS.displayName}
          error={errors.displayName}
        />
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          maxLength={ACCOUNT_LIMITS.email}
          hint={research ? 'Your work address helps a moderator recognise your affiliation.' : undefined}
          error={errors.email}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={ACCOUNT_LIMITS.passwordMin}
          maxLength={ACCOUNT_LIMITS.passwordMax}
          hint={`At least ${ACCOUNT_LIMITS.passwordMin} characters.`}
          error={errors.password}
        />
        {research ? (
          <>
            <TextField
              label="Affiliation"
              name="affiliation"
              autoComplete="organization"
              required
              maxLength={ACCOUNT_LIMITS.affiliation}
              hint="University, lab, company, newsroom or school."
              error={errors.affiliation}
            />
            <SelectField
              label="Occupation"
              name="occupation"
              required
              defaultValue=""
              error={errors.occupation}
            >
              <option value="" disabled>
                Choose one…
              </option>
              {OCCUPATIONS.map((o) => (
                <option key={o} value={o}>
                  {OCCUPATION_LABELS[o]}
                </option>
              ))}
            </SelectField>
            <TextArea
              label="Intended use"
              name="intendedUse"
              required
              maxLength={ACCOUNT_LIMITS.intendedUse}
              rows={4}
              hint="What you want to generate and why, in a few sentences."
              error={errors.intendedUse}
            />
          </>
        ) : null}
        <p className="small muted">
          Images you generate are released in open datasets under a pseudonym, never with your name or email.
          You can withdraw them from future releases on your account page at any time.
        </p>
        <div className="form-actions">
          <SubmitButton busy={busy} busyLabel="Sending…">
            {research ? 'Send application' : 'Create account'}
          </SubmitButton>
          <span>
            Already have an account? <Link href="/sign-in">Sign in</Link>.
          </span>
        </div>
      </form>
    </Page>
  );
}
