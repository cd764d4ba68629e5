// The columns of every table in a release, with their Parquet (DuckDB) types and what they mean. One
// list feeds the SQL that writes the files, the dataset card and the tests, so they cannot drift apart.

import { FLAG_NAMES } from './types.js';

export interface ColumnSpec {
  name: string;
  /** DuckDB type as written to Parquet. */
  type: string;
  nullable: boolean;
  description: string;
}

const col = (name: string, type: string, description: string, nullable = false): ColumnSpec => ({
  name,
  type,
  nullable,
  description,
});

export const METADATA_COLUMNS: readonly ColumnSpec[] = [
  col('id', 'VARCHAR', 'Image id; stable across releases (changes.parquet refers to it).'),
  col('sha256', 'VARCHAR', 'Lower-case hex SHA-256 of the PNG bytes in the shard.'),
  col('shard', 'INTEGER', 'Shard number: the image is in `shards/<shard as %05d>.tar`.'),
  col(
    'key',
    'VARCHAR',
    'WebDataset sample key inside the shard (`<key>.png`, `.json`, `.txt`), img2dataset style.',
  ),
  col('prompt', 'VARCHAR', 'The text prompt the image was generated from (also `<key>.txt`).'),
  col('negative_prompt', 'VARCHAR', 'The negative prompt; empty when none was given.'),
  col('model', 'VARCHAR', 'Id of the text-to-image model that generated the image.'),
  col('sampler', 'VARCHAR', 'Sampler / scheduler name, e.g. `euler` or `dpmpp_2m`.'),
  col('steps', 'INTEGER', 'Number of denoising steps.'),
  col('guidance_scale', 'DOUBLE', 'Classifier-free guidance scale.'),
  col('seed', 'BIGINT', 'Seed of the initial noise.'),
  col('width', 'INTEGER', 'Image width in pixels.'),
  col('height', 'INTEGER', 'Image height in pixels.'),
  col('created_day', 'DATE', 'UTC day the image was requested (no time of day is released).'),
  col(
    'creator',
    'VARCHAR',
    'Pseudonym of the account that requested the image, salted per release (same account → same value within this release only; the same pseudonym as `rater` in ratings and preferences).',
  ),
  col(
    'worker',
    'VARCHAR',
    'Pseudonym of the volunteer worker that generated the image, salted per release.',
    true,
  ),
  col(
    'rating_mean',
    'DOUBLE',
    'Mean of the image\'s ratings in ratings.parquet (see "Rating aggregates"); null without ratings.',
    true,
  ),
  col('rating_count', 'INTEGER', 'Number of those ratings.'),
  col('rating_std', 'DOUBLE', 'Sample standard deviation of those ratings; null with fewer than two.', true),
  col('pairwise_wins', 'INTEGER', 'Pairs in preferences.parquet this image won.'),
  col('pairwise_losses', 'INTEGER', 'Pairs in preferences.parquet this image lost.'),
  col('pairwise_ties', 'INTEGER', 'Pairs in preferences.parquet judged a tie that include this image.'),
  col(
    'aesthetic_score',
    'FLOAT',
    "Score of the platform's LAION-style aesthetic predictor (CLIP ViT-L/14 MLP, roughly 1–10); null when not scored.",
    true,
  ),
  col(
    'punsafe',
    'FLOAT',
    "Probability that the image is unsafe from the platform's NSFW classifier (P(porn) + P(hentai) + P(sexy)), as LAION's `punsafe`; null when not classified.",
    true,
  ),
  col(
    'flags',
    `STRUCT(answers INTEGER, ${FLAG_NAMES.map((n) => `${n} INTEGER`).join(', ')})`,
    `Flag answers of raters not excluded by quality control: \`answers\` = how many flag answers the image received; ${FLAG_NAMES.map((n) => `\`${n}\``).join(', ')} = how many of them set that flag.`,
  ),
  col(
    'has_embedding',
    'BOOLEAN',
    "Whether row i of img_emb/img_emb_0000.npy holds this image's CLIP embedding (false: a zero row).",
  ),
];

export const RATING_COLUMNS: readonly ColumnSpec[] = [
  col(
    'rater',
    'VARCHAR',
    'Pseudonym of the rating account, salted per release (same as `creator` for the same account).',
  ),
  col('image_id', 'VARCHAR', 'The rated image (`id` in metadata.parquet).'),
  col('score', 'DOUBLE', 'The rating, on the scale of its kind (e.g. 1–10 for `aesthetic`).'),
  col('kind', 'VARCHAR', 'What was rated, e.g. `aesthetic`.'),
];

export const PREFERENCE_COLUMNS: readonly ColumnSpec[] = [
  col('image_a', 'VARCHAR', 'First image of the pair (`id` in metadata.parquet).'),
  col('image_b', 'VARCHAR', 'Second image of the pair.'),
  col('prompt', 'VARCHAR', "The prompt both images answer (Pick-a-Pic's `caption`)."),
  col('choice', 'VARCHAR', '`a`, `b` or `tie`.'),
  col('label_a', 'FLOAT', 'Pick-a-Pic style label of image_a: 1 if chosen, 0 if not, 0.5 for a tie.'),
  col('label_b', 'FLOAT', 'Label of image_b, likewise (label_a + label_b = 1).'),
  col('rater', 'VARCHAR', 'Pseudonym of the account that chose, salted per release.'),
];

export const CHANGE_COLUMNS: readonly ColumnSpec[] = [
  col('id', 'VARCHAR', 'Image id.'),
  col(
    'change',
    'VARCHAR',
    '`added` (in this release, not in the previous one) or `removed` (in the previous one, not in this one: withdrawn, deleted or taken down since).',
  ),
];

/** The LAION-compatible view (`metadata/metadata_0000.parquet`, paired with `img_emb/img_emb_0000.npy`). */
export const LAION_COLUMNS: readonly ColumnSpec[] = [
  col('key', 'VARCHAR', 'Sample key (as in metadata.parquet).'),
  col('id', 'VARCHAR', 'Image id.'),
  col('TEXT', 'VARCHAR', "The prompt (LAION's caption column)."),
  col('WIDTH', 'DOUBLE', 'Width in pixels (LAION types it float64).'),
  col('HEIGHT', 'DOUBLE', 'Height in pixels.'),
  col(
    'AESTHETIC_SCORE',
    'FLOAT',
    "The aesthetic predictor's score, as in LAION-Aesthetics; null when not scored.",
    true,
  ),
  col(
    'punsafe',
    'FLOAT',
    "P(unsafe) of the NSFW classifier, as LAION's `punsafe`; null when not classified.",
    true,
  ),
  col('has_embedding', 'BOOLEAN', 'Whether the paired embedding row is real (false: a zero row).'),
];
