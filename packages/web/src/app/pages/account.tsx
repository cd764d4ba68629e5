// The account page: who you are and your access, profile and dataset consent, API keys, password and
// email changes, and deleting the account.
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import type { DatasetConsent, User } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { ErrorMessage, Notice } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { fieldErrorsOf } from '../ui/field-errors.js';
import { ACCOUNT_LIMITS } from '../lib/protocol-constants.js';
import { ApiKeys } from './account-keys.js';
import { CreditsCard } from './credits-card.js';

/** A form that sends one request and says when it worked. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  async function run(action: () => Promise<string | undefined>) {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await action());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, done, run };
}

function Status({ user }: { user: User }) {
  const { stage } = useSession();
  const resend = useAction();
  let access: ReactNode;
  if (user.role !== 'user') access = <>You are a {user.role}: you can generate at any stage.</>;
  else if (stage === 'open')
    access = <>Dreamfold is open: you generate with credits earned by rating images.</>;
  else if (user.access === 'approved') access = <>Your research access is approved: you can generate.</>;
  else if (user.access === 'rejected')
    access = <>Your application was not approved{user.accessReason ? `: “${user.accessReason}”` : '.'}</>;
  else if (!user.emailVerified) access = <>Confirm your email; then a moderator reviews your application.</>;
  else access = <>Your application is waiting for a moderator. You will get an email when it is decided.</>;
  return (
    <section className="card" aria-labelledby="status-heading">
      <h2 id="status-heading">You</h2>
      <dl className="params">
        <dt>Email</dt>
        <dd>
          {user.email}{' '}
          {user.emailVerified ? (
            <span className="pill pill-online">confirmed</span>
          ) : (
            <span className="pill pill-warning">not confirmed</span>
          )}
        </dd>
        <dt>Access</dt>
        <dd>{access}</dd>
      </dl>
      {!user.emailVerified ? (
        <div className="form-actions">
          <ErrorMessage error={resend.error} />
          {resend.done ? <Notice kind="success">{resend.done}</Notice> : null}
          <button
            type="button"
            className="button button-small"
            disabled={resend.busy}
            onClick={() =>
              void resend.run(async () => {
                await api.post('/v1/auth/resend-verification');
                return `A new link is on its way to ${user.email}.`;
              })
            }
          >
            Send the confirmation link again
          </button>
        </div>
      ) : null}
    </section>
  );
}

function Profile({ user }: { user: User }) {
  const { updateUser } = useSession();
  const save = useAction();
  const consent = useAction();

  function submitName(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const displayName = String(new FormData(event.currentTarget).get('displayName') ?? '').trim();
    void save.run(async () => {
      updateUser(await api.patch<User>('/v1/me', { displayName }));
      return 'Saved.';
    });
  }
  function setConsent(datasetConsent: DatasetConsent) {
    void consent.run(async () => {
      updateUser(await api.patch<User>('/v1/me', { datasetConsent }));
      return datasetConsent === 'withdrawn'
        ? 'Your images will be left out of future dataset releases.'
        : 'Your images may appear in future releases under a pseudonym.';
    });
  }
  return (
    <>
      <section className="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile</h2>
        <form onSubmit={submitName} className="row">
          <div className="grow">
            <TextField
              label="Display name"
              name="displayName"
              defaultValue={user.displayName ?? ''}
              required
              maxLength={ACCOUNT_LIMITS.displayName}
              autoComplete="name"
            />
          </div>
          <SubmitButton busy={save.busy} busyLabel="Saving…">
            Save
          </SubmitButton>
        </form>
        <ErrorMessage error={save.error} />
        {save.done ? <p role="status">{save.done}</p> : null}
      </section>
      <section className="card" aria-labelledby="consent-heading">
        <h2 id="consent-heading">Your images in open datasets</h2>
        <fieldset>
          <legend>Future dataset releases</legend>
          <label className="choice">
            <input
              type="radio"
              name="consent"
              checked={user.datasetConsent === 'pseudonymous'}
              disabled={consent.busy}
              onChange={() => setConsent('pseudonymous')}
            />
            <span>Include my images under a pseudonym (never my name or email).</span>
          </label>
          <label className="choice">
            <input
              type="radio"
              name="consent"
              checked={user.datasetConsent === 'withdrawn'}
              disabled={consent.busy}
              onChange={() => setConsent('withdrawn')}
            />
            <span>Leave my images out of future releases.</span>
          </label>
        </fieldset>
        <ErrorMessage error={consent.error} />
        {consent.done ? <p role="status">{consent.done}</p> : null}
        <p className="small muted">
          Releases already published cannot be recalled, but the next ones honour this.
        </p>
      </section>
    </>
  );
}

function Password() {
  const change = useAction();
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    void change.run(async () => {
      await api.post('/v1/me/password', {
        currentPassword: String(data.get('currentPassword') ?? ''),
        password: String(data.get('password') ?? ''),
      });
      form.reset();
      return 'Password changed. Your other sessions were signed out.';
    });
  }
  const errors = fieldErrorsOf(change.error);
  return (
    <form onSubmit={submit}>
      <h3>Password</h3>
      <TextField
        label="Current password"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        required
      />
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
      <ErrorMessage error={change.error} />
      {change.done ? <p role="status">{change.done}</p> : null}
      <SubmitButton busy={change.busy} busyLabel="Changing…">
        Change password
      </SubmitButton>
    </form>
  );
}

function Email() {
  const change = useAction();
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const email = String(data.get('email') ?? '').trim();
    void change.run(async () => {
      await api.post('/v1/me/email', { email, currentPassword: String(data.get('currentPassword') ?? '') });
      form.reset();
      return `We sent a link to ${email}. Your email changes when you open it.`;
    });
  }
  return (
    <form onSubmit={submit}>
      <h3>Email</h3>
      <TextField
        label="New email"
        name="email"
        type="email"
        autoComplete="email"
        required
        maxLength={ACCOUNT_LIMITS.email}
      />
      <TextField
        label="Current password"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        required
      />
      <ErrorMessage error={change.error} />
      {change.done ? <p role="status">{change.done}</p> : null}
      <SubmitButton busy={change.busy} busyLabel="Sending…">
        Change email
      </SubmitButton>
    </form>
  );
}

function DeleteAccount({ user }: { user: User }) {
  const { signOut } = useSession();
  const [, navigate] = useLocation();
  const remove = useAction();
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    void remove.run(async () => {
      await api.delete('/v1/me', {
        images: String(data.get('images')) === 'withdraw' ? 'withdraw' : 'keep_pseudonymous',
        currentPassword: user.hasPassword ? String(data.get('currentPassword') ?? '') : undefined,
      });
      await signOut().catch(() => undefined);
      navigate('/?deleted=1');
      return undefined;
    });
  }
  return (
    <section className="card" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete your account</h2>
      <p>Your email, name, affiliation and API keys are erased. This cannot be undone.</p>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Your images</legend>
          <label className="choice">
            <input type="radio" name="images" value="keep_pseudonymous" defaultChecked />
            <span>Keep them in future open releases under a pseudonym.</span>
          </label>
          <label className="choice">
            <input type="radio" name="images" value="withdraw" />
            <span>Withdraw them: removed from the gallery and from future releases.</span>
          </label>
        </fieldset>
        {user.hasPassword ? (
          <TextField
            label="Your password"
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            required
          />
        ) : null}
        <label className="choice">
          <input type="checkbox" name="sure" required />
          <span>I understand that my account is deleted for good.</span>
        </label>
        <ErrorMessage error={remove.error} />
        <div className="form-actions">
          <button type="submit" className="button button-danger" disabled={remove.busy}>
            {remove.busy ? 'Deleting…' : 'Delete my account'}
          </button>
        </div>
      </form>
    </section>
  );
}

export default function AccountPage() {
  return (
    <RequireUser title="Your account" why="to manage your account">
      {(user) => (
        <Page title="Your account">
          <Status user={user} />
          <CreditsCard />
          <Profile user={user} />
          <ApiKeys />
          <section className="card" aria-labelledby="security-heading">
            <h2 id="security-heading">Sign-in</h2>
            <div className="grid-2">
              {user.hasPassword ? (
                <Password />
              ) : (
                <p>Your account has no password; ask for one with the reset link.</p>
              )}
              <Email />
            </div>
          </section>
          <DeleteAccount user={user} />
          <p className="small muted">
            Where your credits come from: <Link href="/credits">credits history</Link>.
          </p>
        </Page>
      )}
    </RequireUser>
  );
}
