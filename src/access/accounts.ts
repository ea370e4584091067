import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import { forbidden, HavenError } from '../lib/errors.ts';
import { can, canAssignRole } from './decide.ts';
import { minimumRoleFor } from './permissions.ts';
import { type HeldGrant, loadHeldGrants, type Principal } from './principal.ts';
import { type Scope, type ScopeType, sameScope } from './scopes.ts';

/**
 * Acting on another person's account beyond `users.manage` (issue 13, item 3): resetting their
 * two-factor sign-in after a lost or stolen phone. An Owner resets anyone's; a DSL the staff of
 * their schools. In one place, for the route's check and the abilities sent to the web app:
 *  - nobody resets their own (they turn it off with a code: `DELETE /me/totp`);
 *  - the person must be staff where the caller holds `users.mfa.reset` (DSL or higher): a role
 *    held, or a user group they belong to homed, at a scope the caller's grant covers (someone
 *    with neither is placed at the organisation);
 *  - anti-escalation: every role the person holds must be at a scope where the caller holds
 *    `users.mfa.reset` too and could have granted that role (`canAssignRole`). A school's DSL
 *    resets no Owner, nobody holding a role at another school, a school group or the
 *    organisation, and no one whose DSL role is the trust's; a DSL may reset a fellow DSL of
 *    their own school, whose role they could have granted.
 */

/** Where a person works, as this policy reads it: their roles now, and their groups' homes. */
export interface StaffPlaces {
  userId: string;
  /** Their current roles, held directly or through user groups. */
  grants: readonly HeldGrant[];
  /** The homes of the user groups they belong to now. */
  groupHomes: readonly Scope[];
}

export async function loadStaffPlaces(
  db: Kysely<DB>,
  organisationId: string,
  userId: string,
): Promise<StaffPlaces> {
  const [grants, homes] = await Promise.all([
    loadHeldGrants(db, organisationId, userId),
    db
      .selectFrom('user_group_members as m')
      .innerJoin('user_groups as g', 'g.id', 'm.user_group_id')
      .select(['g.home_scope_type', 'g.home_scope_id'])
      .distinct()
      .where('m.user_id', '=', userId)
      .where('m.valid_to', 'is', null)
      .where('g.organisation_id', '=', organisationId)
      .where('g.deleted_at', 'is', null)
      .execute(),
  ]);
  return {
    userId,
    grants,
    groupHomes: homes.map((h) => ({ type: h.home_scope_type as ScopeType, id: h.home_scope_id })),
  };
}

/** The scopes a person is staff at; the organisation when they hold no role and are in no group. */
function placesOf(principal: Principal, staff: StaffPlaces): Scope[] {
  const places = [...staff.grants.map((g) => g.scope), ...staff.groupHomes];
  return places.length > 0 ? places : [{ type: 'organisation', id: principal.organisationId }];
}

export type TwoFactorResetRefusal = 'own' | 'not_their_staff' | 'holds_more';

/** Why the caller may not reset this person's two-factor sign-in, or null if they may. */
export function twoFactorResetRefusal(
  principal: Principal,
  staff: StaffPlaces,
): TwoFactorResetRefusal | null {
  if (staff.userId === principal.userId) return 'own';
  const oversees = (scope: Scope) => can(principal, 'users.mfa.reset', scope);
  if (!placesOf(principal, staff).some(oversees)) return 'not_their_staff';
  const escalates = staff.grants.some(
    (g) => !oversees(g.scope) || !canAssignRole(principal, g.role, g.scope),
  );
  return escalates ? 'holds_more' : null;
}

/** For the abilities sent with a user: whether the reset would be allowed. */
export function canResetTwoFactor(principal: Principal, staff: StaffPlaces): boolean {
  return twoFactorResetRefusal(principal, staff) === null;
}

export function requireResetTwoFactor(principal: Principal, staff: StaffPlaces): void {
  switch (twoFactorResetRefusal(principal, staff)) {
    case null:
      return;
    case 'own':
      throw new HavenError(
        403,
        'totp_reset_own',
        'Forbidden',
        'Nobody resets their own two-factor sign-in: turn it off with a code or a recovery code (DELETE /api/v1/me/totp), or ask an Owner or a DSL of your school.',
      );
    case 'not_their_staff':
      throw forbidden(
        'This person is not staff where you are DSL or Owner: ask an Owner, or a DSL of their school.',
        { permission: 'users.mfa.reset', requiredRole: minimumRoleFor('users.mfa.reset') },
      );
    case 'holds_more':
      throw forbidden(
        'This person holds a role where you are not DSL, or one above yours: ask an Owner, or a DSL over every school where they hold a role.',
        { permission: 'users.mfa.reset', requiredRole: minimumRoleFor('users.mfa.reset') },
      );
  }
}

/**
 * Where a reset happened, for its security alert: the scopes of the person's roles (the alert goes
 * to the Owners and DSLs over every one of them, who could have reset it themselves), or the
 * organisation for someone who holds none.
 */
export function twoFactorResetWithin(principal: Principal, staff: StaffPlaces): Scope[] {
  const within: Scope[] = [];
  for (const grant of staff.grants)
    if (!within.some((s) => sameScope(s, grant.scope))) within.push(grant.scope);
  return within.length > 0 ? within : [{ type: 'organisation', id: principal.organisationId }];
}
