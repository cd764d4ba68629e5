// README.md of a release: the dataset card. Everything in it comes from the release itself (counts,
// the column lists in columns.ts) or from the caller (license, exclusions, how the data was produced),
// so it is as reproducible as the data files.

import {
  CHANGE_COLUMNS,
  LAION_COLUMNS,
  METADATA_COLUMNS,
  PREFERENCE_COLUMNS,
  RATING_COLUMNS,
  type ColumnSpec,
} from './columns.js';
import type { ReleaseCounts } from './manifest.js';
import { shardName } from './keys.js';
import { PSEUDONYM_HEX_DIGITS } from './pseudonym.js';
import type { ExclusionCount } from './types.js';

export interface CardInput {
  title: string;
  name: string;
  createdAt: Date;
  previous: string | null;
  license: string;
  counts: ReleaseCounts;
  shardSize: number;
  embeddingDim: number;
  embeddingModel: string;
  hasEmbeddings: boolean;
  aggregateRatingKind: string | undefined;
  exclusions: readonly ExclusionCount[];
  production: string;
}

export const DEFAULT_PRODUCTION =
  'Every image was generated on the Dreamfold platform: a signed-in person wrote the prompt and chose the ' +
  'model and sampling settings, and a volunteer worker (a donated GPU running the Dreamfold worker) ran the ' +
  'text-to-image model and returned the PNG, which the coordinator validated and re-encoded before storing it ' +
  'by SHA-256. Ratings and pairwise preferences are short annotation tasks done by people on the platform. ' +
  "Aesthetic scores come from the platform's LAION-style aesthetic predictor over CLIP image embeddings.";

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function columnTable(columns: readonly ColumnSpec[]): string {
  const rows = columns.map(
    (c) => `| \`${c.name}\` | ${c.type}${c.nullable ? ' (nullable)' : ''} | ${cell(c.description)} |`,
  );
  return ['| column | type | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

const n = (value: number) => value.toLocaleString('en-US');

export function renderCard(input: CardInput): string {
  const { counts } = input;
  const day = input.createdAt.toISOString().slice(0, 10);
  const lastShard = counts.shards > 0 ? shardName(counts.shards - 1) : undefined;
  const files: [string, string][] = [
    [
      'metadata.parquet',
      'one row per image: generation settings, pseudonymous creator and worker, rating and pairwise aggregates, aesthetic score, flags',
    ],
    [
      lastShard ? `shards/00000.tar … shards/${lastShard}` : 'shards/',
      `WebDataset shards of up to ${n(input.shardSize)} samples: \`<key>.png\` (the image), \`<key>.json\` (its metadata.parquet row), \`<key>.txt\` (the prompt)`,
    ],
  ];
  if (input.hasEmbeddings) {
    files.push([
      'img_emb/img_emb_0000.npy',
      `float16 [${n(counts.images)}, ${input.embeddingDim}] ${input.embeddingModel} image embeddings (L2-normalised as computed), row i = metadata row i; zero rows where \`has_embedding\` is false`,
    ]);
    files.push([
      'metadata/metadata_0000.parquet',
      'LAION-compatible view paired with img_emb_0000.npy (the "parquet_npy" layout of clip-retrieval / embedding-reader)',
    ]);
  }
  files.push(
    ['ratings.parquet', 'one row per rating (pseudonymous rater, image, score, kind)'],
    ['preferences.parquet', 'one row per pairwise preference, like Pick-a-Pic'],
    ['changes.parquet', 'ids added and removed since the previous release'],
    ['manifest.json', 'every file with its size and SHA-256, the counts, the previous release'],
  );

  const exclusions = input.exclusions.filter((e) => e.count > 0);
  const exclusionText =
    exclusions.length === 0
      ? 'No image was excluded by the platform for this release.'
      : [
          '| reason | count | why |',
          '| --- | --- | --- |',
          ...exclusions.map((e) => `| \`${cell(e.reason)}\` | ${n(e.count)} | ${cell(e.description)} |`),
        ].join('\n');

  const sections = [
    `# ${input.title}`,
    [
      `Release \`${input.name}\` of ${day}. License: **${input.license}**` +
        (input.license === 'CC0-1.0'
          ? ' (public domain dedication: images, prompts, metadata and annotations).'
          : '.'),
      `Previous release: ${input.previous === null ? 'none (this is the first; every image counts as added)' : `\`${input.previous}\``}.`,
    ].join('\n'),
    '## Counts',
    [
      '| | count |',
      '| --- | --- |',
      `| images | ${n(counts.images)} |`,
      `| images with a CLIP embedding | ${n(counts.embeddings)} |`,
      `| WebDataset shards | ${n(counts.shards)} |`,
      `| ratings | ${n(counts.ratings)} |`,
      `| pairwise preferences | ${n(counts.preferences)} |`,
      `| images added since the previous release | ${n(counts.added)} |`,
      `| images removed since the previous release | ${n(counts.removed)} |`,
    ].join('\n'),
    '## Files',
    ['| file | content |', '| --- | --- |', ...files.map(([f, what]) => `| \`${f}\` | ${what} |`)].join(
      '\n',
    ) + '\n\nSizes and SHA-256 of every file are in `manifest.json`; check a download with `sha256sum`.',
    '## Fields',
    "### metadata.parquet (and each sample's `.json`)",
    columnTable(METADATA_COLUMNS),
    [
      '**Rating aggregates.** `rating_mean`, `rating_count` and `rating_std` are computed from the rows of',
      `ratings.parquet for the image${input.aggregateRatingKind === undefined ? '' : ` with \`kind\` = \`${input.aggregateRatingKind}\``};`,
      '`pairwise_*` from the rows of preferences.parquet that include the image. A rating or preference that',
      'names an image not in this release is not published and not counted.',
    ].join('\n'),
    '### ratings.parquet',
    columnTable(RATING_COLUMNS),
    '### preferences.parquet',
    columnTable(PREFERENCE_COLUMNS),
    '### changes.parquet',
    columnTable(CHANGE_COLUMNS),
    ...(input.hasEmbeddings
      ? ['### metadata/metadata_0000.parquet (LAION-compatible view)', columnTable(LAION_COLUMNS)]
      : []),
    [
      '### WebDataset samples',
      'Keys follow img2dataset: shard `s`, sample `i` → `10^d·s + i` zero-padded to 5 + d digits, with',
      `d = ceil(log10(${n(input.shardSize)})) = ${Math.ceil(Math.log10(input.shardSize))}. Members are sorted by name and every tar header`,
      'is the same apart from name and size (mtime = release time, uid/gid 0, mode 0644), so shards are',
      'byte-for-byte reproducible.',
    ].join('\n'),
    '## How the data was produced',
    input.production,
    '## What was excluded and why',
    [
      'Each release is a complete snapshot of what may be published at its date: images deleted by their',
      'creators, images of people who withdrew their consent or deleted their account with withdrawal, hidden',
      'and taken-down images are not in it, even if an earlier release had them (see `changes.parquet`).',
      'Ratings from raters excluded by quality control are not in it either.',
    ].join('\n'),
    exclusionText,
    counts.ratings_left_out + counts.preferences_left_out > 0
      ? `Because of these exclusions, ${n(counts.ratings_left_out)} ratings and ${n(counts.preferences_left_out)} preferences that name an excluded image were left out.`
      : '',
    '## Privacy',
    [
      'No email address, name, IP address or account id is in this release. `creator`, `worker` and',
      `\`rater\` are pseudonyms: the first ${PSEUDONYM_HEX_DIGITS} hex digits of HMAC-SHA256 under a secret salt that`,
      'changes with every release, so they are stable within this release and cannot be linked across',
      'releases or back to accounts. Creation times are released as a day only.',
    ].join('\n'),
    '## Using it',
    [
      '```python',
      'import duckdb, numpy as np',
      'meta = duckdb.sql("SELECT * FROM \'metadata.parquet\'").df()',
      ...(input.hasEmbeddings
        ? ["emb = np.load('img_emb/img_emb_0000.npy')  # float16, row i = meta row i"]
        : []),
      'import webdataset as wds',
      `ds = wds.WebDataset('shards/{00000..${lastShard ? lastShard.slice(0, 5) : '00000'}}.tar').decode('pil').to_tuple('png', 'txt', 'json')`,
      '```',
    ].join('\n'),
  ];
  return sections.filter((s) => s !== '').join('\n\n') + '\n';
}
