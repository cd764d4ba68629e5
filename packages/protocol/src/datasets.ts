// Open dataset releases: the list of published releases, their files, and the admin's schedule.
import { Type, type Static } from 'typebox';
import { Timestamp } from './common.js';

/** Release names are folder names and URL segments. */
export const DatasetName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Release name, e.g. "dreamfold-2026-03-01".',
});

export const DatasetCounts = Type.Object({
  images: Type.Integer(),
  shards: Type.Integer(),
  embeddings: Type.Integer({ description: 'Images with a CLIP embedding in img_emb/img_emb_0000.npy.' }),
  ratings: Type.Integer(),
  preferences: Type.Integer(),
  added: Type.Integer({ description: 'Images new since the previous release.' }),
  removed: Type.Integer({
    description: 'Images of the previous release that are gone (withdrawn, hidden…).',
  }),
});
export type DatasetCounts = Static<typeof DatasetCounts>;

export const DatasetRelease = Type.Object({
  name: DatasetName,
  createdAt: Timestamp,
  previous: Type.Union([DatasetName, Type.Null()]),
  counts: DatasetCounts,
  /** SHA-256 of manifest.json, which lists every file with its size and SHA-256. */
  manifestSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** Where to download files: `{filesUrl}/manifest.json`, `{filesUrl}/metadata.parquet`, … */
  filesUrl: Type.String(),
});
export type DatasetRelease = Static<typeof DatasetRelease>;

export const DatasetReleaseList = Type.Object({
  items: Type.Array(DatasetRelease),
  nextCursor: Type.Optional(Type.String()),
});
export type DatasetReleaseList = Static<typeof DatasetReleaseList>;

/**
 * The release; the file path follows it in the URL (`/v1/datasets/{name}/shards/00000.tar`) and must be
 * manifest.json or a path the manifest lists. (TypeBox cannot name the `*` wildcard as a property.)
 */
export const DatasetFileParams = Type.Object({ name: DatasetName });
export type DatasetFileParams = Static<typeof DatasetFileParams>;

export const DatasetSchedule = Type.Object({
  /** Hours between scheduled releases; null: no schedule. */
  intervalHours: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  nextAt: Type.Union([Timestamp, Type.Null()]),
});
export type DatasetSchedule = Static<typeof DatasetSchedule>;

export const DatasetScheduleBody = Type.Object(
  {
    intervalHours: Type.Union([Type.Integer({ minimum: 1, maximum: 24 * 366 }), Type.Null()], {
      description:
        'Release every this many hours (the first one that much after now); null stops the schedule.',
    }),
  },
  { additionalProperties: false },
);
export type DatasetScheduleBody = Static<typeof DatasetScheduleBody>;
