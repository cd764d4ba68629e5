// One of my generations by its address (/generations/:id): live while it runs, the results once done.
import { Link, useParams } from 'wouter';
import type { Generation } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Page } from '../ui/page.js';
import { RequireUser } from '../ui/require.js';
import { ErrorMessage, Loading } from '../ui/feedback.js';
import { useResource } from '../ui/use-resource.js';
import { useGeneration } from '../ui/use-generation.js';
import { GenerationResults } from './generation-results.js';
import { formatDate } from '../lib/format.js';

function Live({ id }: { id: string }) {
  const first = useResource(
    (signal) => api.get<Generation>(`/v1/generations/${encodeURIComponent(id)}`, { signal }),
    [id],
  );
  const { view, error } = useGeneration(first.data ? id : undefined, first.data);
  if (first.error) return <ErrorMessage error={first.error} retry={first.reload} />;
  if (!view) return <Loading />;
  return (
    <>
      <p className="muted small">
        Made {formatDate(view.generation.createdAt)} · {view.generation.params.model}
      </p>
      <p className="prompt-text">{view.generation.params.prompt}</p>
      <GenerationResults view={view} error={error} />
    </>
  );
}

export default function GenerationPage() {
  const { id = '' } = useParams<{ id: string }>();
  return (
    <RequireUser title="Your images" why="to see your images">
      {() => (
        <Page title="Your images" wide>
          <Live id={id} />
          <p>
            <Link href="/my-images">All my images</Link>
          </p>
        </Page>
      )}
    </RequireUser>
  );
}
