import type { Database } from '../../db/database.ts';
import { HavenError } from '../../lib/errors.ts';
import { readSsoSettings } from './repository.ts';

/**
 * Whether the organisation lets its staff sign in with a password (`PUT /organisation/sso`,
 * `passwordSignIn`). `AuthService.login` asks only once the password has matched, so the refusal
 * tells nothing about addresses that have no account.
 */
export async function passwordSignInAllowed(
  db: Database['db'],
  organisationId: string,
): Promise<boolean> {
  return (await readSsoSettings(db, organisationId)).passwordSignIn;
}

export function passwordSignInOff(): HavenError {
  return new HavenError(
    403,
    'password_sign_in_off',
    'Password sign-in is off',
    'Your organisation signs in through its identity provider: use its single sign-on button',
  );
}
