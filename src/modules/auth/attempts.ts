import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { DB } from '../../db/tables.ts';
import { HavenError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { addMs } from '../../lib/time.ts';

/**
 * What a sign-in or a two-factor check came to. A wrong password (`failure`) and a wrong or
 * reused two-factor code (`invalid_code`) both count towards the per-account throttle.
 */
export type AttemptOutcome =
  | 'success'
  | 'failure'
  | 'invalid_code'
  | 'totp_required'
  | 'throttled'
  | 'disabled'
  | 'no_role';

const COUNTED_FAILURES: AttemptOutcome[] = ['failure', 'invalid_code'];

export async function recordAttempt(
  db: Kysely<DB> | Transaction<DB>,
  email: string,
  outcome: AttemptOutcome,
  now: string,
  ip: string | null,
) {
  await db
    .insertInto('login_attempts')
    .values({ id: newId(), email, at: now, outcome, ip })
    .execute();
}

/**
 * Refuses with 429 (and logs the attempt) once an account has had `maxFailures` failed
 * passwords or codes within the window; every further attempt is refused until it has passed.
 */
export async function refuseIfThrottled(
  db: Kysely<DB>,
  limits: Config['login'],
  attempt: { email: string; now: string; ip: string | null; organisationId: string | null },
): Promise<void> {
  const failures = await db
    .selectFrom('login_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('email', '=', attempt.email)
    .where('outcome', 'in', COUNTED_FAILURES)
    .where('at', '>', addMs(attempt.now, -limits.windowMs))
    .executeTakeFirstOrThrow();
  if (Number(failures.n) < limits.maxFailures) return;
  await recordAttempt(db, attempt.email, 'throttled', attempt.now, attempt.ip);
  throw new HavenError(
    429,
    'too_many_attempts',
    'Too many attempts',
    'Too many failed sign-in attempts for this account; try again later',
  ).withAudit({ email: attempt.email }, attempt.organisationId);
}
