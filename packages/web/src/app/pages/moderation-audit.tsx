// The audit log: every moderator and admin action, newest first.
import { useState } from 'react';
import type { AuditEntry, AuditList } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { formatAgo } from '../lib/format.js';

function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

export function AuditLog() {
  const first = useResource(
    (signal) => api.get<AuditList>('/v1/moderation/audit', { signal, query: { limit: 50 } }),
    [],
  );
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | undefined | null>(null);
  const [busy, setBusy] = useState(false);
  const next = cursor === null ? first.data?.nextCursor : cursor;
  if (first.loading && !first.data) return <Loading />;
  if (first.error) return <ErrorMessage error={first.error} retry={first.reload} />;
  const items = [...(first.data?.items ?? []), ...more];
  if (items.length === 0)
    return <Empty title="Nothing logged yet">Moderator and admin actions are recorded here.</Empty>;
  return (
    <>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Audit log, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">On</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id}>
                <td>{formatAgo(e.createdAt)}</td>
                <td className="mono small">{e.actorId ?? 'system'}</td>
                <td>{e.action}</td>
                <td className="small">
                  {e.targetType} <span className="mono">{e.targetId}</span>
                </td>
                <td className="small">{detailText(e.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next ? (
        <div className="pagination">
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              api
                .get<AuditList>('/v1/moderation/audit', { query: { limit: 50, cursor: next } })
                .then((page) => {
                  setMore((m) => [...m, ...page.items]);
                  setCursor(page.nextCursor);
                })
                .catch(() => undefined)
                .finally(() => setBusy(false));
            }}
          >
            {busy ? 'Loading…' : 'Show older entries'}
          </button>
        </div>
      ) : null}
    </>
  );
}
