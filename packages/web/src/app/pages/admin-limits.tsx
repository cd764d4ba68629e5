// Admin: generation limits (largest image, side, steps, images per request), stored for every replica.
// The environment gives the defaults; MAX_PIXELS is also the ceiling the coordinator was sized for.
import { useEffect, useState, type FormEvent } from 'react';
import type { GenerationLimitValues, GenerationLimitsInfo } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { fieldErrorsOf } from '../ui/field-errors.js';
import { useResource } from '../ui/use-resource.js';
import { formatAgo, formatCount } from '../lib/format.js';

const FIELDS: { key: keyof GenerationLimitValues; label: string; step: number; min: number }[] = [
  { key: 'maxPixels', label: 'Largest image (pixels, width × height)', step: 64, min: 4096 },
  { key: 'maxSide', label: 'Longest side (pixels, multiple of 8)', step: 8, min: 64 },
  { key: 'maxSteps', label: 'Most sampling steps', step: 1, min: 1 },
  { key: 'maxImagesPerRequest', label: 'Most images per request', step: 1, min: 1 },
];

type Draft = Record<keyof GenerationLimitValues, string>;
const draftOf = (v: GenerationLimitValues): Draft =>
  Object.fromEntries(FIELDS.map((f) => [f.key, String(v[f.key])])) as Draft;

export function GenerationLimitsForm() {
  const info = useResource(
    (signal) => api.get<GenerationLimitsInfo>('/v1/generation-limits', { signal }),
    [],
  );
  const [draft, setDraft] = useState<Draft>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  useEffect(() => {
    if (info.data) setDraft(draftOf(info.data.limits));
  }, [info.data]);

  async function save(reset: boolean) {
    if (!draft) return;
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      const next = reset
        ? await api.delete<GenerationLimitsInfo>('/v1/admin/generation-limits')
        : await api.put<GenerationLimitsInfo>(
            '/v1/admin/generation-limits',
            Object.fromEntries(FIELDS.map((f) => [f.key, Number(draft[f.key])])),
          );
      info.set(() => next);
      setSaved(reset ? 'Back to the defaults from the environment.' : 'Saved for every coordinator.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void save(false);
  }

  const fields = fieldErrorsOf(error);
  const data = info.data;
  return (
    <section className="card" aria-labelledby="limits-heading">
      <h2 id="limits-heading">Generation limits</h2>
      {info.loading && !data ? (
        <Loading lines={3} />
      ) : info.error || !data || !draft ? (
        <ErrorMessage error={info.error} retry={info.reload} />
      ) : (
        <form onSubmit={submit}>
          <p className="small muted">
            Requests beyond these are refused with the reason. The largest image cannot exceed{' '}
            {formatCount(data.ceiling.maxPixels)} pixels (MAX_PIXELS: uploads and checks are sized for it at
            start-up).{' '}
            {data.updatedAt
              ? `Changed ${formatAgo(data.updatedAt)}.`
              : 'These are the defaults from the environment.'}
          </p>
          <div className="form-grid">
            {FIELDS.map((f) => (
              <TextField
                key={f.key}
                label={f.label}
                type="number"
                inputMode="numeric"
                required
                min={f.min}
                max={data.ceiling[f.key]}
                step={f.step}
                value={draft[f.key]}
                onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
                hint={`Default ${formatCount(data.defaults[f.key])}, at most ${formatCount(data.ceiling[f.key])}.`}
                error={fields[f.key]}
              />
            ))}
          </div>
          <ErrorMessage error={error} />
          {saved ? <Notice kind="success">{saved}</Notice> : null}
          <div className="row">
            <SubmitButton busy={busy} busyLabel="Saving…">
              Save limits
            </SubmitButton>
            <button
              type="button"
              className="button"
              disabled={busy || !data.updatedAt}
              onClick={() => void save(true)}
            >
              Reset to defaults
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
