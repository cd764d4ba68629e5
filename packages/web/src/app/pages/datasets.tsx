// Open datasets: every published release with its counts and files, and how to load them.
import type { DatasetRelease, DatasetReleaseList } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { Page } from '../ui/page.js';
import { Empty, ErrorMessage, Loading } from '../ui/feedback.js';
import { CopyButton } from '../ui/forms.js';
import { useResource } from '../ui/use-resource.js';
import { formatCount, formatDate, plural } from '../lib/format.js';

function files(release: DatasetRelease): [string, string][] {
  const list: [string, string][] = [
    ['manifest.json', 'every file with its size and SHA-256'],
    ['metadata.parquet', 'one row per image: settings, ratings, aesthetic score'],
    ['ratings.parquet', 'one row per rating'],
    ['preferences.parquet', 'one row per pairwise preference'],
    ['changes.parquet', 'images added and removed since the previous release'],
  ];
  if (release.counts.embeddings > 0)
    list.push(['img_emb/img_emb_0000.npy', 'CLIP image embeddings (float16)']);
  return list;
}

function Release({ release, latest }: { release: DatasetRelease; latest: boolean }) {
  const base = `${window.location.origin}${release.filesUrl}`;
  const lastShard = String(Math.max(0, release.counts.shards - 1)).padStart(5, '0');
  const snippet = `import webdataset as wds\nurls = "${base}/shards/{00000..${lastShard}}.tar"\nfor sample in wds.WebDataset(urls).decode("pil").to_tuple("png", "txt"):\n    image, prompt = sample`;
  const c = release.counts;
  return (
    <section className="card" aria-labelledby={`release-${release.name}`}>
      <h2 id={`release-${release.name}`}>
        {release.name} {latest ? <span className="pill pill-online">latest</span> : null}
      </h2>
      <p className="muted small">
        Released {formatDate(release.createdAt)}
        {release.previous ? ` · follows ${release.previous}` : ''} · manifest SHA-256{' '}
        <span className="mono">{release.manifestSha256.slice(0, 16)}…</span>
      </p>
      <ul className="figures" aria-label={`${release.name} in numbers`}>
        {(
          [
            ['images', c.images],
            ['WebDataset shards', c.shards],
            ['CLIP embeddings', c.embeddings],
            ['ratings', c.ratings],
            ['pairwise preferences', c.preferences],
          ] as const
        ).map(([label, value]) => (
          <li className="figure" key={label}>
            <span className="figure-value">{formatCount(value)}</span>
            <span className="figure-label">{label}</span>
          </li>
        ))}
      </ul>
      <p className="small muted">
        {plural(c.added, 'image')} new since the previous release, {formatCount(c.removed)} removed (withdrawn
        or hidden).
      </p>
      <h3>Files</h3>
      <ul>
        {files(release).map(([path, what]) => (
          <li key={path}>
            <a href={`${release.filesUrl}/${path}`} download>
              {path}
            </a>{' '}
            <span className="muted small">{what}</span>
          </li>
        ))}
        {c.shards > 0 ? (
          <li>
            <span className="mono">
              {c.shards === 1 ? 'shards/00000.tar' : `shards/00000.tar … shards/${lastShard}.tar`}
            </span>{' '}
            <span className="muted small">images with their prompt and metadata, WebDataset format</span>
          </li>
        ) : null}
      </ul>
      {c.shards > 0 ? (
        <details className="more">
          <summary>Load it in Python</summary>
          <pre className="command" id={`snippet-${release.name}`}>
            {snippet}
          </pre>
          <CopyButton text={snippet} targetId={`snippet-${release.name}`} />
        </details>
      ) : null}
    </section>
  );
}

export default function DatasetsPage() {
  const list = useResource((signal) => api.get<DatasetReleaseList>('/v1/datasets', { signal }), []);
  return (
    <Page
      title="Open datasets"
      intro="Every image, prompt and rating made on Dreamfold, released in the formats image-text researchers use: Parquet metadata, WebDataset shards and CLIP embeddings. Never names, emails or IPs; raters and creators are pseudonymous per release."
    >
      {list.loading && !list.data ? (
        <Loading lines={4} />
      ) : list.error ? (
        <ErrorMessage error={list.error} retry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty title="No release yet">The first release is published once there are images to release.</Empty>
      ) : (
        list.data.items.map((release, i) => <Release key={release.name} release={release} latest={i === 0} />)
      )}
    </Page>
  );
}
