// API keys for programs (the SDK, the CLI, scripts): create one (shown once), see when each was last used,
// revoke one.
import { useState, type FormEvent } from 'react';
import type { ApiKeyInfo, CreatedApiKey } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useResource } from '../ui/use-resource.js';
import { Empty, ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { CopyButton, SubmitButton, TextField } from '../ui/forms.js';
import { ConfirmButton } from '../ui/confirm-button.js';
import { formatAgo, formatDate } from '../lib/format.js';

export function ApiKeys() {
  const keys = useResource((signal) => api.get<{ items: ApiKeyInfo[] }>('/v1/me/api-keys', { signal }), []);
  const [created, setCreated] = useState<CreatedApiKey>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [revoking, setRevoking] = useState<string>();

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get('name') ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.post<CreatedApiKey>('/v1/me/api-keys', { name });
      setCreated(result);
      form.reset();
      keys.set((data) => ({ items: [result.apiKey, ...(data?.items ?? [])] }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(id: string) {
    setRevoking(id);
    setError(undefined);
    try {
      await api.delete(`/v1/me/api-keys/${id}`);
      keys.reload();
      if (created?.apiKey.id === id) setCreated(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setRevoking(undefined);
    }
  }

  const active = keys.data?.items.filter((k) => !k.revokedAt) ?? [];
  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <p className="muted">
        For programs that use the <a href="/docs">API</a>: send the key as{' '}
        <code>Authorization: Bearer …</code>.
      </p>
      <ErrorMessage error={error} />
      {created ? (
        <Notice kind="success">
          <p>
            Your new key <strong>{created.apiKey.name}</strong>. Copy it now: it is shown only once.
          </p>
          <code className="secret" id="new-api-key">
            {created.key}
          </code>
          <CopyButton text={created.key} label="Copy key" targetId="new-api-key" />
        </Notice>
      ) : null}
      {keys.loading && !keys.data ? (
        <Loading lines={2} />
      ) : keys.error ? (
        <ErrorMessage error={keys.error} retry={keys.reload} />
      ) : active.length === 0 ? (
        <Empty title="No API keys yet">
          The website does not need one; create one for scripts and the CLI.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Your API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Starts with</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {active.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td className="mono">{key.prefix}…</td>
                  <td>{formatDate(key.createdAt)}</td>
                  <td>{key.lastUsedAt ? formatAgo(key.lastUsedAt) : 'never'}</td>
                  <td>
                    <ConfirmButton
                      question={`Revoke “${key.name}”?`}
                      confirmLabel="Revoke"
                      busy={revoking === key.id}
                      onConfirm={() => void revoke(key.id)}
                    >
                      Revoke
                    </ConfirmButton>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={create} className="row">
        <div className="grow">
          <TextField
            label="New key’s name"
            name="name"
            required
            maxLength={80}
            placeholder="e.g. laptop script"
          />
        </div>
        <SubmitButton busy={busy} busyLabel="Creating…">
          Create key
        </SubmitButton>
      </form>
    </section>
  );
}
