import { Type, type Static } from 'typebox';

/** RFC 9457 problem details. `type` is a stable code clients switch on; `detail` is for people. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'Stable error code, e.g. "validation_failed" or "lease_lost".' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description: 'Field-level validation errors.',
      }),
    ),
  },
  { description: 'An error, as application/problem+json (RFC 9457).' },
);
export type Problem = Static<typeof Problem>;

export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const IdParams = Type.Object({ id: Id });
export type IdParams = Static<typeof IdParams>;

/** ISO-8601 timestamps everywhere on the wire. */
export const Timestamp = Type.String({ format: 'date-time' });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'A retry with the same key returns the first answer and creates nothing new.',
    }),
  ),
});

/** A string enum whose static type is the union of its values (OpenAPI: `type: string, enum: [...]`). */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
