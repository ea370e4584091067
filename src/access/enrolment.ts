import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import { HavenError } from '../lib/errors.ts';
import { schoolSettings } from '../modules/organisations/settings.ts';
import type { Principal } from './principal.ts';
import { rankOf } from './roles.ts';
import { covers } from './scopes.ts';

/**
 * Two-factor enrolment (issue 12, item 7): where a school asks for it (`requireMfaEnrolment`,
 * default on), a user who could read child-protection or allegation records there, or make
 * safeguarding decisions, enrols TOTP before using Haven. Until they have, their sessions reach
 * only the routes below. Asked on every request from current data, like every grant: a school
 * turning the setting on, or a new clearance or role, restricts open sessions from their next
 * request, and confirming enrolment lifts it at once.
 */

/** What a session may reach before its user has enrolled (api.md, second round). */
const reachableBeforeEnrolment: ReadonlySet<string> = new Set([
  'GET /api/v1/me',
  'POST /api/v1/me/totp',
  'POST /api/v1/me/totp/confirm',
  'POST /api/v1/auth/logout',
]);

export function reachableWhileEnrolling(method: string, routeUrl: string): boolean {
  return reachableBeforeEnrolment.has(`${method} ${routeUrl}`);
}

/** The rank from which a role must enrol: Deputy DSL and above make safeguarding decisions. */
const enrolsFromRank = rankOf('deputy_dsl');

/**
 * Whether the user must enrol before going on: they have no confirmed TOTP, and either they hold
 * a clearance and some school of the organisation asks for enrolment, or they hold Deputy DSL or
 * higher through a grant covering a school that asks for it.
 */
export function mustEnrol(
  principal: Principal,
  totpActive: boolean,
  schools: readonly { id: string; settings: string }[],
): boolean {
  if (totpActive) return false;
  const asking = schools.filter((s) => schoolSettings(s.settings).requireMfaEnrolment);
  if (asking.length === 0) return false;
  if (principal.clearances.size > 0) return true;
  return principal.grants.some(
    (g) =>
      rankOf(g.role) >= enrolsFromRank &&
      asking.some((s) =>
        covers(g.scope, { type: 'school', id: s.id }, principal.schoolGroupsBySchool),
      ),
  );
}

/** Whether the policy could apply at all, before asking the database anything. */
function couldApply(principal: Principal): boolean {
  return (
    principal.clearances.size > 0 || principal.grants.some((g) => rankOf(g.role) >= enrolsFromRank)
  );
}

/** `mustEnrol` with the user's TOTP status and the organisation's schools read from `db`. */
export async function enrolmentRequired(
  db: Kysely<DB>,
  principal: Principal,
  totpActive?: boolean,
): Promise<boolean> {
  if (!couldApply(principal)) return false;
  const active =
    totpActive ??
    (await db
      .selectFrom('user_totp')
      .select('user_id')
      .where('user_id', '=', principal.userId)
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst()) !== undefined;
  if (active) return false;
  const schools = await db
    .selectFrom('schools')
    .select(['id', 'settings'])
    .where('organisation_id', '=', principal.organisationId)
    .execute();
  return mustEnrol(principal, false, schools);
}

export function enrolmentRequiredError(): HavenError {
  return new HavenError(
    403,
    'mfa_enrolment_required',
    'Two-factor enrolment needed',
    'Your school asks you to turn on two-factor sign-in before using Haven: POST /api/v1/me/totp, then POST /api/v1/me/totp/confirm with a code from your authenticator app.',
  );
}
