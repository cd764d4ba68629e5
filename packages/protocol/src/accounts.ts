import { Type, type Static } from 'typebox';
import { Id, StringEnum, Timestamp } from './common.js';

export const ROLES = ['user', 'moderator', 'admin'] as const;
export const Role = StringEnum(ROLES);
export type Role = Static<typeof Role>;

export const ACCESS_STAGES = ['research', 'open'] as const;
/** research: approved applicants generate; open: anyone with a verified email, paying with credits. */
export const AccessStage = StringEnum(ACCESS_STAGES);
export type AccessStage = Static<typeof AccessStage>;

export const ACCESS_STATES = ['pending', 'approved', 'rejected'] as const;
export const AccessState = StringEnum(ACCESS_STATES, {
  description: 'The research-access application: pending until a moderator decides.',
});
export type AccessState = Static<typeof AccessState>;

export const DATASET_CONSENTS = ['pseudonymous', 'withdrawn'] as const;
export const DatasetConsent = StringEnum(DATASET_CONSENTS, {
  description: 'pseudonymous: my images may appear in dataset releases under a pseudonym; withdrawn: never.',
});
export type DatasetConsent = Static<typeof DatasetConsent>;

export const OCCUPATIONS = [
  'researcher',
  'ml_engineer',
  'journalist',
  'educator',
  'decision_maker',
  'other',
] as const;
export const Occupation = StringEnum(OCCUPATIONS);
export type Occupation = Static<typeof Occupation>;

export const User = Type.Object({
  id: Id,
  email: Type.String(),
  role: Role,
  createdAt: Timestamp,
  displayName: Type.Optional(Type.String()),
  emailVerified: Type.Boolean(),
  access: AccessState,
  accessReason: Type.Optional(Type.String()),
  datasetConsent: DatasetConsent,
  suspended: Type.Boolean(),
  hasPassword: Type.Boolean(),
});
export type User = Static<typeof User>;

export const CreateApiKeyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 80 }) },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

export const ApiKeyInfo = Type.Object({
  id: Id,
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: Type.Optional(Timestamp),
  revokedAt: Type.Optional(Timestamp),
});
export type ApiKeyInfo = Static<typeof ApiKeyInfo>;

export const CreatedApiKey = Type.Object({
  apiKey: ApiKeyInfo,
  key: Type.String({ description: 'The secret. Shown once, stored only as a SHA-256 hash.' }),
});
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const ApiKeyList = Type.Object({ items: Type.Array(ApiKeyInfo) });

export const CreateUserBody = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }), role: Type.Optional(Role) },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const CreatedUser = Type.Object({ user: User, key: Type.String() });
export type CreatedUser = Static<typeof CreatedUser>;

export const Stats = Type.Object({
  imagesGenerated: Type.Integer(),
  workersOnline: Type.Integer(),
  queueLength: Type.Integer(),
  ratingsCollected: Type.Integer({ description: 'Rating, pairwise and flag answers given.' }),
  datasetsReleased: Type.Integer({ description: 'Open dataset releases published.' }),
});
export type Stats = Static<typeof Stats>;
