// One worker's details, loaded when opened: why it gets no jobs (and what is queued), its standing
// (trusted, new, probation, suspended) and why, with the history of its states, pause/resume, and the
// credits its latest jobs earned.
import { useState } from 'react';
import type { PauseState, ReceiptList, WhyIdle, WorkerInfo, WorkerReputation } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { formatAgo, formatCount, plural } from '../lib/format.js';
import { StateHistory } from './worker-state-history.js';

const STANDING: Record<WorkerReputation['state'], string> = {
  new: 'New: most results get a second opinion and earnings are held until it has a verified record.',
  trusted: 'Trusted: few second opinions, earnings paid at once.',
  probation: 'On probation: every result is checked and earnings are held until it is trusted again.',
  suspended: 'Suspended: it gets no jobs.',
};

function Standing({ workerId }: { workerId: string }) {
  const rep = useResource(
    (signal) => api.get<WorkerReputation>(`/v1/workers/${workerId}/reputation`, { signal }),
    [workerId],
  );
  if (rep.loading && !rep.data) return <Loading lines={2} />;
  if (rep.error) return <ErrorMessage error={rep.error} retry={rep.reload} />;
  const r = rep.data;
  if (!r) return null;
  return (
    <div>
      <h4>Standing</h4>
      <p>
        {STANDING[r.state]}
        {r.reason ? ` ${r.reason}` : ''}
      </p>
      <p className="small muted">
        {formatCount(r.results.verified)} verified · {formatCount(r.results.overturned)} overturned ·{' '}
        {formatCount(r.results.rejected)} rejected · {formatCount(r.results.failed)} failed
        {r.agreementRate !== undefined ? ` · ${Math.round(r.agreementRate * 100)}% agreement` : ''} ·{' '}
        {Math.round(r.replicationPercent)}% of results double-checked
        {r.heldCredits > 0 ? ` · ${plural(r.heldCredits, 'credit')} held until verified` : ''}
      </p>
      {r.recentEvents.length ? (
        <ul className="small">
          {r.recentEvents.slice(0, 5).map((e) => (
            <li key={e.id}>
              {formatAgo(e.at)}: {e.detail}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function Idle({ workerId }: { workerId: string }) {
  const why = useResource(
    (signal) => api.get<WhyIdle>(`/v1/workers/${workerId}/why-idle`, { signal }),
    [workerId],
    {
      pollMs: 10_000,
    },
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (why.loading && !why.data) return <Loading lines={2} />;
  if (why.error) return <ErrorMessage error={why.error} retry={why.reload} />;
  const w = why.data;
  if (!w) return null;
  const paused = w.state === 'paused';

  async function toggle() {
    setBusy(true);
    setError(undefined);
    try {
      await api.post<PauseState>(`/v1/workers/${workerId}/${paused ? 'resume' : 'pause'}`);
      why.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div>
      <h4>Jobs</h4>
      {w.idle && w.reasons.length ? (
        <>
          <p>It gets no jobs right now because:</p>
          <ul>
            {w.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </>
      ) : (
        <p>{w.idle ? 'Waiting for work.' : 'Working on a job now.'}</p>
      )}
      <p className="small muted">
        {plural(w.queuedTotal, 'image')} queued in all
        {w.demand.length
          ? `: ${w.demand
              .slice(0, 4)
              .map(
                (d) =>
                  `${d.queued} × ${d.model} ${Math.round(Math.sqrt(d.pixels))}²${d.servable ? '' : ` (${d.why ?? 'not for this worker'})`}`,
              )
              .join(', ')}`
          : ''}
        .
      </p>
      <ErrorMessage error={error} />
      <button type="button" className="button button-small" disabled={busy} onClick={() => void toggle()}>
        {paused ? 'Resume' : 'Pause (finishes the current job first)'}
      </button>
    </div>
  );
}

function Receipts({ workerId }: { workerId: string }) {
  const receipts = useResource(
    (signal) => api.get<ReceiptList>(`/v1/workers/${workerId}/receipts`, { signal, query: { limit: 5 } }),
    [workerId],
  );
  if (receipts.loading && !receipts.data) return <Loading lines={2} />;
  if (receipts.error) return <ErrorMessage error={receipts.error} retry={receipts.reload} />;
  const r = receipts.data;
  if (!r) return null;
  return (
    <div>
      <h4>Earnings</h4>
      <p>{plural(r.totalCredits, 'credit')} earned in all.</p>
      {r.items.length ? (
        <ul className="small">
          {r.items.map((item) => (
            <li key={item.jobId}>
              {formatAgo(item.finishedAt)}: {item.model} {item.width}×{item.height}, {item.steps} steps →{' '}
              {item.status === 'held'
                ? `${plural(item.credits, 'credit')} held until verified`
                : plural(item.credits, 'credit')}
            </li>
          ))}
        </ul>
      ) : (
        <p className="small muted">No finished jobs yet.</p>
      )}
    </div>
  );
}

export function WorkerDetails({ worker }: { worker: WorkerInfo }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="worker-details" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Details for {worker.name}</summary>
      {open ? (
        <>
          <div className="grid-2">
            <Idle workerId={worker.id} />
            <Standing workerId={worker.id} />
            <Receipts workerId={worker.id} />
          </div>
          <h4>History of its state</h4>
          <StateHistory workerId={worker.id} />
          <p className="small muted">
            Worker ID <span className="mono">{worker.id}</span>: quote it when you ask a moderator about a
            suspension.
          </p>
        </>
      ) : null}
    </details>
  );
}
