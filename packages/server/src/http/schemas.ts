import { Problem } from '@dreamfold/protocol';

/** Problem responses every authenticated route can give, for a complete OpenAPI document. */
export const problems = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  429: Problem,
} as const;

export const bearerSecurity = [{ bearer: [] }];
