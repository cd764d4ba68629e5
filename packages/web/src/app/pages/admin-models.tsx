// Admin: the models workers serve now (from GET /v1/models), and for each, the weights it may run:
// pinning SHA-256 fingerprints means workers reporting other weights get no jobs of that model.
import { useState, type FormEvent } from 'react';
import type { ModelFingerprints, ServedModels } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { SubmitButton, TextArea, TextField } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { formatCount } from '../lib/format.js';

function Fingerprints({ model }: { model: string }) {
  const current = useResource(
    (signal) =>
      api.get<ModelFingerprints>(`/v1/admin/models/${encodeURIComponent(model)}/fingerprints`, { signal }),
    [model],
  );
  const [text, setText] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const pinned = current.data?.fingerprints.filter((f) => f.source === 'admin').map((f) => f.sha256) ?? [];

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const fingerprints = (text ?? pinned.join('\n'))
        .split(/\s+/)
        .map((f) => f.trim().toLowerCase())
        .filter(Boolean);
      const next = await api.put<ModelFingerprints>(
        `/v1/admin/models/${encodeURIComponent(model)}/fingerprints`,
        {
          fingerprints,
        },
      );
      current.set(() => next);
      setText(undefined);
      setSaved(true);
    } catch (err) {
      setError(err);
      current.reload();
    } finally {
      setBusy(false);
    }
  }

  if (current.loading && !current.data) return <Loading lines={2} />;
  if (current.error) return <ErrorMessage error={current.error} retry={current.reload} />;
  const known = current.data?.fingerprints.filter((f) => f.source === 'trusted_worker') ?? [];
  return (
    <form onSubmit={submit}>
      <p className="small muted">
        {current.data?.pinned
          ? 'Pinned: only these weights get jobs of this model.'
          : 'Not pinned: any weights are accepted; results are compared only between workers with the same weights.'}
        {known.length
          ? ` Seen from trusted workers: ${known.map((f) => f.sha256.slice(0, 12)).join(', ')}…`
          : ''}
      </p>
      <TextArea
        label={`Pinned weights of ${model} (SHA-256, one per line; empty unpins)`}
        rows={3}
        spellCheck={false}
        value={text ?? pinned.join('\n')}
        onChange={(e) => setText(e.target.value)}
      />
      <ErrorMessage error={error} />
      {saved ? <p role="status">Saved.</p> : null}
      <SubmitButton busy={busy} busyLabel="Saving…">
        Save weights
      </SubmitButton>
    </form>
  );
}

export function Models() {
  const served = useResource((signal) => api.get<ServedModels>('/v1/models', { signal }), []);
  const [model, setModel] = useState('');
  const [chosen, setChosen] = useState<string>();
  return (
    <section className="card" aria-labelledby="models-heading">
      <h2 id="models-heading">Models</h2>
      {served.loading && !served.data ? (
        <Loading lines={2} />
      ) : served.error ? (
        <ErrorMessage error={served.error} retry={served.reload} />
      ) : !served.data?.items.length ? (
        <Empty title="No model is served right now">
          Models appear here as workers connect and say what they serve.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">
              Models served by workers seen in the last {served.data.windowSeconds} seconds
            </caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="num">
                  Workers
                </th>
                <th scope="col" className="num">
                  Largest image (pixels)
                </th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {served.data.items.map((m) => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td className="num">{formatCount(m.workers)}</td>
                  <td className="num">{formatCount(m.maxPixels)}</td>
                  <td>
                    <button type="button" className="button button-small" onClick={() => setChosen(m.model)}>
                      Weights
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (model.trim()) setChosen(model.trim());
        }}
      >
        <div className="grow">
          <TextField
            label="Another model id"
            value={model}
            onChange={(e) => setModel(e.target.value)}
            spellCheck={false}
            autoCapitalize="off"
            pattern="[a-z0-9][a-z0-9._\-]*"
          />
        </div>
        <button type="submit" className="button">
          Show weights
        </button>
      </form>
      {chosen ? <Fingerprints key={chosen} model={chosen} /> : null}
    </section>
  );
}
