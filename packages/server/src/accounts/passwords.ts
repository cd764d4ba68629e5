// Passwords are stored as argon2id hashes (OWASP's first choice), with the library's defaults
// (m=19 MiB, t=2, p=1: the OWASP minimum, about 30 ms here). Verification against a dummy hash when the
// account does not exist keeps sign-in timing from telling whether an email is registered.
import { hash, verify } from '@node-rs/argon2';

const ARGON2ID = 2;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

let dummy: Promise<string> | undefined;

/** True when the password matches; an absent hash is checked against a dummy so timing is the same. */
export async function checkPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    dummy ??= hashPassword('dreamfold-dummy-password');
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
