// Admin: the safety classifier's thresholds, and the dataset release schedule.
import { useEffect, useState, type FormEvent } from 'react';
import type { DatasetSchedule, SafetySettings } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading } from '../ui/feedback.js';
import { SubmitButton, TextField } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { formatDate } from '../lib/format.js';

export function SafetyThresholdsForm() {
  const settings = useResource((signal) => api.get<SafetySettings>('/v1/moderation/safety', { signal }), []);
  const [hide, setHide] = useState('');
  const [blur, setBlur] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
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
            <p role="status">Saved. Hiding applies to images classified from now on; blurring at once.</p>
          ) : null}
          <SubmitButton busy={busy} busyLabel="Saving…">
            Save thresholds
          </SubmitButton>
        </form>
      )}
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
