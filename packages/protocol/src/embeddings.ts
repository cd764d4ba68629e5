import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';

/** Widest embedding accepted (CLIP ViT-bigG/14 is 1280; ViT-L/14, the platform's, 768). */
export const MAX_EMBEDDING_DIM = 4096;
export const EMBEDDING_DTYPES = ['float16', 'float32'] as const;
export type EmbeddingDtype = (typeof EMBEDDING_DTYPES)[number];

/** base64 of `dim` little-endian values of `dtype`: at most 4096 × 4 bytes. */
const MAX_EMBEDDING_BASE64 = Math.ceil((MAX_EMBEDDING_DIM * 4) / 3) * 4;

export const ImageEmbeddingBody = Type.Object(
  {
    leaseId: Id,
    dtype: Type.Union(
      EMBEDDING_DTYPES.map((d) => Type.Literal(d)),
      { description: 'float16 (IEEE half, as LAION ships embeddings) or float32; little-endian.' },
    ),
    dim: Type.Integer({
      minimum: 1,
      maximum: MAX_EMBEDDING_DIM,
      description: 'Number of values; must equal the coordinator’s embedding width (EMBEDDING_DIM).',
    }),
    data: Type.String({
      minLength: 1,
      maxLength: MAX_EMBEDDING_BASE64,
      pattern: '^[A-Za-z0-9+/]*={0,2}$',
      description: 'base64 of dim values; finite, not all zero. Stored L2-normalised as float16.',
    }),
    model: Type.Optional(
      Type.String({ maxLength: 200, description: 'The image encoder, e.g. openai/clip-vit-large-patch14.' }),
    ),
  },
  { additionalProperties: false },
);
export type ImageEmbeddingBody = Static<typeof ImageEmbeddingBody>;

export const ImageEmbeddingAccepted = Type.Object({
  jobId: Id,
  dim: Type.Integer(),
  stored: Type.Boolean({
    description:
      'false for a verification replica, whose image never becomes public: its embedding is kept only to ' +
      'be compared with the original result’s, never scored or released.',
  }),
});
export type ImageEmbeddingAccepted = Static<typeof ImageEmbeddingAccepted>;

export const AestheticPredictorInfo = Type.Object({
  id: Id,
  sha256: Type.String({ description: 'SHA-256 of the safetensors file.' }),
  dim: Type.Integer(),
  embeddingModel: Type.String(),
  bytes: Type.Integer(),
  installedAt: Timestamp,
  installedBy: Type.Optional(Type.String()),
  validationMse: Type.Optional(Type.Number()),
  validationSpearman: Type.Optional(Type.Number()),
});
export type AestheticPredictorInfo = Static<typeof AestheticPredictorInfo>;

export const ScoringStatus = Type.Object({
  predictor: Type.Union([AestheticPredictorInfo, Type.Null()], {
    description: 'The current predictor (the latest installed); null: none, nothing is scored.',
  }),
  embeddingDim: Type.Integer({ description: 'Width of the embeddings this coordinator accepts.' }),
  embeddings: Type.Integer({ description: 'Finished images with an embedding.' }),
  scored: Type.Integer({ description: 'Of those, scored by the current predictor.' }),
  rescore: Type.Object({
    done: Type.Boolean({ description: 'Every embedding stored before the install has been scored.' }),
    visited: Type.Integer({ description: 'Embeddings the pass over all images has gone through so far.' }),
    startedAt: Type.Optional(Timestamp),
    finishedAt: Type.Optional(Timestamp),
  }),
  queued: Type.Integer({ description: 'New embeddings waiting for the background scorer.' }),
});
export type ScoringStatus = Static<typeof ScoringStatus>;
