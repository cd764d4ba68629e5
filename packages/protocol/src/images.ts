// The public side of finished images: the gallery, one image's parameters, its file and thumbnail.
// Every completed image is public unless a moderator hid it or its owner withdrew their images.
import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';
import { ModelName, Sampler } from './generations.js';

export const IMAGE_SORTS = ['recent', 'aesthetic'] as const;
export const ImageSort = StringEnum(IMAGE_SORTS, {
  description: 'recent: newest first; aesthetic: highest aesthetic score first, unscored images last.',
});
export type ImageSort = Static<typeof ImageSort>;

export const GalleryQuery = Type.Object({
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Words the prompt must contain (each, anywhere, case-insensitive).',
    }),
  ),
  sort: Type.Optional(ImageSort),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 24 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
});
export type GalleryQuery = Static<typeof GalleryQuery>;

export const ImageSummary = Type.Object({
  id: Id,
  prompt: Type.String(),
  model: ModelName,
  width: Type.Integer(),
  height: Type.Integer(),
  createdAt: Timestamp,
  aestheticScore: Type.Optional(Type.Number()),
  url: Type.String({ description: 'The PNG.' }),
  thumbUrl: Type.String({ description: 'A small WebP for grids.' }),
});
export type ImageSummary = Static<typeof ImageSummary>;

export const Gallery = Type.Object({
  items: Type.Array(ImageSummary),
  nextCursor: Type.Optional(Type.String()),
});
export type Gallery = Static<typeof Gallery>;

export const RatingAggregate = Type.Object(
  {
    count: Type.Integer({ description: 'Aesthetic ratings (1–10) counted, from raters in good standing.' }),
    mean: Type.Optional(Type.Number()),
    stddev: Type.Optional(Type.Number({ description: 'Population standard deviation.' })),
    pairwise: Type.Object({ wins: Type.Integer(), losses: Type.Integer(), ties: Type.Integer() }),
  },
  { description: 'What raters said; absent until the image entered the annotation pool.' },
);
export type RatingAggregate = Static<typeof RatingAggregate>;

export const IMAGE_VISIBILITIES = ['public', 'hidden', 'withdrawn'] as const;
export const ImageVisibility = StringEnum(IMAGE_VISIBILITIES, {
  description:
    'public: in the gallery; hidden: taken down by a moderator; withdrawn: its owner withdrew their images. ' +
    'Only the owner and moderators ever see the last two.',
});
export type ImageVisibility = Static<typeof ImageVisibility>;

export const ImageDetail = Type.Object({
  id: Id,
  params: Type.Object({
    prompt: Type.String(),
    negativePrompt: Type.String(),
    model: ModelName,
    width: Type.Integer(),
    height: Type.Integer(),
    steps: Type.Integer(),
    guidanceScale: Type.Number(),
    sampler: Sampler,
    seed: Type.Integer(),
  }),
  createdAt: Timestamp,
  finishedAt: Timestamp,
  sha256: Type.String(),
  url: Type.String(),
  thumbUrl: Type.String(),
  visibility: ImageVisibility,
  aestheticScore: Type.Optional(Type.Number()),
  rating: Type.Optional(RatingAggregate),
});
export type ImageDetail = Static<typeof ImageDetail>;
