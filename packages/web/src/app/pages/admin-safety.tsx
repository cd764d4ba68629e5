// Admin: the safety classifier's thresholds, the progress of re-evaluating what is already stored after a
// threshold or prompt-filter change, and the dataset release schedule.
import { useEffect, useState, type FormEvent } from 'react';
import type {
  DatasetSchedule,
  SafetyReevaluation,
  SafetyReevaluationList,
  SafetySettings,
} from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { formatCount, formatDate, formatDateTime } from '../lib/format.js';

const REEVALUATION_NAMES: Record<SafetyReevaluation['kind'], string> = {
  safety_thresholds: 'Images by their stored scores, after a threshold change',
  prompt_filter: 'Prompts screened again, after a prompt-filter change',
};

/** Polls while a re-evaluation runs; `version` reloads it at once (after the thresholds were saved). */
function Reevaluations({ version }: { version: number }) {
  const [running, setRunning] = useState(false);
  const list = useResource(
    (signal) => api.get<SafetyReevaluationList>('/v1/admin/safety/reevaluations', { signal }),
    [version],
    { pollMs: running ? 3000 : undefined },
  );
  const anyRunning = !!list.data?.items.some((r) => !r.finishedAt);
  useEffect(() => setRunning(anyRunning), [anyRunning]);
  if (list.loading && !list.data) return <Loading lines={2} />;
  if (list.error) return <ErrorMessage error={list.error} retry={list.reload} />;
  const items = list.data?.items ?? [];
  return (
    <div aria-live="polite">
      <h3>Re-evaluation of what is stored</h3>
      {items.length === 0 ? (
        <p className="small muted">No re-evaluation yet: the thresholds and prompt rules have not changed.</p>
      ) : (
        <ul className="small">
          {items.map((r) => (
            <li key={r.kind}>
              <strong>{REEVALUATION_NAMES[r.kind]}:</strong>{' '}
              {r.finishedAt ? `finished ${formatDateTime(r.finishedAt)}` : 'running'} ·{' '}
              {formatCount(r.processed)} looked at, {formatCount(r.hidden)} hidden, {formatCount(r.shown)}{' '}
              shown again · started {formatDateTime(r.startedAt)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function SafetyThresholdsForm() {
  const settings = useResource((signal) => api.get<SafetySettings>('/v1/moderation/safety', { signal }), []);
  const [hide, setHide] = useState('');
  const [blur, setBlur] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!settings.data) return;
    setHide(String(settings.data.hideAbove));
    setBlur(String(settings.data.blurAbove));
  }, [settings.data]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const next = await api.put<SafetySettings>('/v1/admin/safety/thresholds', {
        hideAbove: Number(hide),
        blurAbove: Number(blur),
      });
      settings.set(() => next);
      setSaved(true);
      setVersion((n) => n + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="safety-heading">
      <h2 id="safety-heading">Image safety</h2>
      {settings.loading && !settings.data ? (
        <Loading lines={2} />
      ) : settings.error ? (
        <ErrorMessage error={settings.error} retry={settings.reload} />
      ) : (
        <form onSubmit={submit}>
          <p className="small muted">
            Classifier: {settings.data?.classifier}. {settings.data?.pending ?? 0} images wait to be
            classified. The score is the probability of sexual content (0 to 1).
          </p>
          <div className="form-grid">
            <TextField
              label="Hide from the public at or above"
              type="number"
              min={0}
              max={1}
              step={0.01}
              value={hide}
              onChange={(e) => setHide(e.target.value)}
              required
            />
            <TextField
              label="Blur for the owner at or above"
              type="number"
              min={0}
              max={1}
              step={0.01}
              value={blur}
              onChange={(e) => setBlur(e.target.value)}
              required
            />
          </div>
          <ErrorMessage error={error} />
          {saved ? (
            <p role="status">
              Saved. Blurring applies at once, hiding to new verdicts at once and to images already classified
              in the background (progress below).
            </p>
          ) : null}
          <SubmitButton busy={busy} busyLabel="Saving…">
            Save thresholds
          </SubmitButton>
        </form>
      )}
      <Reevaluations version={version} />
    </section>
  );
}

export function DatasetScheduleForm() {
  const schedule = useResource(
    (signal) => api.get<DatasetSchedule>('/v1/admin/datasets/schedule', { signal }),
    [],
  );
  const [hours, setHours] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (schedule.data)
      setHours(schedule.data.intervalHours === null ? '' : String(schedule.data.intervalHours));
  }, [schedule.data]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const next = await api.put<DatasetSchedule>('/v1/admin/datasets/schedule', {
        intervalHours: hours.trim() === '' ? null : Number(hours),
      });
      schedule.set(() => next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">Dataset releases</h2>
      {schedule.error ? (
        <ErrorMessage error={schedule.error} retry={schedule.reload} />
      ) : (
        <form onSubmit={submit} className="row">
          <div className="grow">
            <TextField
              label="Release every (hours)"
              type="number"
              min={1}
              step={1}
              value={hours}
              onChange={(e) => setHours(e.target.value)}
              placeholder="no schedule"
              hint={
                schedule.data?.nextAt
                  ? `Next release ${formatDate(schedule.data.nextAt)}. Empty stops the schedule.`
                  : 'Empty: no scheduled releases.'
              }
            />
          </div>
          <SubmitButton busy={busy} busyLabel="Saving…">
            Save schedule
          </SubmitButton>
        </form>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
