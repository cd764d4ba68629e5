// Who may generate, by access stage: in `research`, approved applicants with a confirmed email; in
// `open`, anyone with a confirmed email (paying with credits). Reads only the principal, so the check
// adds no query to the generation route.
import type { AccessStage } from '@dreamfold/protocol';
import { AppError } from '../errors.js';
import type { Principal } from './principal.js';

export function describeSignUp(stage: AccessStage): string {
  return stage === 'research'
    ? 'Research access: apply with your name, affiliation, role and intended use; confirm your email; a moderator decides.'
    : 'Open to everyone: sign up with an email address, confirm it, and generate with credits earned by rating images.';
}

export function assertMayGenerate(user: Extract<Principal, { kind: 'user' }>, stage: AccessStage): void {
  if (!user.emailVerified) {
    throw new AppError(
      'access_required',
      'Confirm your email first: open the link we mailed you (or ask for a new one from your account page).',
    );
  }
  if (stage === 'open' || user.access === 'approved') return;
  throw new AppError(
    'access_required',
    user.access === 'pending'
      ? 'Dreamfold is in its research stage and your application is waiting for a moderator; you will get a mail when it is decided.'
      : 'Dreamfold is in its research stage and your application was not approved.',
  );
}
