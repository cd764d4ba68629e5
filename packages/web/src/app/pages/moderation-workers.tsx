// Workers (moderators): look a worker up by its ID (its owner reads it on the Donate page and quotes it
// when asking about a suspension, or a link carries it: /moderation?tab=workers&worker=ID), read its
// standing and the history of its states, and reinstate a suspended one with a reason its owner reads.
// A reinstated worker comes back on probation, every result checked, never trusted at once.
import { useState, type FormEvent } from 'react';
import { useSearch } from 'wouter';
import type { WorkerReputation } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading, Notice } from '../ui/feedback.js';
import { SubmitButton, TextArea, TextField } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { formatDateTime } from '../lib/format.js';
import { STATE_NAMES, StateHistory } from './worker-state-history.js';

function Reinstate({ workerId, onDone }: { workerId: string; onDone: (rep: WorkerReputation) => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onDone(
        await api.post<WorkerReputation>(`/v1/moderation/workers/${workerId}/reinstate`, {
          reason: reason.trim(),
        }),
      );
      setReason('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} aria-label="Reinstate this worker">
      <TextArea
        label="Why reinstate it (its owner reads this)"
        hint="It comes back on probation: every result is checked and two more bad results suspend it again."
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        maxLength={500}
        rows={3}
        required
      />
      <ErrorMessage error={error} />
      <SubmitButton busy={busy} busyLabel="Reinstating…">
        Reinstate
      </SubmitButton>
    </form>
  );
}

function WorkerStanding({ workerId }: { workerId: string }) {
  const rep = useResource(
    (signal) => api.get<WorkerReputation>(`/v1/workers/${workerId}/reputation`, { signal }),
    [workerId],
  );
  const [reinstated, setReinstated] = useState(0);
  if (rep.loading && !rep.data) return <Loading lines={3} />;
  if (rep.error) return <ErrorMessage error={rep.error} retry={rep.reload} />;
  const r = rep.data;
  if (!r) return null;
  return (
    <section className="card" aria-labelledby="worker-standing-heading">
      <h3 id="worker-standing-heading">
        Worker <span className="mono">{r.workerId}</span>: {STATE_NAMES[r.state]}
      </h3>
      <p>
        Since {formatDateTime(r.stateSince)}.{r.reason ? ` ${r.reason}` : ''}
      </p>
      <p className="small muted">
        {r.results.verified} verified · {r.results.overturned} overturned · {r.results.rejected} rejected ·{' '}
        {r.results.failed} failed · {r.strikes} strikes
      </p>
      {reinstated ? (
        <Notice kind="success">Reinstated: the worker is on probation and gets jobs again.</Notice>
      ) : null}
      {r.state === 'suspended' ? (
        <Reinstate
          workerId={r.workerId}
          onDone={(next) => {
            rep.set(() => next);
            setReinstated((n) => n + 1);
          }}
        />
      ) : (
        <p className="small muted">Only a suspended worker can be reinstated.</p>
      )}
      <h4>History of its state</h4>
      <StateHistory workerId={r.workerId} version={reinstated} />
    </section>
  );
}

export function Workers() {
  const initial = new URLSearchParams(useSearch()).get('worker') ?? '';
  const [input, setInput] = useState(initial);
  const [workerId, setWorkerId] = useState(initial);
  return (
    <>
      <form
        className="row worker-lookup"
        onSubmit={(event) => {
          event.preventDefault();
          setWorkerId(input.trim());
        }}
      >
        <div className="grow">
          <TextField
            label="Worker ID"
            hint="The owner finds it under the worker’s details on the Donate page."
            value={input}
            onChange={(e) => setInput(e.target.value)}
            maxLength={64}
            required
          />
        </div>
        <button type="submit" className="button">
          Look up
        </button>
      </form>
      {workerId ? <WorkerStanding key={workerId} workerId={workerId} /> : null}
    </>
  );
}
