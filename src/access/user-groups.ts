import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { DB, UserGroupsTable } from '../db/tables.ts';
import { HavenError, notFound } from '../lib/errors.ts';
import type { Clearance } from './clearances.ts';
import {
  can,
  canAssignRole,
  canConferClearance,
  canSomewhere,
  ownsOrganisation,
  permissionDenied,
  requireAssignRole,
  requireClearanceToConfer,
  requireNotToSelf,
  schoolsWith,
} from './decide.ts';
import type { PathExplanation } from './explain.ts';
import { type GroupPermission, heldSets, holdsSomeSet, permissionsOf } from './permission-sets.ts';
import type { Principal } from './principal.ts';
import type { GrantableRole } from './roles.ts';
import { covers, type Scope, type ScopeType } from './scopes.ts';

/**
 * Who sees a user group and who administers it (spec sections 2 and 5), in one place:
 *  - Admin or higher at a scope covering the group's home administers it: details, members,
 *    owners, permission sets, links, clearances, role grants, deletion;
 *  - the group's owners hold every group permission and manage its owners and permission sets;
 *  - anyone else holds the permissions of the sets they are assigned (Members, Everyone, custom
 *    sets, directly or through a group they are in: `permission-sets.ts`);
 *  - managing members and deleting still need the caller to be able to pass on every role and
 *    clearance the group holds (anti-escalation wins over any set);
 *  - nobody else knows it exists (404).
 * The lists' SQL filter, the one-group lookup, the checks of every edit and the abilities sent
 * to the web app all come from here.
 */

type GroupBuilder = ExpressionBuilder<DB & { g: DB['user_groups'] }, 'g'>;

/** The caller's relation to one group. */
export interface UserGroupStanding {
  /** Admin or higher at a scope covering the group's home. */
  administers: boolean;
  owns: boolean;
  belongs: boolean;
  /** The permissions of the sets the caller holds on the group (owners' included). */
  granted: ReadonlySet<GroupPermission>;
}

/** Everything one may be asked to do with a group. */
export type GroupAction =
  | GroupPermission
  | 'manage_owners'
  | 'manage_permission_sets'
  | 'manage_links'
  | 'manage_clearances'
  | 'manage_roles';

/** What the group confers on its members: what a new member would gain. */
export interface UserGroupHoldings {
  grants: readonly {
    id: string;
    role: GrantableRole;
    scope: Scope;
    reason: string | null;
    since: string;
  }[];
  clearances: readonly Clearance[];
}

/** A group that confers nothing (for deciding the actions that pass nothing on). */
export const noHoldings: UserGroupHoldings = { grants: [], clearances: [] };

/** What the caller may do with one group, for the web app to hide what would be refused. */
export interface UserGroupAbilities {
  view: boolean;
  viewMembers: boolean;
  /** The same as `editDetails` (the name the web app first knew). */
  edit: boolean;
  editDetails: boolean;
  delete: boolean;
  manageMembers: boolean;
  manageOwners: boolean;
  managePermissionSets: boolean;
  manageLinks: boolean;
  manageClearances: boolean;
  manageRoles: boolean;
}

export function homeOf(group: Pick<UserGroupsTable, 'home_scope_type' | 'home_scope_id'>): Scope {
  return { type: group.home_scope_type as ScopeType, id: group.home_scope_id };
}

/** Admin or higher at a scope covering `home`: administers the groups homed there. */
export function administersHome(principal: Principal, home: Scope): boolean {
  return can(principal, 'user_groups.manage', home);
}

export function requireAdministersHome(principal: Principal, home: Scope): void {
  if (!administersHome(principal, home)) throw permissionDenied('user_groups.manage');
}

/** The homes the principal administers: all of them, or these schools and school groups. */
export function administeredHomes(
  principal: Principal,
): 'all' | { schools: string[]; schoolGroups: string[] } {
  const schools = schoolsWith(principal, 'user_groups.manage');
  if (schools === 'all') return 'all';
  const held = new Set(
    principal.grants.filter((g) => g.scope.type === 'school_group').map((g) => g.scope.id),
  );
  const schoolGroups = [...held]
    .filter((id) => administersHome(principal, { type: 'school_group', id }))
    .sort();
  return { schools, schoolGroups };
}

