import { forbidden, HavenError } from '../lib/errors.ts';
import type { Clearance } from './clearances.ts';
import { minimumRoleFor, type Permission, permissions } from './permissions.ts';
import type { HeldGrant, Principal } from './principal.ts';
import { type GrantableRole, rankOf, roleLabel } from './roles.ts';
import { covers, type Scope } from './scopes.ts';
import type { Viewer } from './visibility.ts';

/**
 * The one place that decides what a user may do (spec section 2). Routes declare a
 * permission; services ask here at the exact scope of the record they touch.
 */

/** The grants whose scope covers `scope`. */
export function grantsCovering(principal: Principal, scope: Scope): HeldGrant[] {
  return principal.grants.filter((g) => covers(g.scope, scope, principal.schoolGroupsBySchool));
}

/** The user's rank at a scope: the highest role whose grant covers it (0, Member, if none). */
export function rankAt(principal: Principal, scope: Scope): number {
  let rank = 0;
  for (const grant of grantsCovering(principal, scope)) rank = Math.max(rank, rankOf(grant.role));
  return rank;
}

/** The highest rank the user holds at any scope. */
export function highestRank(principal: Principal): number {
  let rank = 0;
  for (const grant of principal.grants) rank = Math.max(rank, rankOf(grant.role));
  return rank;
}

/** Member-only users may not sign in or use Haven (spec section 2). */
export function holdsActiveRole(principal: Principal): boolean {
  return highestRank(principal) > 0;
}

export function can(principal: Principal, permission: Permission, scope: Scope): boolean {
  return rankAt(principal, scope) >= rankOf(minimumRoleFor(permission));
}

/** Whether the user holds the permission's minimum role at some scope (route-level gate). */
export function canSomewhere(principal: Principal, permission: Permission): boolean {
  return highestRank(principal) >= rankOf(minimumRoleFor(permission));
}

export function permissionDenied(permission: Permission) {
  const role = minimumRoleFor(permission);
  return forbidden(`This requires ${roleLabel(role)} or higher (${permission}).`, {
    permission,
    requiredRole: role,
  });
}

export function requirePermission(principal: Principal, permission: Permission, scope: Scope) {
  if (!can(principal, permission, scope)) throw permissionDenied(permission);
}

export function requireSomewhere(principal: Principal, permission: Permission) {
  if (!canSomewhere(principal, permission)) throw permissionDenied(permission);
}

/**
 * The permissions the caller holds at some scope, for the web app to decide which controls to
 * show. Each request is still decided on its own scope; this list only hides what would fail.
 */
export function abilitiesOf(principal: Principal): Permission[] {
  return (Object.keys(permissions) as Permission[]).filter((p) => canSomewhere(principal, p));
}

/** Anti-escalation rules 1 and 2: which permission granting or revoking `role` at `scope` takes. */
export function permissionToAssign(role: GrantableRole): Permission {
  return role === 'owner' ? 'roles.assign.owner' : 'roles.assign';
}

export function canAssignRole(principal: Principal, role: GrantableRole, scope: Scope): boolean {
  return can(principal, permissionToAssign(role), scope);
}

export function requireAssignRole(principal: Principal, role: GrantableRole, scope: Scope) {
  requirePermission(principal, permissionToAssign(role), scope);
}

/**
 * Managing a user (editing, disabling) is refused unless the actor could have granted every
 * role the user holds: a school's Admin cannot disable the trust's Owner or another school's DSL.
 */
export function requireManageUser(principal: Principal, targetGrants: readonly HeldGrant[]) {
  requireSomewhere(principal, 'users.manage');
  for (const grant of targetGrants) requireAssignRole(principal, grant.role, grant.scope);
}

/** An Owner at the organisation: the one exception to anti-escalation rules 3 and 5. */
export function ownsOrganisation(principal: Principal): boolean {
  return (
    rankAt(principal, { type: 'organisation', id: principal.organisationId }) >= rankOf('owner')
  );
}

/** Anti-escalation rule 3: only a holder of a clearance (or an Owner) passes it on or takes it away. */
export function canConferClearance(principal: Principal, clearance: Clearance): boolean {
  return principal.clearances.has(clearance) || ownsOrganisation(principal);
}

/**
 * Anti-escalation rule 5: nobody grants a role or a clearance to themselves, directly or through
 * a group they are in (or are joining), an Owner at the organisation aside.
 */
export function requireNotToSelf(principal: Principal, toSelf: boolean, what: string) {
  if (!toSelf || ownsOrganisation(principal)) return;
  throw new HavenError(
    403,
    'self_grant',
    'Forbidden',
    `Nobody grants themselves ${what}; ask another Admin, or an Owner.`,
  );
}

export function requireClearanceToConfer(principal: Principal, clearance: Clearance) {
  if (!canConferClearance(principal, clearance)) {
    throw forbidden(`This requires the ${clearance} clearance yourself, or the Owner role.`, {
      requiredClearance: clearance,
    });
  }
}

/**
 * The schools where the user holds a permission: `all` for a grant at the organisation, else
 * the schools of their school and school-group grants. Visibility filters take this list, so
 * the role part of "who sees which child" is decided here like every other permission.
 */
export function schoolsWith(principal: Principal, permission: Permission): 'all' | string[] {
  const minimum = rankOf(minimumRoleFor(permission));
  const schools = new Set<string>();
  for (const grant of principal.grants) {
    if (rankOf(grant.role) < minimum) continue;
    if (grant.scope.type === 'organisation') return 'all';
    if (grant.scope.type === 'school') schools.add(grant.scope.id);
    else {
      for (const [school, groups] of principal.schoolGroupsBySchool) {
        if (groups.has(grant.scope.id)) schools.add(school);
      }
    }
  }
  return [...schools].sort();
}

/** The caller as the visibility filter needs them: who they are, and where their roles let them see students. */
export function viewerOf(principal: Principal): Viewer {
  return { userId: principal.userId, schools: schoolsWith(principal, 'students.view') };
}
