// Credits: the balance, where it came from, and every movement (newest first, loaded a page at a time).
import { useState } from 'react';
import { Link } from 'wouter';
import type { CreditMovement, CreditMovementList } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { formatAgo, formatCount } from '../lib/format.js';
import { movementLabel } from '../lib/credit-labels.js';
import { useCredits } from './credits-card.js';

function signed(n: number): string {
  return n > 0 ? `+${formatCount(n)}` : n < 0 ? `−${formatCount(-n)}` : '0';
}

function History() {
  const first = useResource(
    (signal) => api.get<CreditMovementList>('/v1/me/credits/history', { signal, query: { limit: 25 } }),
    [],
  );
  const [more, setMore] = useState<CreditMovement[]>([]);
  const [cursor, setCursor] = useState<string | undefined | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const next = cursor === null ? first.data?.nextCursor : cursor;
  const items = [...(first.data?.items ?? []), ...more];

  async function loadMore() {
    if (!next) return;
    setBusy(true);
    setError(undefined);
    try {
      const page = await api.get<CreditMovementList>('/v1/me/credits/history', {
        query: { limit: 25, cursor: next },
      });
      setMore((m) => [...m, ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (first.loading && !first.data) return <Loading />;
  if (first.error) return <ErrorMessage error={first.error} retry={first.reload} />;
  if (items.length === 0) {
    return (
      <Empty title="No movements yet">
        Credits arrive when you <Link href="/rate">rate images</Link> or{' '}
        <Link href="/donate">run a worker</Link>, and leave when you generate.
      </Empty>
    );
  }
  return (
    <>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Credit movements, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col" className="num">
                Balance
              </th>
              <th scope="col" className="num">
                Held
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.id}>
                <td>{formatAgo(m.createdAt)}</td>
                <td>
                  {movementLabel(m)}
                  {m.memo ? <span className="muted"> · {m.memo}</span> : null}
                  {m.referenceType === 'generation' && m.referenceId ? (
                    <>
                      {' '}
                      <Link href={`/generations/${m.referenceId}`}>see images</Link>
                    </>
                  ) : null}
                </td>
                <td className="num">{signed(m.amount)}</td>
                <td className="num">{m.reserved ? signed(m.reserved) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorMessage error={error} />
      {next ? (
        <div className="pagination">
          <button type="button" className="button" disabled={busy} onClick={() => void loadMore()}>
            {busy ? 'Loading…' : 'Show older movements'}
          </button>
        </div>
      ) : null}
    </>
  );
}

function Summary() {
  const credits = useCredits();
  const s = credits.data;
  const figures: [string, number | undefined][] = [
    ['to spend', s?.balance],
    ['held for images in progress', s?.reserved],
    ['earned by rating', s?.earnedFromAnnotations],
    ['earned by your workers', s?.earnedFromWorkers],
    ['granted', s?.granted],
    ['spent', s?.spent],
  ];
  return (
    <>
      <ul className="figures" aria-label="Credit summary" aria-busy={credits.loading || undefined}>
        {figures.map(([label, value]) => (
          <li className="figure" key={label}>
            <span className="figure-value">{value === undefined ? '–' : formatCount(value)}</span>
            <span className="figure-label">{label}</span>
          </li>
        ))}
      </ul>
      {credits.error ? <ErrorMessage error={credits.error} retry={credits.reload} /> : null}
    </>
  );
}

export default function CreditsPage() {
  return (
    <RequireUser title="Credits" why="to see your credits">
      {() => (
        <Page
          title="Credits"
          intro="Credits pay for generating in the open stage. You earn them by rating images and by donating compute."
        >
          <Summary />
          <h2>History</h2>
          <History />
        </Page>
      )}
    </RequireUser>
  );
}