/**
 * The conditions "the scope in these columns is one of these administered homes" (a school or a
 * school group among them), one per kind of home held; none when no home is held.
 */
export function scopeAmongHomes(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over any table with scope columns
  eb: ExpressionBuilder<any, any>,
  columns: { type: string; id: string },
  homes: { schools: readonly string[]; schoolGroups: readonly string[] },
): Expression<SqlBool>[] {
  const ways: Expression<SqlBool>[] = [];
  if (homes.schools.length > 0)
    ways.push(eb.and([eb(columns.type, '=', 'school'), eb(columns.id, 'in', [...homes.schools])]));
  if (homes.schoolGroups.length > 0)
    ways.push(
      eb.and([
        eb(columns.type, '=', 'school_group'),
        eb(columns.id, 'in', [...homes.schoolGroups]),
      ]),
    );
  return ways;
}

/**
 * Where a group is homed when its creator does not say: the organisation for an Admin there,
 * otherwise the one broadest scope they administer (their school group, or their only school);
 * undefined when that is not one scope, and the creator must choose.
 */
export function defaultHome(principal: Principal): Scope | undefined {
  const homes = administeredHomes(principal);
  if (homes === 'all') return { type: 'organisation', id: principal.organisationId };
  const candidates: Scope[] = [
    ...homes.schoolGroups.map((id) => ({ type: 'school_group' as const, id })),
    ...homes.schools.map((id) => ({ type: 'school' as const, id })),
  ];
  const broadest = candidates.filter(
    (c) => !candidates.some((o) => o !== c && covers(o, c, principal.schoolGroupsBySchool)),
  );
  return broadest.length === 1 ? broadest[0] : undefined;
}

/**
 * The filter for a query over `user_groups as g`: the groups of the principal's organisation
 * that they may see. Every list and lookup of user groups goes through it.
 */
export function userGroupVisibleTo(eb: GroupBuilder, principal: Principal): Expression<SqlBool> {
  const homes = administeredHomes(principal);
  const tenant = [
    eb('g.organisation_id', '=', principal.organisationId),
    eb('g.deleted_at', 'is', null),
  ];
  if (homes === 'all') return eb.and(tenant);
  const ways: Expression<SqlBool>[] = [
    holdsSomeSet(eb, principal.userId),
    eb.exists(
      eb
        .selectFrom('user_group_owners as o')
        .select('o.user_id')
        .whereRef('o.user_group_id', '=', 'g.id')
        .where('o.user_id', '=', principal.userId)
        .where('o.valid_to', 'is', null),
    ),
  ];
  ways.push(...scopeAmongHomes(eb, { type: 'g.home_scope_type', id: 'g.home_scope_id' }, homes));
  return eb.and([...tenant, eb.or(ways)]);
}

export interface VisibleUserGroup {
  group: UserGroupsTable;
  standing: UserGroupStanding;
}

/** One group as the principal may see it, with their standing; undefined means 404. */
export async function findVisibleUserGroup(
  db: Kysely<DB>,
  principal: Principal,
  groupId: string,
): Promise<VisibleUserGroup | undefined> {
  const row = await db
    .selectFrom('user_groups as g')
    .selectAll('g')
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom('user_group_members as m')
            .select('m.user_id')
            .whereRef('m.user_group_id', '=', 'g.id')
            .where('m.user_id', '=', principal.userId)
            .where('m.valid_to', 'is', null),
        )
        .as('belongs'),
      eb
        .exists(
          eb
            .selectFrom('user_group_owners as o')
            .select('o.user_id')
            .whereRef('o.user_group_id', '=', 'g.id')
            .where('o.user_id', '=', principal.userId)
            .where('o.valid_to', 'is', null),
        )
        .as('owns'),
    ])
    .where('g.id', '=', groupId)
    .where((eb) => userGroupVisibleTo(eb, principal))
    .executeTakeFirst();
  if (!row) return undefined;
  const { belongs, owns, ...group } = row;
  return {
    group,
    standing: {
      administers: administersHome(principal, homeOf(group)),
      // SQLite answers 0 or 1, PostgreSQL a boolean.
      owns: Boolean(owns),
      belongs: Boolean(belongs),
      granted: await grantedOn(db, principal, group.id),
    },
  };
}

