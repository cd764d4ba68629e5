// The public gallery: search prompts, sort by recent or aesthetic score, load more as you go. The search
// and sort live in the address, so a result page can be shared and the back button works.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import type { Gallery, ImageSort, ImageSummary } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Page } from '../ui/page.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';

const PAGE = 24;

function Tile({ image }: { image: ImageSummary }) {
  return (
    <li>
      <Link className="thumb" href={`/images/${image.id}`}>
        <div className="thumb-image">
          <img src={image.thumbUrl} alt="" loading="lazy" decoding="async" />
        </div>
        <div className="thumb-caption">
          <span>{image.prompt}</span>
        </div>
        {image.aestheticScore !== undefined ? (
          <div className="thumb-meta small muted">Aesthetic score {image.aestheticScore.toFixed(1)}</div>
        ) : null}
      </Link>
    </li>
  );
}

export default function GalleryPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const q = params.get('q') ?? '';
  const sort: ImageSort = params.get('sort') === 'aesthetic' ? 'aesthetic' : 'recent';
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  const first = useResource(
    (signal) => api.get<Gallery>('/v1/images', { signal, query: { q: q || undefined, sort, limit: PAGE } }),
    [q, sort],
  );
  const [more, setMore] = useState<ImageSummary[]>([]);
  const [cursor, setCursor] = useState<string | undefined | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setMore([]);
    setCursor(null);
  }, [q, sort]);
  const next = cursor === null ? first.data?.nextCursor : cursor;
  const items = [...(first.data?.items ?? []), ...more];

  const go = (nextQ: string, nextSort: ImageSort) => {
    const query = new URLSearchParams();
    if (nextQ.trim()) query.set('q', nextQ.trim());
    if (nextSort !== 'recent') query.set('sort', nextSort);
    const text = query.toString();
    navigate(text ? `/gallery?${text}` : '/gallery');
  };

  async function loadMore() {
    if (!next) return;
    setBusy(true);
    setError(undefined);
    try {
      const page = await api.get<Gallery>('/v1/images', {
        query: { q: q || undefined, sort, limit: PAGE, cursor: next },
      });
      setMore((m) => [...m, ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page
      title="Gallery"
      intro="Images made on Dreamfold. All of them are released in the open datasets."
      wide
    >
      <form
        className="row gallery-controls"
        role="search"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          go(draft, sort);
        }}
      >
        <div className="grow">
          <label htmlFor="gallery-q" className="visually-hidden">
            Search prompts
          </label>
          <input
            id="gallery-q"
            type="search"
            value={draft}
            maxLength={200}
            placeholder="Search prompts, e.g. lighthouse"
            onChange={(e) => setDraft(e.target.value)}
          />
        </div>
        <button type="submit" className="button">
          Search
        </button>
        <label htmlFor="gallery-sort" className="visually-hidden">
          Sort by
        </label>
        <select
          id="gallery-sort"
          value={sort}
          onChange={(e) => go(draft, e.target.value as ImageSort)}
          className="auto-width"
        >
          <option value="recent">Newest first</option>
          <option value="aesthetic">Highest aesthetic score</option>
        </select>
      </form>
      {first.loading && !first.data ? (
        <Loading lines={4} />
      ) : first.error ? (
        <ErrorMessage error={first.error} retry={first.reload} />
      ) : items.length === 0 ? (
        <Empty title={q ? `No images match “${q}”` : 'No public images yet'}>
          {q ? (
            <p>Every word must appear in the prompt. Try fewer or other words.</p>
          ) : (
            <p>
              Images appear here as people generate them. <Link href="/generate">Make the first one</Link>.
            </p>
          )}
        </Empty>
      ) : (
        <>
          <p className="small muted" aria-live="polite">
            {q ? `Images whose prompt contains “${q}”` : 'All public images'},{' '}
            {sort === 'recent' ? 'newest first' : 'highest aesthetic score first'}.
          </p>
          <ul className="thumb-grid">
            {items.map((image) => (
              <Tile key={image.id} image={image} />
            ))}
          </ul>
          <ErrorMessage error={error} />
          {next ? (
            <div className="pagination">
              <button type="button" className="button" disabled={busy} onClick={() => void loadMore()}>
                {busy ? 'Loading…' : 'Show more'}
              </button>
            </div>
          ) : null}
        </>
      )}
    </Page>
  );
}
