import type { Kysely } from 'kysely';
import {
  assigneesPerSet,
  defaultPermissions,
  fixedSets,
  type GroupPermission,
  groupPermissions,
  normalisePermissions,
  type PermissionSetKind,
  parsePermissions,
  setsPerGroup,
} from '../../access/permission-sets.ts';
import { loadPrincipal, type Principal } from '../../access/principal.ts';
import {
  couldPassOn,
  requireGroupAction,
  type UserGroupHoldings,
  type UserGroupStanding,
  visibleUserGroupIds,
} from '../../access/user-groups.ts';
import { chunks } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';
import { conflict, HavenError, limitExceeded } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Change } from '../audit/change.ts';
import { currentOwners, existingUserIds, type UserGroupRow } from './repository.ts';

/**
 * A user group's permission sets (spec section 5): read as the API answers them, and edited.
 * Every edit keeps history: a changed set closes its current version and opens the next under
 * the same set id, and assignees are closed and opened the same way. Who may edit is asked by
 * the editor (`editor.ts`, `manage_permission_sets`); what a set may hold is decided here.
 */

export type AssigneeType = 'user' | 'user_group';

export interface AssigneeRef {
  type: AssigneeType;
  id: string;
}

export type AssigneeView =
  | { type: 'user'; id: string; name: string; email: string }
  | { type: 'user_group'; id: string; name: string; memberCount: number }
  /** A group the reader may not see: named nowhere to them. */
  | { type: 'user_group'; id: null; name: null; memberCount: null; withheld: true };

export interface PermissionSetView {
  id: string;
  kind: PermissionSetKind;
  name: string;
  permissions: GroupPermission[];
  fixed: boolean;
  assignees: AssigneeView[];
}

export interface NewPermissionSet {
  name: string;
  permissions: GroupPermission[];
  assignees: AssigneeRef[];
}

export interface PermissionSetPatch {
  name?: string | undefined;
  permissions?: GroupPermission[] | undefined;
  assignees?: AssigneeRef[] | undefined;
}

/** What an edit works with: the change, who makes it, and the group as the editor read it. */
export interface PermissionSetEdit {
  change: Change;
  principal: Principal;
  group: UserGroupRow;
  standing: UserGroupStanding;
  holdings: UserGroupHoldings;
}

/** The permissions that change who is in a group or end it: anti-escalation applies to them. */
const passingOn: readonly GroupPermission[] = ['manage_members', 'delete'];

interface SetRow {
  id: string;
  set_id: string;
  kind: 'members' | 'everyone' | 'custom';
  name: string;
  permissions: string;
}

/** The sets' current versions, the Members and Everyone ones only once changed. */
function currentSetRows(db: Kysely<DB>, groupId: string): Promise<SetRow[]> {
  return db
    .selectFrom('user_group_permission_sets')
    .select(['id', 'set_id', 'kind', 'name', 'permissions'])
    .where('user_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .execute();
}

async function currentAssignees(
  db: Kysely<DB>,
  groupId: string,
  setIds: readonly string[],
): Promise<Map<string, AssigneeRef[]>> {
  const bySet = new Map<string, AssigneeRef[]>(setIds.map((id) => [id, []]));
  if (setIds.length === 0) return bySet;
  const rows = await db
    .selectFrom('user_group_set_assignees')
    .select(['set_id', 'assignee_type', 'assignee_id'])
    .where('user_group_id', '=', groupId)
    .where('set_id', 'in', [...setIds])
    .where('valid_to', 'is', null)
    .execute();
  for (const row of rows)
    bySet.get(row.set_id)?.push({ type: row.assignee_type, id: row.assignee_id });
  return bySet;
}

const byName = (a: { name: string; id: string }, b: { name: string; id: string }) =>
  a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || a.id.localeCompare(b.id);

/**
 * Assignees as the reader may see them: users with name and email, groups with their member
 * count, and a group the reader may not see withheld (neither id nor name).
 */
async function presentAssignees(
  db: Kysely<DB>,
  reader: Principal,
  refs: readonly AssigneeRef[],
): Promise<AssigneeView[]> {
  const userIds = refs.filter((r) => r.type === 'user').map((r) => r.id);
  const groupIds = refs.filter((r) => r.type === 'user_group').map((r) => r.id);
  const users = new Map<string, { id: string; name: string; email: string }>();
  for (const slice of chunks(userIds)) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'name', 'email'])
      .where('organisation_id', '=', reader.organisationId)
      .where('id', 'in', slice)
      .execute();
    for (const row of rows) users.set(row.id, row);
  }
  const visible = await visibleUserGroupIds(db, reader, groupIds);
  const groups = new Map<string, { id: string; name: string; memberCount: number }>();
  for (const slice of chunks(groupIds.filter((id) => visible.has(id)))) {
    const rows = await db
      .selectFrom('user_groups')
      .select(['id', 'name', 'member_count'])
      .where('organisation_id', '=', reader.organisationId)
      .where('id', 'in', slice)
      .execute();
    for (const row of rows)
      groups.set(row.id, { id: row.id, name: row.name, memberCount: row.member_count });
  }
  const people = userIds.flatMap((id) => {
    const user = users.get(id);
    return user ? [{ type: 'user' as const, ...user }] : [];
  });
  const teams = groupIds.flatMap((id) => {
    const group = groups.get(id);
    return group ? [{ type: 'user_group' as const, ...group }] : [];
  });
  const withheld = groupIds
    .filter((id) => !groups.has(id))
    .map(() => ({
      type: 'user_group' as const,
      id: null,
      name: null,
      memberCount: null,
      withheld: true as const,
    }));
  return [...people.sort(byName), ...teams.sort(byName), ...withheld];
}