/** {@link findVisibleUserGroup}, or 404 exactly as if the group did not exist. */
export async function requireVisibleUserGroup(
  db: Kysely<DB>,
  principal: Principal,
  groupId: string,
): Promise<VisibleUserGroup> {
  const found = await findVisibleUserGroup(db, principal, groupId);
  if (!found) throw notFound('User group');
  return found;
}

/** The caller's standing to a group already found, read through `db` (a change's own transaction). */
export async function loadStanding(
  db: Kysely<DB>,
  principal: Principal,
  group: Pick<UserGroupsTable, 'id' | 'home_scope_type' | 'home_scope_id'>,
): Promise<UserGroupStanding> {
  const held = async (table: 'user_group_members' | 'user_group_owners') =>
    principal.userId !== '' &&
    (await db
      .selectFrom(table)
      .select('user_id')
      .where('user_group_id', '=', group.id)
      .where('user_id', '=', principal.userId)
      .where('valid_to', 'is', null)
      .executeTakeFirst()) !== undefined;
  return {
    administers: administersHome(principal, homeOf(group)),
    owns: await held('user_group_owners'),
    belongs: await held('user_group_members'),
    granted: await grantedOn(db, principal, group.id),
  };
}

/** The permissions the principal holds on one group through its sets, read now. */
async function grantedOn(
  db: Kysely<DB>,
  principal: Principal,
  groupId: string,
): Promise<ReadonlySet<GroupPermission>> {
  return permissionsOf(
    await heldSets(db, {
      organisationId: principal.organisationId,
      userId: principal.userId,
      groupIds: [groupId],
    }),
  );
}

