import { isIP } from 'node:net';
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
 * per-account and per-address throttles.
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
  | 'no_role'
  // The password matched, but the organisation signs in through single sign-on only.
  | 'password_sign_in_off';

const COUNTED: AttemptOutcome[] = ['pending', 'failure', 'invalid_code', 'wrong_current_password'];

// Namespaces pg_advisory_xact_lock(int, int): one space for emails, one for client addresses, so
// the throttle's locks meet no other use of it, nor an email's hash an address's.
const THROTTLE_LOCK_SPACE = 0x4876;
const ADDRESS_LOCK_SPACE = 0x4877;

export interface AttemptClaim {
  email: string;
  now: string;
  ip: string | null;
  /** The organisation the refusal's audit row belongs to, if the account exists. */
  organisationId: string | null;
}

/**
 * The client an address stands for, as the per-address count keys it: an IPv6 address by its
 * /64 (one home or cloud network holds 2^64 addresses, and a sprayer could take a fresh one for
 * each guess), an IPv4 address mapped into IPv6 as the IPv4 address, any other as it is.
 */
export function addressKey(ip: string): string {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (isIP(text) !== 6) return ip;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const words = groups.map((g) => Number.parseInt(g, 16));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff)
    return [words[6]! >> 8, words[6]! & 255, words[7]! >> 8, words[7]! & 255].join('.');
  return `${words
    .slice(0, 4)
    .map((w) => w.toString(16))
    .join(':')}::/64`;
}

/** Which count refused a claim, and in how many seconds it would let one through. */
interface Refusal {
  by: 'email' | 'address';
  retryAfter: number;
}

type Counted = { column: 'email' | 'ip'; value: string; max: number };

/**
 * Whether `max` or more checks are counted against the email or address within the window; if so,
 * the seconds until enough of them leave it for one more (the `max`-th newest leaving drops the
 * count below `max`). One indexed read of at most `max` rows, newest first.
 */
async function limitReached(
  trx: Transaction<DB>,
  counted: Counted,
  now: string,
  windowMs: number,
): Promise<number | null> {
  const row = await trx
    .selectFrom('login_attempts')
    .select('at')
    .where(counted.column, '=', counted.value)
    .where('outcome', 'in', COUNTED)
    .where('at', '>', addMs(now, -windowMs))
    .orderBy('at', 'desc')
    .limit(1)
    .offset(counted.max - 1)
    .executeTakeFirst();
  if (!row) return null;
  const leavesAt = Date.parse(row.at) + windowMs;
  return Math.max(1, Math.ceil((leavesAt - Date.parse(now)) / 1000));
}

function throttled(refusal: Refusal, attempt: AttemptClaim): HavenError {
  const error =
    refusal.by === 'address'
      ? new HavenError(
          429,
          'too_many_attempts_from_address',
          'Too many attempts',
          'Too many failed sign-in attempts from this network address; try again later',
          { retryAfter: refusal.retryAfter },
        )
      : new HavenError(
          429,
          'too_many_attempts',
          'Too many attempts',
          'Too many failed attempts for this account; try again later',
          { retryAfter: refusal.retryAfter },
        );
  return error.withAudit({ email: attempt.email, throttledBy: refusal.by }, attempt.organisationId);
}

/**
 * Claims one password or code check for an account, or refuses with 429 (logged, with
 * `Retry-After`) once the account has had `maxFailures` failed or unsettled checks within the
 * window, or the client address `maxFailuresPerAddress` across every email (password spraying:
 * one address trying a password on many accounts). Counting and claiming happen in one
 * transaction serialised per address and per account (SQLite's BEGIN IMMEDIATE; on PostgreSQL
 * advisory locks, always the address's before the email's so two claims never wait on each other
 * crosswise), so concurrent attempts cannot all pass the counts before any is recorded. Settle
 * the returned attempt with `settleAttempt` once the check has run.
 */
export async function claimAttempt(
  database: Database,
  limits: Config['login'],
  attempt: AttemptClaim,
): Promise<string> {
  const id = newId();
  const client = attempt.ip === null ? null : addressKey(attempt.ip);
  const address = limits.maxFailuresPerAddress > 0 ? client : null;
  const refusal = await database.db.transaction().execute(async (trx): Promise<Refusal | null> => {
    if (database.engine === 'postgres') {
      if (address !== null)
        await sql`select pg_advisory_xact_lock(${ADDRESS_LOCK_SPACE}, hashtext(${address}))`.execute(
          trx,
        );
      await sql`select pg_advisory_xact_lock(${THROTTLE_LOCK_SPACE}, hashtext(${attempt.email}))`.execute(
        trx,
      );
    }
    let refused: Refusal | null = null;
    if (address !== null) {
      const wait = await limitReached(
        trx,
        { column: 'ip', value: address, max: limits.maxFailuresPerAddress },
        attempt.now,
        limits.windowMs,
      );
      if (wait !== null) refused = { by: 'address', retryAfter: wait };
    }
    if (!refused) {
      const wait = await limitReached(
        trx,
        { column: 'email', value: attempt.email, max: limits.maxFailures },
        attempt.now,
        limits.windowMs,
      );
      if (wait !== null) refused = { by: 'email', retryAfter: wait };
    }
    await trx
      .insertInto('login_attempts')
      .values({
        id,
        email: attempt.email,
        at: attempt.now,
        outcome: refused ? 'throttled' : 'pending',
        // The client's key (an IPv6 address's /64), as the per-address count reads it.
        ip: client,
      })
      .execute();
    return refused;
  });
  if (!refusal) return id;
  throw throttled(refusal, attempt);
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
