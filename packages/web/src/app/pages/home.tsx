// Home: what Dreamfold is, the access stage, and live figures (refreshed every 10 seconds).
import { Link } from 'wouter';
import type { DatasetReleaseList, Stats } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { useSession } from '../session.js';
import { Page } from '../ui/page.js';
import { useResource } from '../ui/use-resource.js';
import { formatCompact } from '../lib/format.js';

type Figure = { label: string; value: number | undefined };

/** The live figures, a fixed set so nothing moves when they arrive. */
function figuresOf(stats: Stats | undefined): Figure[] {
  return [
    { label: 'images generated', value: stats?.imagesGenerated },
    { label: 'workers online', value: stats?.workersOnline },
    { label: 'images in the queue', value: stats?.queueLength },
    { label: 'ratings collected', value: stats?.ratingsCollected },
    { label: 'datasets released', value: stats?.datasetsReleased },
  ];
}

export function HomePage() {
  const { user, stage, access } = useSession();
  const stats = useResource((signal) => api.get<Stats>('/v1/stats', { signal }), [], { pollMs: 10_000 });
  const releases = useResource(
    (signal) => api.get<DatasetReleaseList>('/v1/datasets', { signal, query: { limit: 1 } }),
    [],
  );
  const figures = figuresOf(stats.data);
  const latest = releases.data?.items[0];
  return (
    <Page title="Dreamfold" heading="Open images, made on donated computers" wide>
      <div className="hero">
        <p className="lead">
          Dreamfold turns text into images with Stable Diffusion models running on volunteers' GPUs. Every
          image, prompt and rating made here is released as an open dataset for research.
        </p>
        {stage ? (
          <p>
            {access?.signUp ?? (
              <>
                <strong>{stage === 'research' ? 'Research stage.' : 'Open to everyone.'}</strong>{' '}
                {stage === 'research'
                  ? 'Generating is open to approved researchers for now: apply with your affiliation and intended use.'
                  : 'Anyone with a verified email can generate, paying with credits earned by rating images.'}
              </>
            )}
          </p>
        ) : (
          <p className="stage-placeholder" aria-hidden="true" />
        )}
        <div className="cta">
          <Link className="button button-primary" href="/generate">
            Generate images
          </Link>
          {!user ? (
            <Link className="button" href="/sign-up">
              {stage === 'research' ? 'Apply for access' : 'Create an account'}
            </Link>
          ) : null}
          <Link className="button" href="/donate">
            Donate compute
          </Link>
        </div>
      </div>

      <h2 id="figures-heading">Right now</h2>
      <ul className="figures" aria-labelledby="figures-heading" aria-busy={stats.loading || undefined}>
        {figures.map((f) => (
          <li className="figure" key={f.label}>
            <span className="figure-value">{f.value === undefined ? '–' : formatCompact(f.value)}</span>
            <span className="figure-label">{f.label}</span>
          </li>
        ))}
      </ul>
      <p className="latest-release">
        {latest ? (
          <>
            Latest open dataset: <Link href="/datasets">{latest.name}</Link>,{' '}
            {formatCompact(latest.counts.images)} images and {formatCompact(latest.counts.ratings)} ratings.
          </>
        ) : releases.data ? (
          'No dataset has been released yet; the first comes once there are images to release.'
        ) : (
          '\u00a0'
        )}
      </p>
      {stats.error ? (
        <p className="muted small">Live figures are unavailable right now; they retry every 10 seconds.</p>
      ) : null}

      <h2>How it works</h2>
      <div className="grid-2">
        <section className="card">
          <h3>Generate</h3>
          <p>Describe an image, pick a model and size, and watch it being made step by step.</p>
        </section>
        <section className="card">
          <h3>Rate</h3>
          <p>
            Short rating tasks train an open aesthetic predictor
            {stage === 'open' ? ' and earn the credits you generate with' : ''}.
          </p>
        </section>
        <section className="card">
          <h3>Donate compute</h3>
          <p>
            Run the Dreamfold worker on an idle GPU (5.1 GB of VRAM or more, or an Apple M1), like
            Folding@home. It only makes outgoing connections.
          </p>
        </section>
        <section className="card">
          <h3>Open data</h3>
          <p>
            Images, prompts and ratings are released as Parquet metadata, WebDataset shards and CLIP
            embeddings, never with names or emails.
          </p>
        </section>
      </div>
    </Page>
  );
}