/** The role grants and clearances the group holds now. */
export async function loadHoldings(db: Kysely<DB>, groupId: string): Promise<UserGroupHoldings> {
  const grants = await db
    .selectFrom('role_grants')
    .select(['id', 'role', 'scope_type', 'scope_id', 'reason', 'valid_from'])
    .where('user_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .orderBy('valid_from')
    .orderBy('id')
    .execute();
  const clearances = await db
    .selectFrom('user_group_clearances')
    .select('clearance')
    .where('user_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .orderBy('clearance')
    .execute();
  return {
    grants: grants.map((g) => ({
      id: g.id,
      role: g.role as GrantableRole,
      scope: { type: g.scope_type as ScopeType, id: g.scope_id },
      reason: g.reason,
      since: g.valid_from,
    })),
    clearances: clearances.map((c) => c.clearance as Clearance),
  };
}

function stewards(standing: UserGroupStanding): boolean {
  return standing.administers || standing.owns;
}

/** A group permission, held by administering the group's home, owning it, or through a set. */
function holds(standing: UserGroupStanding, permission: GroupPermission): boolean {
  return stewards(standing) || standing.granted.has(permission);
}

/** Rules 1 to 3: changing who is in a group passes on every role and clearance it holds. */
function passesOn(principal: Principal, holdings: UserGroupHoldings): boolean {
  return (
    holdings.grants.every((g) => canAssignRole(principal, g.role, g.scope)) &&
    holdings.clearances.every((c) => canConferClearance(principal, c))
  );
}

/**
 * The one decision on every group action. Adding members is further held to rule 5 by
 * {@link requireNotJoiningItself}, and a role grant to the rules of the grant itself.
 */
export function groupActionAllowed(
  principal: Principal,
  standing: UserGroupStanding,
  holdings: UserGroupHoldings,
  action: GroupAction,
): boolean {
  switch (action) {
    case 'view':
    case 'view_members':
    case 'edit_details':
      return holds(standing, action);
    case 'manage_members':
    case 'delete':
      // Whatever a set says: changing who is in a group passes on what it holds (rules 1 to 3).
      return holds(standing, action) && passesOn(principal, holdings);
    case 'manage_owners':
    case 'manage_permission_sets':
      return stewards(standing);
    case 'manage_links':
      return standing.administers;
    case 'manage_clearances':
      return (
        standing.administers && holdings.clearances.every((c) => canConferClearance(principal, c))
      );
    case 'manage_roles':
      return (
        standing.administers &&
        canSomewhere(principal, 'roles.assign') &&
        (!standing.belongs || ownsOrganisation(principal))
      );
  }
}

/**
 * {@link groupActionAllowed}, or 403 naming what was refused. The anti-escalation rule that
 * refused it, where one did, answers as it always has (`requireAssignRole` and the clearance
 * rule say which role or clearance the caller lacks).
 */
export function requireGroupAction(
  principal: Principal,
  standing: UserGroupStanding,
  holdings: UserGroupHoldings,
  action: GroupAction,
): void {
  if (groupActionAllowed(principal, standing, holdings, action)) return;
  if ((action === 'manage_members' || action === 'delete') && holds(standing, action)) {
    for (const grant of holdings.grants) requireAssignRole(principal, grant.role, grant.scope);
    for (const clearance of holdings.clearances) requireClearanceToConfer(principal, clearance);
  }
  throw groupActionDenied(action);
}

/** 403 for a group action the caller's sets and roles do not allow (no role would name it). */
function groupActionDenied(action: GroupAction): HavenError {
  return new HavenError(
    403,
    'permission_denied',
    'Forbidden',
    `This needs the ${action} permission on this user group.`,
    { groupAction: action },
  );
}

/** The abilities sent with a group: the same decision the requirements enforce. */
export function userGroupAbilities(
  principal: Principal,
  standing: UserGroupStanding,
  holdings: UserGroupHoldings,
): UserGroupAbilities {
  const may = (action: GroupAction) => groupActionAllowed(principal, standing, holdings, action);
  return {
    view: may('view'),
    viewMembers: may('view_members'),
    edit: may('edit_details'),
    editDetails: may('edit_details'),
    delete: may('delete'),
    manageMembers: may('manage_members'),
    manageOwners: may('manage_owners'),
    managePermissionSets: may('manage_permission_sets'),
    manageLinks: may('manage_links'),
    manageClearances: may('manage_clearances'),
    manageRoles: may('manage_roles'),
  };
}

/** Owners and permission sets: the group's administrators and its owners. */
export function requireSteward(standing: UserGroupStanding): void {
  if (!stewards(standing)) throw permissionDenied('user_groups.manage');
}

/** Links, clearances and role grants: Admin or higher at the group's home. */
export function requireAdministrator(standing: UserGroupStanding): void {
  if (!standing.administers) throw permissionDenied('user_groups.manage');
}

/** Whether this person could pass on everything the group holds (rules 1 to 3). */
export function couldPassOn(principal: Principal, holdings: UserGroupHoldings): boolean {
  return passesOn(principal, holdings);
}

/**
 * Rule 5: nobody joins a group that holds a role or a clearance by their own hand. Nor, unless
 * they administer the group's home (where they could link children to any group anyway), one
 * linked to children: an owner or a set's `manage_members` is for running the group, not for
 * widening one's own sight of children (2026-11-30).
 */
export function requireNotJoiningItself(
  principal: Principal,
  userIds: readonly string[],
  holdings: UserGroupHoldings,
  linked?: { standing: UserGroupStanding; linksChildren: boolean },
): void {
  const joining = principal.userId !== '' && userIds.includes(principal.userId);
  const confers = holdings.grants.length > 0 || holdings.clearances.length > 0;
  requireNotToSelf(
    principal,
    confers && joining,
    'a role or a clearance by joining a group that holds one',
  );
  requireNotToSelf(
    principal,
    joining && linked?.linksChildren === true && !linked.standing.administers,
    'sight of children by joining a group linked to them',
  );
}

/** Rule 5: nobody gives a group they are in a role or a clearance. */
export function requireNotOwnGroup(
  principal: Principal,
  standing: UserGroupStanding,
  what: 'a role' | 'a clearance',
): void {
  requireNotToSelf(principal, standing.belongs, `${what} through a group they are in`);
}

/**
 * Of these group ids, those the principal may see: a group homed where they administer nothing,
 * and that they neither own nor belong to, is named nowhere to them (not on a person's roles,
 * memberships, clearances or paths either). A deleted group, met in an as-of answer, is named to
 * those who administer its home.
 */
export async function visibleUserGroupIds(
  db: Kysely<DB>,
  principal: Principal,
  groupIds: Iterable<string>,
): Promise<Set<string>> {
  const ids = [...new Set(groupIds)];
  const visible = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    const [live, deleted] = await Promise.all([
      db
        .selectFrom('user_groups as g')
        .select('g.id')
        .where('g.id', 'in', slice)
        .where((eb) => userGroupVisibleTo(eb, principal))
        .execute(),
      db
        .selectFrom('user_groups as g')
        .select(['g.id', 'g.home_scope_type', 'g.home_scope_id'])
        .where('g.id', 'in', slice)
        .where('g.organisation_id', '=', principal.organisationId)
        .where('g.deleted_at', 'is not', null)
        .execute(),
    ]);
    for (const row of live) visible.add(row.id);
    for (const row of deleted) if (administersHome(principal, homeOf(row))) visible.add(row.id);
  }
  return visible;
}

/** Of these ids, those of the organisation's user groups the principal may not see. */
export async function unseenUserGroupIds(
  db: Kysely<DB>,
  principal: Principal,
  ids: Iterable<string>,
): Promise<string[]> {
  const all = [...new Set(ids)];
  const groups: string[] = [];
  for (let i = 0; i < all.length; i += 500) {
    const rows = await db
      .selectFrom('user_groups')
      .select('id')
      .where('id', 'in', all.slice(i, i + 500))
      .where('organisation_id', '=', principal.organisationId)
      .execute();
    groups.push(...rows.map((r) => r.id));
  }
  const visible = await visibleUserGroupIds(db, principal, groups);
  return groups.filter((id) => !visible.has(id));
}

/**
 * A user group the caller may not see (homed where they administer nothing) is named nowhere in
 * an answer about someone else: its id and name are withheld, and the path's words say so.
 */
export function withholdPathGroup(path: PathExplanation, visible: ReadonlySet<string>) {
  if (!path.userGroup || visible.has(path.userGroup.id)) return path;
  return {
    ...path,
    userGroup: null,
    summary: path.summary.replace(
      `member of ${path.userGroup.name}`,
      'member of a group you cannot see',
    ),
  };
}

/**
 * A grant held through a group the caller may not see: neither the group nor the grant's id (the
 * same for every member of the group, so it would show who is in it together; 2026-11-30).
 */
export function withholdGrantSource<
  G extends {
    grantId: string;
    source: { type: 'direct' } | { type: 'user_group'; userGroupId: string; userGroupName: string };
  },
>(grant: G, visible: ReadonlySet<string>) {
  if (grant.source.type !== 'user_group' || visible.has(grant.source.userGroupId))
    return grant as Omit<G, 'grantId'> & { grantId: string | null };
  return {
    ...grant,
    grantId: null,
    source: { type: 'user_group' as const, userGroupId: null, userGroupName: null },
  };
}

/**
 * A person or group work may be assigned to: any person of the organisation, or a group the
 * principal may see (a group homed where they administer nothing does not exist for them).
 */
export async function assignableExists(
  db: Kysely<DB>,
  principal: Principal,
  assignee: { type: 'user' | 'user_group'; id: string },
): Promise<boolean> {
  if (assignee.type === 'user_group')
    return (await visibleUserGroupIds(db, principal, [assignee.id])).has(assignee.id);
  const user = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', assignee.id)
    .where('organisation_id', '=', principal.organisationId)
    .executeTakeFirst();
  return user !== undefined;
}
