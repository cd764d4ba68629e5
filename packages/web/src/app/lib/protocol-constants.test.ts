import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as protocol from '@dreamfold/protocol';
import {
  ACCESS_STAGES,
  ACCOUNT_LIMITS,
  GENERATION_DEFAULTS,
  LIMITS,
  OCCUPATIONS,
  SAMPLERS,
} from './protocol-constants.js';

test('the web app’s copies of protocol constants equal the protocol’s', () => {
  assert.deepEqual(LIMITS, protocol.LIMITS);
  assert.deepEqual(GENERATION_DEFAULTS, protocol.GENERATION_DEFAULTS);
  assert.deepEqual(SAMPLERS, protocol.SAMPLERS);
  assert.deepEqual(OCCUPATIONS, protocol.OCCUPATIONS);
  assert.deepEqual(ACCESS_STAGES, protocol.ACCESS_STAGES);
});

test('account field bounds equal the sign-up schema’s', () => {
  // TypeBox keeps JSON Schema keywords on the schema object; its static types do not list them.
  const props = protocol.SignUpBody.properties as unknown as Record<
    string,
    { minLength?: number; maxLength?: number }
  >;
  const bound = (field: string) => props[field] ?? {};
  assert.equal(bound('password').minLength, ACCOUNT_LIMITS.passwordMin);
  assert.equal(bound('password').maxLength, ACCOUNT_LIMITS.passwordMax);
  assert.equal(bound('email').maxLength, ACCOUNT_LIMITS.email);
  assert.equal(bound('displayName').maxLength, ACCOUNT_LIMITS.displayName);
  assert.equal(bound('affiliation').maxLength, ACCOUNT_LIMITS.affiliation);
  assert.equal(bound('intendedUse').maxLength, ACCOUNT_LIMITS.intendedUse);
});
