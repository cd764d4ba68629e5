// A worker's history of states (new, trusted, probation, suspended), newest first, each change with its
// date, the state it left and the one it entered, and the reason in words. Its owner reads it on the
// Donate page; moderators read it before and after reinstating the worker.
import type { TrustEventList, WorkerReputation } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { formatDateTime } from '../lib/format.js';

export const STATE_NAMES: Record<WorkerReputation['state'], string> = {
  new: 'New',
  trusted: 'Trusted',
  probation: 'On probation',
  suspended: 'Suspended',
};

/** The most changes read at once; older ones are rare enough that a worker's page need not page them. */
const LIMIT = 100;

export function StateHistory({ workerId, version = 0 }: { workerId: string; version?: number }) {
  const history = useResource(
    (signal) =>
      api.get<TrustEventList>(`/v1/workers/${workerId}/trust-events`, {
        signal,
        query: { kind: 'state_changed', limit: LIMIT },
      }),
    [workerId, version],
  );
  if (history.loading && !history.data) return <Loading lines={2} />;
  if (history.error) return <ErrorMessage error={history.error} retry={history.reload} />;
  const items = history.data?.items ?? [];
  if (items.length === 0) {
    return <p className="small muted">No change of state yet: every worker starts as new.</p>;
  }
  const complete = !history.data?.nextCursor;
  return (
    <div className="table-wrap">
      <table className="small">
        <caption className="visually-hidden">Changes of state, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Change</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e, i) => {
            // Events are newest first: the state left is the one the next (older) change entered, and the
            // oldest change left the state every worker starts in.
            const older = items[i + 1];
            const from = older?.state ?? (complete ? 'new' : undefined);
            return (
              <tr key={e.id}>
                <td>{formatDateTime(e.at)}</td>
                <td>
                  {from ? `${STATE_NAMES[from]} → ` : '→ '}
                  {e.state ? STATE_NAMES[e.state] : ''}
                </td>
                <td>{e.detail}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
