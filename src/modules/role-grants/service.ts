import { requireAssignRole, requireNotToSelf, requireSomewhere } from '../../access/decide.ts';
import { assertOrganisationKeepsAnOwner } from '../../access/owners.ts';
import type { Principal } from '../../access/principal.ts';
import { type GrantableRole, roleLabel } from '../../access/roles.ts';
import type { Scope, ScopeType } from '../../access/scopes.ts';
import {
  findVisibleUserGroup,
  homeOf,
  requireAdministrator,
  requireNotOwnGroup,
  requireVisibleUserGroup,
} from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import type { RoleGrantsTable } from '../../db/tables.ts';
import { conflict, HavenError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { partyName, queueSecurityAlert } from '../notifications/queue.ts';
import { scopeName } from '../organisations/repository.ts';
import { findUser } from '../users/repository.ts';
import {
  closeGrant,
  findCurrentGrant,
  findSameCurrentGrant,
  type GrantSubject,
  insertGrant,
  listCurrentGrants,
} from './repository.ts';

export function presentGrant(row: RoleGrantsTable) {
  return {
    id: row.id,
    subject: (row.user_id !== null
      ? { type: 'user', id: row.user_id }
      : { type: 'user_group', id: row.user_group_id! }) as GrantSubject,
    role: row.role as GrantableRole,
    scope: { type: row.scope_type as ScopeType, id: row.scope_id },
    grantedBy: row.granted_by,
    reason: row.reason,
    validFrom: row.valid_from,
  };
}

function missing(field: string, what: string): HavenError {
  return new HavenError(404, 'not_found', 'Not found', `${what} not found`, { field });
}

/** Roles whose grant raises a security alert (spec section 2, rule 5). */
const securityRoles: ReadonlySet<GrantableRole> = new Set(['owner', 'dsl', 'deputy_dsl']);

export class RoleGrantService {
  constructor(private readonly database: Database) {}

  /**
   * Anti-escalation rules 1, 2 and 5: Owner is granted only by an Owner, other roles by an Admin+
   * covering the scope, a group's roles only by an Admin at the group's home, and nobody grants
   * to themselves or to a group they are in.
   */
  async grant(
    principal: Principal,
    input: {
      subject: GrantSubject;
      role: GrantableRole;
      scope: Scope;
      reason?: string | undefined;
    },
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, (change) => this.grantIn(change, principal, input));
  }

  /** The grant inside a change (the widening preview runs it in one it rolls back). */
  async grantIn(
    change: Change,
    principal: Principal,
    input: {
      subject: GrantSubject;
      role: GrantableRole;
      scope: Scope;
      reason?: string | undefined;
    },
  ) {
    const db = change.db;
    const organisationId = principal.organisationId;
    if ((await scopeName(db, organisationId, input.scope)) === undefined) {
      throw missing('scope.id', `Scope ${input.scope.type} ${input.scope.id}`);
    }
    if (input.subject.type === 'user') {
      if (!(await findUser(db, organisationId, input.subject.id))) {
        throw missing('subject.id', 'User');
      }
      requireAssignRole(principal, input.role, input.scope);
      requireNotToSelf(principal, input.subject.id === principal.userId, 'a role');
    } else {
      const group = await findVisibleUserGroup(db, principal, input.subject.id);
      if (!group) throw missing('subject.id', 'User group');
      requireAdministrator(group.standing);
      requireAssignRole(principal, input.role, input.scope);
      requireNotOwnGroup(principal, group.standing, 'a role');
    }
    if (await findSameCurrentGrant(db, organisationId, input.subject, input.role, input.scope)) {
      throw conflict('This role is already granted at this scope', 'already_granted');
    }
    const id = newId();
    const reason = input.reason?.trim() || null;
    await insertGrant(db, {
      id,
      organisationId,
      subject: input.subject,
      role: input.role,
      scope: input.scope,
      grantedBy: principal.userId,
      reason,
      now: change.now,
    });
    change.record({
      action: 'role_grant.create',
      targetType: 'role_grant',
      targetId: id,
      after: { subject: input.subject, role: input.role, scope: input.scope, reason },
    });
    if (securityRoles.has(input.role)) {
      // Told to those over the grant's scope (and over the group's home, when a group is named).
      const within: Scope[] = [input.scope];
      if (input.subject.type === 'user_group') {
        const group = await findVisibleUserGroup(db, principal, input.subject.id);
        if (group) within.push(homeOf(group.group));
      }
      const [actor, subject, place] = await Promise.all([
        partyName(change, organisationId, { type: 'user', id: principal.userId }),
        partyName(change, organisationId, input.subject),
        scopeName(db, organisationId, input.scope),
      ]);
      await queueSecurityAlert(
        change,
        organisationId,
        within,
        `${actor} granted ${roleLabel(input.role)} at ${place} to ${input.subject.type === 'user' ? '' : 'the user group '}${subject}.`,
      );
    }
    return presentGrant((await findCurrentGrant(db, organisationId, id))!);
  }

  /** Revoking follows the granting rules: the same role at the same scope, and the group's home. */
  async revoke(principal: Principal, grantId: string, origin: ChangeOrigin): Promise<void> {
    await runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const row = await findCurrentGrant(change.db, organisationId, grantId);
      if (!row) throw missing('id', 'Role grant');
      const grant = presentGrant(row);
      if (grant.subject.type === 'user_group') {
        const group = await findVisibleUserGroup(change.db, principal, grant.subject.id);
        // A grant to a group the caller may not see is not there for them either.
        if (!group) throw missing('id', 'Role grant');
        requireAdministrator(group.standing);
      }
      requireAssignRole(principal, grant.role, grant.scope);
      await closeGrant(change.db, organisationId, grantId, principal.userId, change.now);
      if (grant.role === 'owner') await assertOrganisationKeepsAnOwner(change.db, organisationId);
      change.record({
        action: 'role_grant.revoke',
        targetType: 'role_grant',
        targetId: grantId,
        before: {
          subject: grant.subject,
          role: grant.role,
          scope: grant.scope,
          reason: grant.reason,
        },
      });
    });
  }

  async list(
    principal: Principal,
    filter: { userId?: string | undefined; userGroupId?: string | undefined },
  ) {
    requireSomewhere(principal, 'roles.assign');
    const db = this.database.db;
    if (filter.userGroupId) await requireVisibleUserGroup(db, principal, filter.userGroupId);
    const rows = await listCurrentGrants(db, principal, filter);
    return rows.map(presentGrant);
  }
}
