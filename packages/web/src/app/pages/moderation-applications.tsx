// Research-access applications: who applied, from where, for what; approve, or reject with a reason that
// the applicant receives by email.
import { useState } from 'react';
import type { Application, ApplicationList } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { TextArea } from '../ui/forms.js';
import { OCCUPATION_LABELS } from '../lib/labels.js';
import { formatAgo } from '../lib/format.js';

function ApplicationCard({ application, onDecided }: { application: Application; onDecided: () => void }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const { user } = application;

  async function decide(decision: 'approve' | 'reject') {
    setBusy(true);
    setError(undefined);
    try {
      await api.post(`/v1/moderation/applications/${user.id}/decision`, {
        decision,
        reason: decision === 'reject' ? reason.trim() : undefined,
      });
      onDecided();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <li className="card">
      <h3>{user.displayName ?? user.email}</h3>
      <dl className="params">
        <dt>Email</dt>
        <dd>
          {user.email} {user.emailVerified ? '(confirmed)' : '(not confirmed yet)'}
        </dd>
        <dt>Affiliation</dt>
        <dd>{application.affiliation ?? '–'}</dd>
        <dt>Occupation</dt>
        <dd>{application.occupation ? OCCUPATION_LABELS[application.occupation] : '–'}</dd>
        <dt>Applied</dt>
        <dd>{formatAgo(user.createdAt)}</dd>
        <dt>Intended use</dt>
        <dd className="prompt-text">{application.intendedUse ?? '–'}</dd>
      </dl>
      <ErrorMessage error={error} />
      {rejecting ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void decide('reject');
          }}
        >
          <TextArea
            label="Reason (sent to the applicant)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            required
            maxLength={2000}
            rows={3}
          />
          <div className="row">
            <button type="submit" className="button button-danger" disabled={busy || !reason.trim()}>
              {busy ? 'Sending…' : 'Reject application'}
            </button>
            <button type="button" className="button" onClick={() => setRejecting(false)}>
              Back
            </button>
          </div>
        </form>
      ) : (
        <div className="row form-actions">
          <button
            type="button"
            className="button button-primary"
            disabled={busy}
            onClick={() => void decide('approve')}
          >
            {busy ? 'Approving…' : 'Approve'}
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => setRejecting(true)}>
            Reject…
          </button>
        </div>
      )}
    </li>
  );
}

export function Applications() {
  const list = useResource(
    (signal) =>
      api.get<ApplicationList>('/v1/moderation/applications', { signal, query: { state: 'pending' } }),
    [],
  );
  const [decided, setDecided] = useState<string[]>([]);
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <ErrorMessage error={list.error} retry={list.reload} />;
  const items = list.data?.items.filter((a) => !decided.includes(a.user.id)) ?? [];
  if (items.length === 0) {
    return (
      <Empty title="No applications waiting">
        Applications appear here once the applicant has confirmed their email.
      </Empty>
    );
  }
  return (
    <ul className="plain-list">
      {items.map((a) => (
        <ApplicationCard
          key={a.user.id}
          application={a}
          onDecided={() => setDecided((d) => [...d, a.user.id])}
        />
      ))}
    </ul>
  );
}
