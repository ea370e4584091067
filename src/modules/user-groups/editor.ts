import type { Clearance } from '../../access/clearances.ts';
import { requireClearanceToConfer, requirePermission, viewerOf } from '../../access/decide.ts';
import { assertOrganisationKeepsAnOwner } from '../../access/owners.ts';
import type { Principal } from '../../access/principal.ts';
import { roleLabel } from '../../access/roles.ts';
import type { Scope } from '../../access/scopes.ts';
import {
  type GroupAction,
  homeOf,
  loadHoldings,
  loadStanding,
  requireAdministrator,
  requireGroupAction,
  requireNotJoiningItself,
  requireNotOwnGroup,
  requireSteward,
  type UserGroupHoldings,
} from '../../access/user-groups.ts';
import { chunks } from '../../db/sql.ts';
import { conflict, HavenError, invalidField, limitExceeded } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Change } from '../audit/change.ts';
import { partyName, queueSecurityAlert } from '../notifications/queue.ts';
import { findStudentGroup, scopeOfStudentGroup } from '../student-groups/service.ts';
import { findVisibleStudent } from '../students/repository.ts';
import {
  createPermissionSet,
  deletePermissionSet,
  type NewPermissionSet,
  type PermissionSetEdit,
  type PermissionSetPatch,
  type PermissionSetView,
  updatePermissionSet,
} from './permission-sets.ts';
import { currentIn, existingUserIds, type UserGroupRow, userGroupNameTaken } from './repository.ts';

/** Limits of spec section 5. */
export const limits = {
  userGroupsPerOrganisation: 1000,
  ownersPerGroup: 10,
  membersPerGroup: 1_000_000,
  idsPerCall: 10_000,
} as const;

export type LinkTarget = {
  studentGroupId?: string | undefined;
  studentId?: string | undefined;
  /** A link to an "All students" group must be confirmed, with the reason for it (issue 14, item 6). */
  confirm?: boolean | undefined;
  rationale?: string | undefined;
};

/**
 * A link to an "All students" group lets every member see every child of the school (or the
 * organisation): it is made only when confirmed with a reason, which the link and its audit row
 * keep. 409 `all_students_confirmation_required` otherwise, and nothing is linked.
 */
function requireAllStudentsConfirmation(target: LinkTarget): string {
  const rationale = target.rationale?.trim() ?? '';
  if (target.confirm === true && rationale !== '') return rationale;
  const error = conflict(
    'Linking a group to an "All students" group lets its members see every child there: confirm it (`confirm: true`) and say why (`rationale`).',
    'all_students_confirmation_required',
  );
  error.extra.field = target.confirm === true ? 'rationale' : 'confirm';
  throw error;
}

function missing(field: string, what: string): HavenError {
  return new HavenError(404, 'not_found', 'Not found', `${what} not found`, { field });
}

/**
 * Every edit to one user group goes through here, inside one change, whether it comes from
 * its own endpoint or from a batch; each asks the user-group policy (`src/access/user-groups.ts`)
 * who may make it, reading the caller's standing inside the change, so an earlier operation of
 * a batch counts for the later ones.
 */
export class UserGroupEditor {
  constructor(
    private readonly change: Change,
    private readonly principal: Principal,
    private group: UserGroupRow,
  ) {}

  get groupId(): string {
    return this.group.id;
  }

  /** The change's own handle, for checks the edits depend on (an access review's item). */
  get db() {
    return this.change.db;
  }