/**
 * Every set of the group as `reader` may see it: Owners, Members, Everyone, then the custom
 * sets by name (or only the set `onlySetId`). Members and Everyone hold their defaults until
 * changed; their assignees are implicit, so none are listed.
 */
export async function readPermissionSets(
  db: Kysely<DB>,
  reader: Principal,
  group: Pick<UserGroupRow, 'id'>,
  onlySetId?: string,
): Promise<PermissionSetView[]> {
  const wanted = (id: string) => onlySetId === undefined || onlySetId === id;
  const rows = await currentSetRows(db, group.id);
  const sets: PermissionSetView[] = [];
  if (wanted(fixedSets.owners.id)) {
    const owners = await currentOwners(db, group.id);
    sets.push({
      ...fixedSets.owners,
      kind: 'owners',
      permissions: [...groupPermissions],
      fixed: true,
      assignees: owners.map((o) => ({ type: 'user', id: o.id, name: o.name, email: o.email })),
    });
  }
  for (const kind of ['members', 'everyone'] as const) {
    if (!wanted(fixedSets[kind].id)) continue;
    const row = rows.find((r) => r.kind === kind);
    sets.push({
      ...fixedSets[kind],
      kind,
      permissions: row ? parsePermissions(row.permissions) : [...defaultPermissions[kind]],
      fixed: false,
      assignees: [],
    });
  }
  const custom = rows
    .filter((r) => r.kind === 'custom' && wanted(r.set_id))
    .map((r) => ({ ...r, id: r.set_id }))
    .sort(byName);
  const assignees = await currentAssignees(
    db,
    group.id,
    custom.map((r) => r.id),
  );
  for (const row of custom) {
    sets.push({
      id: row.id,
      kind: 'custom',
      name: row.name,
      permissions: parsePermissions(row.permissions),
      fixed: false,
      assignees: await presentAssignees(db, reader, assignees.get(row.id) ?? []),
    });
  }
  return sets;
}

async function presentOne(edit: PermissionSetEdit, setId: string): Promise<PermissionSetView> {
  const [set] = await readPermissionSets(edit.change.db, edit.principal, edit.group, setId);
  if (!set) throw missingSet();
  return set;
}

function missingSet(): HavenError {
  return new HavenError(404, 'not_found', 'Not found', 'Permission set not found', {
    field: 'setId',
  });
}

/** A request well formed but not for this set (422, naming the field). */
function unprocessable(field: string, message: string): HavenError {
  return new HavenError(422, 'validation_failed', 'Validation failed', `${field}: ${message}`, {
    errors: [{ field, message }],
  });
}

function fixedSetError(name: string): HavenError {
  return conflict(
    `The ${name} set is fixed: it cannot be changed or deleted`,
    'permission_set_fixed',
  );
}

const refKey = (ref: AssigneeRef) => `${ref.type}:${ref.id}`;

function withoutRepeats(refs: readonly AssigneeRef[]): AssigneeRef[] {
  const seen = new Map<string, AssigneeRef>();
  for (const ref of refs) seen.set(refKey(ref), { type: ref.type, id: ref.id });
  return [...seen.values()];
}

/**
 * The names the group's sets already hold, lower-cased: the fixed three and every current
 * custom set but `except`.
 */
