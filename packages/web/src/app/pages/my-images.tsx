// My images: my generations, newest first, a page at a time, each linking to its own page.
import { useState } from 'react';
import { Link } from 'wouter';
import type { Generation, GenerationList } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { formatAgo } from '../lib/format.js';

const PAGE = 24;

function Thumb({ generation }: { generation: Generation }) {
  const first = generation.images.find((i) => i.state === 'done' && i.url);
  const done = generation.images.filter((i) => i.state === 'done').length;
  let status = '';
  if (generation.status === 'queued') status = 'Queued';
  else if (generation.status === 'running') status = 'Being made…';
  else if (generation.status === 'failed') status = 'Failed';
  else if (generation.status === 'cancelled' && !first) status = 'Cancelled';
  return (
    <li>
      <Link className="thumb" href={`/generations/${generation.id}`}>
        <div className="thumb-image">
          {first?.url ? (
            <img
              src={first.url}
              alt=""
              loading="lazy"
              decoding="async"
              width={generation.params.width}
              height={generation.params.height}
            />
          ) : (
            <span>{status}</span>
          )}
        </div>
        <div className="thumb-caption">
          <span>{generation.params.prompt}</span>
        </div>
        <div className="thumb-meta small muted">
          {formatAgo(generation.createdAt)}
          {generation.images.length > 1 ? ` · ${done} of ${generation.images.length} images` : ''}
        </div>
      </Link>
    </li>
  );
}

function List() {
  const first = useResource(
    (signal) => api.get<GenerationList>('/v1/generations', { signal, query: { limit: PAGE } }),
    [],
  );
  const [more, setMore] = useState<Generation[]>([]);
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
      const page = await api.get<GenerationList>('/v1/generations', { query: { limit: PAGE, cursor: next } });
      setMore((m) => [...m, ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (first.loading && !first.data) return <Loading lines={4} />;
  if (first.error) return <ErrorMessage error={first.error} retry={first.reload} />;
  if (items.length === 0) {
    return (
      <Empty title="You have not generated anything yet">
        <p>Everything you generate is kept here, with its parameters.</p>
        <Link className="button button-primary" href="/generate">
          Generate your first image
        </Link>
      </Empty>
    );
  }
  return (
    <>
      <ul className="thumb-grid">
        {items.map((g) => (
          <Thumb key={g.id} generation={g} />
        ))}
      </ul>
      <ErrorMessage error={error} />
      {next ? (
        <div className="pagination">
          <button type="button" className="button" disabled={busy} onClick={() => void loadMore()}>
            {busy ? 'Loading…' : 'Show older images'}
          </button>
        </div>
      ) : null}
    </>
  );
}

export default function MyImagesPage() {
  return (
    <RequireUser title="My images" why="to see your images">
      {() => (
        <Page title="My images" wide>
          <List />
        </Page>
      )}
    </RequireUser>
  );
}