  #standing() {
    return loadStanding(this.change.db, this.principal, this.group);
  }

  async requireSteward(): Promise<void> {
    requireSteward(await this.#standing());
  }

  /** One group action, decided by the user-group policy on the change's own reading. */
  async require(action: GroupAction): Promise<UserGroupHoldings> {
    const holdings = await loadHoldings(this.change.db, this.group.id);
    requireGroupAction(this.principal, await this.#standing(), holdings, action);
    return holdings;
  }

  async requireAdministrator(): Promise<void> {
    requireAdministrator(await this.#standing());
  }

  /**
   * Changing who is in a group passes on everything the group holds, so the actor must be able
   * to grant each of its roles (rules 1 and 2) and hold each of its clearances (rule 3).
   */
  async requireMembershipAuthority(
    action: 'manage_members' | 'delete' = 'manage_members',
  ): Promise<UserGroupHoldings & { holdsOwner: boolean }> {
    const holdings = await this.require(action);
    return {
      ...holdings,
      holdsOwner: holdings.grants.some(
        (g) => g.role === 'owner' && g.scope.type === 'organisation',
      ),
    };
  }

  /** Members may be added by hand or in bulk: the same checks either way. */
  async requireMayAdd(userIds: readonly string[]): Promise<UserGroupHoldings> {
    const holdings = await this.requireMembershipAuthority();
    const joining = this.principal.userId !== '' && userIds.includes(this.principal.userId);
    const linksChildren =
      joining &&
      (await this.change.db
        .selectFrom('student_links')
        .select('id')
        .where('user_group_id', '=', this.group.id)
        .where('valid_to', 'is', null)
        .executeTakeFirst()) !== undefined;
    requireNotJoiningItself(this.principal, userIds, holdings, {
      standing: await this.#standing(),
      linksChildren,
    });
    return holdings;
  }

  async #requireUsers(userIds: readonly string[], field: string) {
    const existing = await existingUserIds(this.change.db, this.group.organisation_id, userIds);
    const absent = userIds.find((id) => !existing.has(id));
    if (absent) throw missing(field, `User ${absent}`);
  }

  async #adjustMemberCount(delta: number) {
    if (delta === 0) return;
    const count = this.group.member_count + delta;
    await this.change.db
      .updateTable('user_groups')
      .set({ member_count: count, updated_at: this.change.now })
      .where('id', '=', this.group.id)
      .execute();
    this.group = { ...this.group, member_count: count };
  }

  async addMembers(userIds: readonly string[]): Promise<{ added: number; alreadyMembers: number }> {
    const ids = [...new Set(userIds)];
    if (ids.length > limits.idsPerCall) {
      throw limitExceeded(
        `At most ${limits.idsPerCall} users per call; use the haven CLI for more`,
        limits.idsPerCall,
      );
    }
    const holdings = await this.requireMayAdd(ids);
    await this.#requireUsers(ids, 'userIds');
    const already = await currentIn(this.change.db, 'user_group_members', this.group.id, ids);
    const fresh = ids.filter((id) => !already.has(id));
    await this.insertMembers(fresh);
    await this.#alertIfConferring(holdings, fresh);
    return { added: fresh.length, alreadyMembers: already.size };
  }

  /**
   * Joining a group that holds Owner, DSL or Deputy DSL, or a clearance, confers it: a security
   * alert, as granting it directly would raise.
   */
  async #alertIfConferring(holdings: UserGroupHoldings, fresh: readonly string[]) {
    const roles = [...new Set(holdings.grants.map((g) => g.role))].filter(
      (r) => r === 'owner' || r === 'dsl' || r === 'deputy_dsl',
    );
    if (fresh.length === 0 || (roles.length === 0 && holdings.clearances.length === 0)) return;
    const org = this.group.organisation_id;
    const actor = await partyName(this.change, org, { type: 'user', id: this.principal.userId });
    const who =
      fresh.length === 1
        ? await partyName(this.change, org, { type: 'user', id: fresh[0]! })
        : `${fresh.length} people`;
    const conferred = [
      ...roles.map(roleLabel),
      ...holdings.clearances.map((c) => `the ${c.replace('_', '-')} clearance`),
    ].join(', ');
    await queueSecurityAlert(
      this.change,
      org,
      [homeOf(this.group)],
      `${actor} added ${who} to the user group ${this.group.name}, which holds ${conferred}.`,
    );
  }

  /** Inserts new memberships after the checks above (also used by bulk imports). */
  async insertMembers(fresh: readonly string[]): Promise<void> {
    if (this.group.member_count + fresh.length > limits.membersPerGroup) {
      throw limitExceeded(
        `A user group holds at most ${limits.membersPerGroup} members`,
        limits.membersPerGroup,
      );
    }
    for (const slice of chunks(fresh, 1000)) {
      await this.change.db
        .insertInto('user_group_members')
        .values(
          slice.map((user_id) => ({
            organisation_id: this.group.organisation_id,
            user_group_id: this.group.id,
            user_id,
            valid_from: this.change.now,
            valid_to: null,
          })),
        )
        .execute();
    }
    await this.#adjustMemberCount(fresh.length);
    for (const slice of chunks(fresh, 10_000)) {
      if (slice.length === 0) continue;
      this.change.record({
        action: 'user_group.members.add',
        targetType: 'user_group',
        targetId: this.group.id,
        after: { userIds: slice },
      });
    }
  }

  async #endRows(
    table: 'user_group_members' | 'user_group_owners',
    userIds: readonly string[],
  ): Promise<number> {
    let ended = 0;
    for (const slice of chunks(userIds)) {
      // A row begun in this same change never held: remove it rather than close it.
      const dropped = await this.change.db
        .deleteFrom(table)
        .where('user_group_id', '=', this.group.id)
        .where('user_id', 'in', slice)
        .where('valid_to', 'is', null)
        .where('valid_from', '=', this.change.now)
        .executeTakeFirst();
      const closed = await this.change.db
        .updateTable(table)
        .set({ valid_to: this.change.now })
        .where('user_group_id', '=', this.group.id)
        .where('user_id', 'in', slice)
        .where('valid_to', 'is', null)
        .executeTakeFirst();
      ended += Number(dropped.numDeletedRows) + Number(closed.numUpdatedRows);
    }
    return ended;
  }

  async removeMembers(userIds: readonly string[]): Promise<{ removed: number }> {
    const ids = [...new Set(userIds)];
    if (ids.length > limits.idsPerCall) {
      throw limitExceeded(`At most ${limits.idsPerCall} users per call`, limits.idsPerCall);
    }
    const { holdsOwner } = await this.requireMembershipAuthority();
    const removed = await this.#endRows('user_group_members', ids);
    await this.#adjustMemberCount(-removed);
    if (holdsOwner && removed > 0)
      await assertOrganisationKeepsAnOwner(this.change.db, this.group.organisation_id);
    if (removed > 0) {
      this.change.record({
        action: 'user_group.members.remove',
        targetType: 'user_group',
        targetId: this.group.id,
        before: { userIds: ids },
      });
    }
    return { removed };
  }

  async addOwners(userIds: readonly string[]): Promise<{ added: number }> {
    await this.require('manage_owners');
    const ids = [...new Set(userIds)];
    await this.#requireUsers(ids, 'userIds');
    const already = await currentIn(this.change.db, 'user_group_owners', this.group.id, ids);
    const fresh = ids.filter((id) => !already.has(id));
    const current = await this.change.db
      .selectFrom('user_group_owners')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_group_id', '=', this.group.id)
      .where('valid_to', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(current.n) + fresh.length > limits.ownersPerGroup) {
      throw limitExceeded(
        `A user group has at most ${limits.ownersPerGroup} owners`,
        limits.ownersPerGroup,
      );
    }
    if (fresh.length > 0) {
      await this.change.db
        .insertInto('user_group_owners')
        .values(
          fresh.map((user_id) => ({
            organisation_id: this.group.organisation_id,
            user_group_id: this.group.id,
            user_id,
            valid_from: this.change.now,
            valid_to: null,
          })),
        )
        .execute();
      this.change.record({
        action: 'user_group.owners.add',
        targetType: 'user_group',
        targetId: this.group.id,
        after: { userIds: fresh },
      });
    }
    return { added: fresh.length };
  }

  async removeOwners(userIds: readonly string[]): Promise<{ removed: number }> {
    await this.require('manage_owners');
    const removed = await this.#endRows('user_group_owners', [...new Set(userIds)]);
    if (removed > 0) {
      this.change.record({
        action: 'user_group.owners.remove',
        targetType: 'user_group',
        targetId: this.group.id,
        before: { userIds },
      });
    }
    return { removed };
  }

  /** Links widen who sees which children: Admin at the group's home, and where the children are. */
  async addStudentLink(target: LinkTarget): Promise<string> {
    await this.requireAdministrator();
    const db = this.change.db;
    const organisationId = this.group.organisation_id;
    const { studentGroupId, studentId } = target;
    let scope: Scope;
    let allStudents = false;
    if (studentGroupId !== undefined && studentId === undefined) {
      const studentGroup = await findStudentGroup(db, organisationId, studentGroupId);
      if (!studentGroup) throw missing('studentGroupId', 'Student group');
      scope = scopeOfStudentGroup(organisationId, studentGroup.school_id);
      allStudents = studentGroup.kind === 'all';
    } else if (studentId !== undefined && studentGroupId === undefined) {
      const student = await findVisibleStudent(
        db,
        { organisationId },
        viewerOf(this.principal),
        studentId,
      );
      if (!student) throw missing('studentId', 'Student');
      scope = { type: 'school', id: student.school_id };
    } else {
      throw invalidField('studentGroupId', 'give either studentGroupId or studentId');
    }
    requirePermission(this.principal, 'user_groups.manage', scope);
    const column = studentGroupId !== undefined ? 'student_group_id' : 'student_id';
    const value = studentGroupId ?? studentId!;
    const existing = await db
      .selectFrom('student_links')
      .select('id')
      .where('user_group_id', '=', this.group.id)
      .where(column, '=', value)
      .where('valid_to', 'is', null)
      .executeTakeFirst();
    if (existing) throw conflict('This group is already linked there', 'already_linked');
    const rationale = allStudents
      ? requireAllStudentsConfirmation(target)
      : target.rationale?.trim() || null;
    const id = newId();
    await db
      .insertInto('student_links')
      .values({
        id,
        organisation_id: organisationId,
        user_group_id: this.group.id,
        user_id: null,
        student_group_id: studentGroupId ?? null,
        student_id: studentId ?? null,
        created_by: this.principal.userId || null,
        removed_by: null,
        rationale,
        valid_from: this.change.now,
        valid_to: null,
      })
      .execute();
    this.change.record({
      action: 'user_group.link.add',
      targetType: 'user_group',
      targetId: this.group.id,
      after: {
        linkId: id,
        studentGroupId: studentGroupId ?? null,
        studentId: studentId ?? null,
        ...(allStudents ? { allStudents: true, confirmed: true } : {}),
        ...(rationale ? { rationale } : {}),
      },
    });
    return id;
  }

  async removeStudentLink(linkId: string): Promise<void> {
    const db = this.change.db;
    const link = await db
      .selectFrom('student_links')
      .selectAll()
      .where('id', '=', linkId)
      .where('user_group_id', '=', this.group.id)
      .where('valid_to', 'is', null)
      .executeTakeFirst();
    if (!link) throw missing('linkId', 'Link');
    await this.requireAdministrator();
    await db
      .updateTable('student_links')
      .set({ valid_to: this.change.now, removed_by: this.principal.userId || null })
      .where('id', '=', linkId)
      .execute();
    this.change.record({
      action: 'user_group.link.remove',
      targetType: 'user_group',
      targetId: this.group.id,
      before: { linkId, studentGroupId: link.student_group_id, studentId: link.student_id },
    });
  }

  async setClearances(wanted: readonly Clearance[]): Promise<Clearance[]> {
    const standing = await this.#standing();
    requireAdministrator(standing);
    const db = this.change.db;
    const current = [...(await loadHoldings(db, this.group.id)).clearances];
    const next = [...new Set(wanted)].sort();
    const adding = next.filter((c) => !current.includes(c));
    const removing = current.filter((c) => !next.includes(c));
    for (const clearance of [...adding, ...removing])
      requireClearanceToConfer(this.principal, clearance);
    if (adding.length > 0) requireNotOwnGroup(this.principal, standing, 'a clearance');
    if (removing.length > 0) {
      await db
        .updateTable('user_group_clearances')
        .set({ valid_to: this.change.now })
        .where('user_group_id', '=', this.group.id)
        .where('clearance', 'in', removing)
        .where('valid_to', 'is', null)
        .execute();
    }
    if (adding.length > 0) {
      await db
        .insertInto('user_group_clearances')
        .values(
          adding.map((clearance) => ({
            id: newId(),
            organisation_id: this.group.organisation_id,
            user_group_id: this.group.id,
            clearance,
            valid_from: this.change.now,
            valid_to: null,
          })),
        )
        .execute();
    }
    if (adding.length + removing.length > 0) {
      this.change.record({
        action: 'user_group.clearances.set',
        targetType: 'user_group',
        targetId: this.group.id,
        before: { clearances: current },
        after: { clearances: next },
      });
      const org = this.group.organisation_id;
      const actor = await partyName(this.change, org, { type: 'user', id: this.principal.userId });
      const named = (list: readonly string[]) => (list.length > 0 ? list.join(', ') : 'none');
      await queueSecurityAlert(
        this.change,
        org,
        [homeOf(this.group)],
        `${actor} changed the clearances of the user group ${this.group.name} from ${named(current)} to ${named(next)}.`,
      );
    }
    return next;
  }

  async update(patch: {
    name?: string | undefined;
    description?: string | undefined;
    rationale?: string | undefined;
  }) {
    await this.require('edit_details');
    const db = this.change.db;
    const name = patch.name ?? this.group.name;
    if (
      name !== this.group.name &&
      (await userGroupNameTaken(db, this.group.organisation_id, name, this.group.id))
    ) {
      throw conflict(`A user group named "${name}" already exists`, 'name_taken');
    }
    const next = {
      name,
      description: patch.description ?? this.group.description,
      rationale: patch.rationale ?? this.group.rationale,
    };
    await db
      .updateTable('user_groups')
      .set({ ...next, updated_at: this.change.now })
      .where('id', '=', this.group.id)
      .execute();
    this.change.record({
      action: 'user_group.update',
      targetType: 'user_group',
      targetId: this.group.id,
      before: {
        name: this.group.name,
        description: this.group.description,
        rationale: this.group.rationale,
      },
      after: next,
    });
    this.group = { ...this.group, ...next, updated_at: this.change.now };
  }

  /**
   * Permission sets: the group's administrators and its owners (`manage_permission_sets`);
   * what a set may hold, and to whom, is checked in `permission-sets.ts`.
   */
  async #permissionSetEdit(): Promise<PermissionSetEdit> {
    const standing = await this.#standing();
    const holdings = await loadHoldings(this.change.db, this.group.id);
    requireGroupAction(this.principal, standing, holdings, 'manage_permission_sets');
    const { change, principal, group } = this;
    return { change, principal, group, standing, holdings };
  }

  async createPermissionSet(input: NewPermissionSet): Promise<PermissionSetView> {
    return createPermissionSet(await this.#permissionSetEdit(), input);
  }

  async updatePermissionSet(setId: string, patch: PermissionSetPatch): Promise<PermissionSetView> {
    return updatePermissionSet(await this.#permissionSetEdit(), setId, patch);
  }

  async deletePermissionSet(setId: string): Promise<void> {
    await deletePermissionSet(await this.#permissionSetEdit(), setId);
  }

  /** Deleting a group ends everything it conferred: memberships, owners, grants, links, clearances. */
  async delete(): Promise<void> {
    const { holdsOwner } = await this.requireMembershipAuthority('delete');
    const db = this.change.db;
    const now = this.change.now;
    for (const table of [
      'user_group_members',
      'user_group_owners',
      'user_group_clearances',
      'role_grants',
    ] as const) {
      await db
        .updateTable(table)
        .set({ valid_to: now })
        .where('user_group_id', '=', this.group.id)
        .where('valid_to', 'is', null)
        .execute();
    }
    await db
      .updateTable('student_links')
      .set({ valid_to: now, removed_by: this.principal.userId || null })
      .where('user_group_id', '=', this.group.id)
      .where('valid_to', 'is', null)
      .execute();
    // Its permission sets end, and so do the sets of other groups it was an assignee of.
    await db
      .updateTable('user_group_permission_sets')
      .set({ valid_to: now })
      .where('user_group_id', '=', this.group.id)
      .where('valid_to', 'is', null)
      .execute();
    await db
      .updateTable('user_group_set_assignees')
      .set({ valid_to: now, removed_by: this.principal.userId || null })
      .where((eb) =>
        eb.or([
          eb('user_group_id', '=', this.group.id),
          eb.and([eb('assignee_type', '=', 'user_group'), eb('assignee_id', '=', this.group.id)]),
        ]),
      )
      .where('valid_to', 'is', null)
      .execute();
    await db
      .updateTable('user_groups')
      .set({ deleted_at: now, updated_at: now, member_count: 0 })
      .where('id', '=', this.group.id)
      .execute();
    if (holdsOwner) await assertOrganisationKeepsAnOwner(db, this.group.organisation_id);
    this.change.record({
      action: 'user_group.delete',
      targetType: 'user_group',
      targetId: this.group.id,
      before: { name: this.group.name, memberCount: this.group.member_count },
    });
  }
}