function takenNames(rows: readonly SetRow[], except?: string): Set<string> {
  return new Set([
    ...Object.values(fixedSets).map((s) => s.name.toLowerCase()),
    ...rows
      .filter((r) => r.kind === 'custom' && r.set_id !== except)
      .map((r) => r.name.toLowerCase()),
  ]);
}

function requireFreeName(rows: readonly SetRow[], name: string, except?: string): void {
  if (takenNames(rows, except).has(name.toLowerCase()))
    throw conflict(`This group already has a set named "${name}"`, 'name_taken');
}

/**
 * The assignees a writer names, checked: at most {@link assigneesPerSet}, not the group itself,
 * users of the organisation, groups the writer may see (404 naming the field otherwise).
 * Assigned groups the writer may not see cannot be named by them, so a new list keeps them.
 */
async function resolveAssignees(
  edit: PermissionSetEdit,
  named: readonly AssigneeRef[],
  current: readonly AssigneeRef[] = [],
): Promise<AssigneeRef[]> {
  const db = edit.change.db;
  const currentGroups = current.filter((r) => r.type === 'user_group').map((r) => r.id);
  const seen = await visibleUserGroupIds(db, edit.principal, currentGroups);
  const unseen = current.filter((r) => r.type === 'user_group' && !seen.has(r.id));
  const next = withoutRepeats([...named, ...unseen]);
  if (next.length > assigneesPerSet)
    throw limitExceeded(
      `A permission set has at most ${assigneesPerSet} assignees`,
      assigneesPerSet,
    );
  if (named.some((r) => r.type === 'user_group' && r.id === edit.group.id))
    throw unprocessable('assignees', 'a group cannot be an assignee of its own permission set');
  const userIds = named.filter((r) => r.type === 'user').map((r) => r.id);
  const users = await existingUserIds(db, edit.group.organisation_id, userIds);
  const absentUser = userIds.find((id) => !users.has(id));
  if (absentUser) throw missingAssignee(`User ${absentUser}`);
  const groupIds = named.filter((r) => r.type === 'user_group').map((r) => r.id);
  const live = await liveGroupIds(db, edit.group.organisation_id, groupIds);
  const visible = await visibleUserGroupIds(db, edit.principal, groupIds);
  const absentGroup = groupIds.find((id) => !live.has(id) || !visible.has(id));
  if (absentGroup) throw missingAssignee(`User group ${absentGroup}`);
  return next;
}

function missingAssignee(what: string): HavenError {
  return new HavenError(404, 'not_found', 'Not found', `${what} not found`, { field: 'assignees' });
}

async function liveGroupIds(db: Kysely<DB>, organisationId: string, ids: readonly string[]) {
  const found = new Set<string>();
  for (const slice of chunks(ids)) {
    const rows = await db
      .selectFrom('user_groups')
      .select('id')
      .where('organisation_id', '=', organisationId)
      .where('id', 'in', slice)
      .where('deleted_at', 'is', null)
      .execute();
    for (const row of rows) found.add(row.id);
  }
  return found;
}

/**
 * Anti-escalation for a set that now lets someone change who is in a group holding a role or a
 * clearance: the writer must be able to pass on all of it (403, as adding members would be),
 * and so must every user newly given the set (409 `permission_set_escalation`). Members of an
 * assignee group are checked on each action instead: who is in that group changes without
 * this set being saved.
 */
async function requireNoEscalation(
  edit: PermissionSetEdit,
  permissions: readonly GroupPermission[],
  /** Whether the save gives the set's permissions to someone who did not hold them. */
  newlyConferred: boolean,
  usersNewlyGiven: readonly string[],
): Promise<void> {
  const { holdings, principal } = edit;
  if (holdings.grants.length === 0 && holdings.clearances.length === 0) return;
  if (!newlyConferred || !permissions.some((p) => passingOn.includes(p))) return;
  if (!couldPassOn(principal, holdings))
    requireGroupAction(principal, edit.standing, holdings, 'manage_members');
  for (const userId of usersNewlyGiven) {
    const assignee = await loadPrincipal(edit.change.db, edit.group.organisation_id, userId);
    if (!couldPassOn(assignee, holdings)) {
      const error = conflict(
        'This user could not pass on every role and clearance the group holds, so may not manage its members or delete it',
        'permission_set_escalation',
      );
      error.extra.field = 'assignees';
      error.extra.userId = userId;
      throw error;
    }
  }
}

interface SetState {
  setId: string;
  kind: 'members' | 'everyone' | 'custom';
  name: string;
  permissions: GroupPermission[];
  assignees: AssigneeRef[];
}

