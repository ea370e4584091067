import { nowIso } from '../../lib/time.ts';

/**
 * Whether a session passed a TOTP check (sign-in with a code or a recovery code, enrolment,
 * or step-up) within the last `windowMinutes` at `now` (spec access-model section 4,
 * "Two-factor step-up"). Pass the request's session: `authOf(request).session`.
 * Fails closed: no check, a time that does not parse, or one dated after `now` is not a pass.
 */
export function sessionPassedMfa(
  session: { mfaAt: string | null },
  windowMinutes: number,
  now: string = nowIso(),
): boolean {
  if (session.mfaAt === null || !(windowMinutes > 0)) return false;
  const elapsed = Date.parse(now) - Date.parse(session.mfaAt);
  return elapsed >= 0 && elapsed <= windowMinutes * 60_000;
}
