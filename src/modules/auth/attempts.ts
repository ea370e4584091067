import { type Kysely, sql, type Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { HavenError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { addMs } from '../../lib/time.ts';

/**
 * What a password or two-factor check came to. A check is claimed as `pending` before it runs
 * and settled afterwards; wrong passwords and codes, and checks still pending, count towards the
 * per-account throttle.
 */
export type AttemptOutcome =
  | 'pending'
  | 'success'
  | 'failure'
  | 'invalid_code'
  | 'code_ok'
  | 'wrong_current_password'
  | 'current_password_ok'
  | 'totp_required'
  | 'choose_organisation'
  | 'throttled'
  | 'disabled'
  | 'no_role';

const COUNTED: AttemptOutcome[] = ['pending', 'failure', 'invalid_code', 'wrong_current_password'];

// Namespaces pg_advisory_xact_lock(int, int) so the per-account lock meets no other use of it.
const THROTTLE_LOCK_SPACE = 0x4876;

export interface AttemptClaim {
  email: string;
  now: string;
  ip: string | null;
  /** The organisation the refusal's audit row belongs to, if the account exists. */
  organisationId: string | null;
}

/**
 * Claims one password or code check for an account, or refuses with 429 (logged) once it has had
 * `maxFailures` failed or unsettled checks within the window. Counting and claiming happen in one
 * transaction serialised per account (SQLite's BEGIN IMMEDIATE; on PostgreSQL an advisory lock on
 * the email), so concurrent attempts cannot all pass the count before any is recorded. Settle the
 * returned attempt with `settleAttempt` once the check has run.
 */
export async function claimAttempt(
  database: Database,
  limits: Config['login'],
  attempt: AttemptClaim,
): Promise<string> {
  const id = newId();
  const claimed = await database.db.transaction().execute(async (trx) => {
    if (database.engine === 'postgres')
      await sql`select pg_advisory_xact_lock(${THROTTLE_LOCK_SPACE}, hashtext(${attempt.email}))`.execute(
        trx,
      );
    const counted = await trx
      .selectFrom('login_attempts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('email', '=', attempt.email)
      .where('outcome', 'in', COUNTED)
      .where('at', '>', addMs(attempt.now, -limits.windowMs))
      .executeTakeFirstOrThrow();
    const allowed = Number(counted.n) < limits.maxFailures;
    await trx
      .insertInto('login_attempts')
      .values({
        id,
        email: attempt.email,
        at: attempt.now,
        outcome: allowed ? 'pending' : 'throttled',
        ip: attempt.ip,
      })
      .execute();
    return allowed;
  });
  if (claimed) return id;
  throw new HavenError(
    429,
    'too_many_attempts',
    'Too many attempts',
    'Too many failed attempts for this account; try again later',
  ).withAudit({ email: attempt.email }, attempt.organisationId);
}

/** Records what a claimed check came to; an attempt left pending keeps counting as a failure. */
export async function settleAttempt(
  db: Kysely<DB> | Transaction<DB>,
  attemptId: string,
  outcome: Exclude<AttemptOutcome, 'pending' | 'throttled'>,
): Promise<void> {
  await db
    .updateTable('login_attempts')
    .set({ outcome })
    .where('id', '=', attemptId)
    .where('outcome', '=', 'pending')
    .execute();
}