/** A set as its audit rows describe it. */
function audited(state: SetState) {
  return {
    setId: state.setId,
    kind: state.kind,
    name: state.name,
    permissions: state.permissions,
    ...(state.kind === 'custom' ? { assignees: state.assignees } : {}),
  };
}

/** The next version of a set: a version begun in this same change is rewritten instead. */
async function writeVersion(edit: PermissionSetEdit, state: SetState): Promise<void> {
  const db = edit.change.db;
  const now = edit.change.now;
  const current = () =>
    db
      .updateTable('user_group_permission_sets')
      .where('user_group_id', '=', edit.group.id)
      .where('set_id', '=', state.setId)
      .where('valid_to', 'is', null);
  const rewritten = await current()
    .set({ name: state.name, permissions: state.permissions.join(','), changed_by: actor(edit) })
    .where('valid_from', '=', now)
    .executeTakeFirst();
  if (Number(rewritten.numUpdatedRows) > 0) return;
  await current().set({ valid_to: now }).execute();
  await db
    .insertInto('user_group_permission_sets')
    .values({
      id: newId(),
      organisation_id: edit.group.organisation_id,
      set_id: state.setId,
      user_group_id: edit.group.id,
      kind: state.kind,
      name: state.name,
      permissions: state.permissions.join(','),
      changed_by: actor(edit),
      valid_from: now,
      valid_to: null,
    })
    .execute();
}

function actor(edit: PermissionSetEdit): string | null {
  return edit.principal.userId || null;
}

/** Ends these assignments (one begun in this same change never held: it is removed). */
async function endAssignees(
  edit: PermissionSetEdit,
  setId: string,
  refs: readonly AssigneeRef[],
): Promise<void> {
  const db = edit.change.db;
  for (const type of ['user', 'user_group'] as const) {
    const ids = refs.filter((r) => r.type === type).map((r) => r.id);
    for (const slice of chunks(ids)) {
      await db
        .deleteFrom('user_group_set_assignees')
        .where('user_group_id', '=', edit.group.id)
        .where('set_id', '=', setId)
        .where('assignee_type', '=', type)
        .where('assignee_id', 'in', slice)
        .where('valid_to', 'is', null)
        .where('valid_from', '=', edit.change.now)
        .execute();
      await db
        .updateTable('user_group_set_assignees')
        .set({ valid_to: edit.change.now, removed_by: actor(edit) })
        .where('user_group_id', '=', edit.group.id)
        .where('set_id', '=', setId)
        .where('assignee_type', '=', type)
        .where('assignee_id', 'in', slice)
        .where('valid_to', 'is', null)
        .execute();
    }
  }
}

async function addAssignees(
  edit: PermissionSetEdit,
  setId: string,
  refs: readonly AssigneeRef[],
): Promise<void> {
  for (const slice of chunks(refs)) {
    await edit.change.db
      .insertInto('user_group_set_assignees')
      .values(
        slice.map((ref) => ({
          id: newId(),
          organisation_id: edit.group.organisation_id,
          user_group_id: edit.group.id,
          set_id: setId,
          assignee_type: ref.type,
          assignee_id: ref.id,
          added_by: actor(edit),
          removed_by: null,
          valid_from: edit.change.now,
          valid_to: null,
        })),
      )
      .execute();
  }
}

function userIdsOf(refs: readonly AssigneeRef[]): string[] {
  return refs.filter((r) => r.type === 'user').map((r) => r.id);
}

/** A new custom set, with its assignees (spec section 5). */
export async function createPermissionSet(
  edit: PermissionSetEdit,
  input: NewPermissionSet,
): Promise<PermissionSetView> {
  const db = edit.change.db;
  const rows = await currentSetRows(db, edit.group.id);
  const name = input.name.trim();
  const customCount = rows.filter((r) => r.kind === 'custom').length;
  if (Object.keys(fixedSets).length + customCount >= setsPerGroup)
    throw limitExceeded(
      `A user group has at most ${setsPerGroup} permission sets, Owners, Members and Everyone included`,
      setsPerGroup,
    );
  requireFreeName(rows, name);
  const permissions = normalisePermissions(input.permissions);
  const assignees = await resolveAssignees(edit, input.assignees);
  await requireNoEscalation(edit, permissions, true, userIdsOf(assignees));
  const state: SetState = { setId: newId(), kind: 'custom', name, permissions, assignees };
  await writeVersion(edit, state);
  await addAssignees(edit, state.setId, assignees);
  edit.change.record({
    action: 'user_group.permission_set.create',
    targetType: 'user_group',
    targetId: edit.group.id,
    after: audited(state),
  });
  return presentOne(edit, state.setId);
}

