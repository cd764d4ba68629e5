// Admin: the access stage (research or open), the models served and their pinned weights, generation
// limits, the prompt filter's rules, image safety thresholds, the dataset release schedule, and credit grants.
import { useEffect, useState, type FormEvent } from 'react';
import type { AccessStage, AccessStageInfo, CreditGrant, PromptFilterState } from '@dreamfold/protocol';
import { api, newIdempotencyKey } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { SubmitButton, TextArea, TextField } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { ACCESS_STAGES } from '../lib/protocol-constants.js';
import { formatAgo, formatCount } from '../lib/format.js';
import { DatasetScheduleForm, SafetyThresholdsForm } from './admin-safety.js';
import { Models } from './admin-models.js';
import { GenerationLimitsForm } from './admin-limits.js';

const STAGE_TEXT: Record<AccessStage, string> = {
  research: 'Research: approved applicants generate, for free.',
  open: 'Open: anyone with a confirmed email generates, paying with credits earned by rating.',
};

function AccessStageForm() {
  const { stage, refresh } = useSession();
  const [chosen, setChosen] = useState<AccessStage | undefined>(stage);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<AccessStageInfo>();
  useEffect(() => setChosen((c) => c ?? stage), [stage]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(undefined);
    try {
      setSaved(await api.put<AccessStageInfo>('/v1/admin/access', { stage: chosen }));
      await refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="stage-heading">
      <h2 id="stage-heading">Access stage</h2>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Who may generate</legend>
          {ACCESS_STAGES.map((s) => (
            <label className="choice" key={s}>
              <input
                type="radio"
                name="stage"
                value={s}
                checked={chosen === s}
                onChange={() => setChosen(s)}
              />
              <span>{STAGE_TEXT[s]}</span>
            </label>
          ))}
        </fieldset>
        <ErrorMessage error={error} />
        {saved ? (
          <Notice kind="success">
            <p>
              The stage is now <strong>{saved.stage}</strong> on every replica. {saved.signUp}
            </p>
          </Notice>
        ) : null}
        <SubmitButton busy={busy} busyLabel="Switching…">
          Save the stage
        </SubmitButton>
      </form>
    </section>
  );
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

function PromptFilter() {
  const state = useResource(
    (signal) => api.get<PromptFilterState>('/v1/moderation/prompt-filter', { signal }),
    [],
  );
  const [words, setWords] = useState<string>();
  const [patterns, setPatterns] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const next = await api.put<PromptFilterState>('/v1/admin/prompt-filter', {
        words: lines(words ?? state.data?.words.join('\n') ?? ''),
        patterns: lines(patterns ?? state.data?.patterns.join('\n') ?? ''),
      });
      state.set(() => next);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="filter-heading">
      <h2 id="filter-heading">Prompt filter</h2>
      <p className="muted small">
        Prompts matching a rule are refused before anything is queued, with a clear error.
      </p>
      {state.loading && !state.data ? (
        <Loading lines={2} />
      ) : state.error ? (
        <ErrorMessage error={state.error} retry={state.reload} />
      ) : (
        <form onSubmit={submit}>
          <p className="small muted">
            {state.data?.source === 'file'
              ? 'Rules come from PROMPT_BLOCKLIST_FILE until you save here.'
              : state.data?.updatedAt
                ? `Last changed ${formatAgo(state.data.updatedAt)}.`
                : 'No rules yet.'}
          </p>
          <div className="grid-2">
            <TextArea
              label="Blocked words and phrases"
              hint="One per line; whole words, any case."
              rows={6}
              value={words ?? state.data?.words.join('\n') ?? ''}
              onChange={(e) => setWords(e.target.value)}
            />
            <TextArea
              label="Blocked patterns"
              hint="One regular expression per line, written /source/flags."
              rows={6}
              spellCheck={false}
              value={patterns ?? state.data?.patterns.join('\n') ?? ''}
              onChange={(e) => setPatterns(e.target.value)}
            />
          </div>
          <ErrorMessage error={error} />
          {saved ? <p role="status">Saved: the rules apply to new prompts now.</p> : null}
          <SubmitButton busy={busy} busyLabel="Saving…">
            Save rules
          </SubmitButton>
        </form>
      )}
    </section>
  );
}

function GrantCredits() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [granted, setGranted] = useState<CreditGrant>();
  const [key, setKey] = useState(newIdempotencyKey);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.post<CreditGrant>(
        '/v1/admin/credits/grants',
        {
          userId: String(data.get('userId')).trim(),
          amount: Number(data.get('amount')),
          memo: String(data.get('memo')).trim(),
        },
        { idempotencyKey: key },
      );
      setGranted(result);
      setKey(newIdempotencyKey());
      form.reset();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="grant-heading">
      <h2 id="grant-heading">Grant credits</h2>
      <form onSubmit={submit}>
        <div className="form-grid">
          <TextField
            label="User id"
            name="userId"
            required
            spellCheck={false}
            onChange={() => setKey(newIdempotencyKey())}
          />
          <TextField
            label="Credits"
            name="amount"
            type="number"
            required
            step={1}
            hint="Negative takes credits back."
            onChange={() => setKey(newIdempotencyKey())}
          />
        </div>
        <TextField
          label="Why (the user sees this)"
          name="memo"
          required
          maxLength={500}
          onChange={() => setKey(newIdempotencyKey())}
        />
        <ErrorMessage error={error} />
        {granted ? <p role="status">Done: {formatCount(granted.amount)} credits.</p> : null}
        <SubmitButton busy={busy} busyLabel="Granting…">
          Grant
        </SubmitButton>
      </form>
    </section>
  );
}

export default function AdminPage() {
  return (
    <RequireUser title="Admin" role="admin" why="to administer Dreamfold">
      {() => (
        <Page title="Admin">
          <AccessStageForm />
          <PromptFilter />
          <Models />
          <GenerationLimitsForm />
          <SafetyThresholdsForm />
          <DatasetScheduleForm />
          <GrantCredits />
        </Page>
      )}
    </RequireUser>
  );
}
