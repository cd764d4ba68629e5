import { ApiError } from '../api/client.js';

/** The coordinator's field-level validation errors by field name, to show beside each input. */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (error instanceof ApiError) {
    for (const f of error.fields) {
      const name = f.field.split('.')[0] ?? f.field;
      if (name && !out[name]) out[name] = f.message;
    }
  }
  return out;
}