/** The set as it stands, or 404; Owners is fixed (409). */
async function currentState(edit: PermissionSetEdit, setId: string): Promise<SetState> {
  if (setId === fixedSets.owners.id) throw fixedSetError(fixedSets.owners.name);
  const rows = await currentSetRows(edit.change.db, edit.group.id);
  if (setId === fixedSets.members.id || setId === fixedSets.everyone.id) {
    const kind = setId as 'members' | 'everyone';
    const row = rows.find((r) => r.kind === kind);
    return {
      setId,
      kind,
      name: fixedSets[kind].name,
      permissions: row ? parsePermissions(row.permissions) : [...defaultPermissions[kind]],
      assignees: [],
    };
  }
  const row = rows.find((r) => r.kind === 'custom' && r.set_id === setId);
  if (!row) throw missingSet();
  const assignees = await currentAssignees(edit.change.db, edit.group.id, [setId]);
  return {
    setId,
    kind: 'custom',
    name: row.name,
    permissions: parsePermissions(row.permissions),
    assignees: assignees.get(setId) ?? [],
  };
}

/**
 * Changes a set: a custom set's name, permissions and assignees (the whole new list); only the
 * permissions of Members and Everyone, whose assignees are implicit.
 */
export async function updatePermissionSet(
  edit: PermissionSetEdit,
  setId: string,
  patch: PermissionSetPatch,
): Promise<PermissionSetView> {
  const before = await currentState(edit, setId);
  if (before.kind !== 'custom') {
    if (patch.name !== undefined)
      throw unprocessable('name', `the ${before.name} set keeps its name`);
    if (patch.assignees !== undefined)
      throw unprocessable('assignees', `the ${before.name} set's assignees are implicit`);
  }
  const name = patch.name?.trim() ?? before.name;
  if (name !== before.name)
    requireFreeName(await currentSetRows(edit.change.db, edit.group.id), name, setId);
  const permissions =
    patch.permissions === undefined ? before.permissions : normalisePermissions(patch.permissions);
  const assignees =
    patch.assignees === undefined
      ? before.assignees
      : await resolveAssignees(edit, patch.assignees, before.assignees);
  const had = new Set(before.assignees.map(refKey));
  const keeps = new Set(assignees.map(refKey));
  const added = assignees.filter((r) => !had.has(refKey(r)));
  const removed = before.assignees.filter((r) => !keeps.has(refKey(r)));
  const permissionsAdded = permissions.some((p) => !before.permissions.includes(p));
  await requireNoEscalation(
    edit,
    permissions,
    permissionsAdded || added.length > 0,
    userIdsOf(permissionsAdded ? assignees : added),
  );
  const after: SetState = { ...before, name, permissions, assignees };
  const versionChanged =
    name !== before.name || permissions.join(',') !== before.permissions.join(',');
  if (!versionChanged && added.length === 0 && removed.length === 0) return presentOne(edit, setId);
  if (versionChanged) await writeVersion(edit, after);
  await endAssignees(edit, setId, removed);
  await addAssignees(edit, setId, added);
  edit.change.record({
    action: 'user_group.permission_set.update',
    targetType: 'user_group',
    targetId: edit.group.id,
    before: audited(before),
    after: audited(after),
  });
  return presentOne(edit, setId);
}

/** Ends a custom set and every assignment of it; Owners, Members and Everyone stay (409). */
export async function deletePermissionSet(edit: PermissionSetEdit, setId: string): Promise<void> {
  const before = await currentState(edit, setId);
  if (before.kind !== 'custom') throw fixedSetError(before.name);
  const db = edit.change.db;
  const now = edit.change.now;
  await endAssignees(edit, setId, before.assignees);
  // A set begun in this same change never held: removed rather than closed.
  await db
    .deleteFrom('user_group_permission_sets')
    .where('user_group_id', '=', edit.group.id)
    .where('set_id', '=', setId)
    .where('valid_to', 'is', null)
    .where('valid_from', '=', now)
    .execute();
  await db
    .updateTable('user_group_permission_sets')
    .set({ valid_to: now })
    .where('user_group_id', '=', edit.group.id)
    .where('set_id', '=', setId)
    .where('valid_to', 'is', null)
    .execute();
  edit.change.record({
    action: 'user_group.permission_set.delete',
    targetType: 'user_group',
    targetId: edit.group.id,
    before: audited(before),
  });
}
