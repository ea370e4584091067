import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { DB } from '../db/tables.ts';
import { heldAt } from './history.ts';

/**
 * Group permission sets (spec section 5): who holds which permissions on a user group through
 * its Owners, Members, Everyone and custom sets, now or at a past time. The decision built on
 * them is in `user-groups.ts`; this module only reads what is held and through which assignment.
 */

/** The group permissions, in their canonical order. */
export const groupPermissions = [
  'view',
  'view_members',
  'edit_details',
  'manage_members',
  'delete',
] as const;
export type GroupPermission = (typeof groupPermissions)[number];

export type PermissionSetKind = 'owners' | 'members' | 'everyone' | 'custom';

/** What a Members or Everyone set holds until someone changes it. */
export const defaultPermissions: Record<'members' | 'everyone', readonly GroupPermission[]> = {
  members: ['view'],
  everyone: [],
};

/** The fixed sets' ids and names (a custom set's id is its own). */
export const fixedSets = {
  owners: { id: 'owners', name: 'Owners' },
  members: { id: 'members', name: 'Members' },
  everyone: { id: 'everyone', name: 'Everyone' },
} as const;

/** At most this many sets per group, the three fixed ones included. */
export const setsPerGroup = 20;
/** At most this many assignees (users and user groups) per custom set. */
export const assigneesPerSet = 1_000;

/**
 * Canonical order, without repeats; any permission implies `view` (a set that lets someone edit
 * a group they could not see would be a set nobody could use).
 */
export function normalisePermissions(list: Iterable<GroupPermission>): GroupPermission[] {
  const held = new Set(list);
  if (held.size > 0) held.add('view');
  return groupPermissions.filter((p) => held.has(p));
}

export function parsePermissions(text: string): GroupPermission[] {
  const held = new Set(text.split(','));
  return groupPermissions.filter((p) => held.has(p));
}

export function formatPermissions(list: Iterable<GroupPermission>): string {
  return normalisePermissions(list).join(',');
}

/** How a person holds a set. */
export type SetAssignment =
  | { type: 'owner' }
  | { type: 'member' }
  | { type: 'everyone' }
  | { type: 'direct' }
  | { type: 'user_group'; userGroupId: string; userGroupName: string };

export interface HeldSet {
  userGroupId: string;
  userGroupName: string;
  setId: string;
  kind: PermissionSetKind;
  name: string;
  permissions: GroupPermission[];
  via: SetAssignment;
}

const ownersPermissions: GroupPermission[] = [...groupPermissions];

/**
 * Every set a user holds, with the assignment through which they hold it, at `asOf` (now when
 * undefined), on these groups (all of the organisation's when undefined). Sets that hold no
 * permission are left out. A group deleted by then holds nothing.
 */
export async function heldSets(
  db: Kysely<DB>,
  query: {
    organisationId: string;
    userId: string;
    asOf?: string | undefined;
    groupIds?: readonly string[];
  },
): Promise<HeldSet[]> {
  const { organisationId, userId, asOf } = query;
  if (userId === '' || query.groupIds?.length === 0) return [];
  // biome-ignore lint/suspicious/noExplicitAny: the same group filter on four queries
  const liveGroup = (eb: ExpressionBuilder<any, any>, alias: string) => {
    const ways: Expression<SqlBool>[] = [
      eb(`${alias}.organisation_id`, '=', organisationId),
      asOf === undefined
        ? eb(`${alias}.deleted_at`, 'is', null)
        : eb.or([eb(`${alias}.deleted_at`, 'is', null), eb(`${alias}.deleted_at`, '>', asOf)]),
    ];
    if (query.groupIds) ways.push(eb(`${alias}.id`, 'in', [...query.groupIds]));
    return eb.and(ways);
  };
  const [owned, memberships, everyone, direct, throughGroups] = await Promise.all([
    db
      .selectFrom('user_group_owners as o')
      .innerJoin('user_groups as g', 'g.id', 'o.user_group_id')
      .select(['g.id', 'g.name'])
      .where('o.user_id', '=', userId)
      .where((eb) => heldAt(eb, 'o', asOf))
      .where((eb) => liveGroup(eb, 'g'))
      .execute(),
    db
      .selectFrom('user_group_members as m')
      .innerJoin('user_groups as g', 'g.id', 'm.user_group_id')
      .leftJoin('user_group_permission_sets as s', (join) =>
        join
          .onRef('s.user_group_id', '=', 'g.id')
          .on('s.kind', '=', 'members')
          .on((eb) => heldAt(eb, 's', asOf)),
      )
      .select(['g.id', 'g.name', 's.permissions'])
      .where('m.user_id', '=', userId)
      .where((eb) => heldAt(eb, 'm', asOf))
      .where((eb) => liveGroup(eb, 'g'))
      .execute(),
    db
      .selectFrom('user_group_permission_sets as s')
      .innerJoin('user_groups as g', 'g.id', 's.user_group_id')
      .select(['g.id', 'g.name', 's.permissions'])
      .where('s.organisation_id', '=', organisationId)
      .where('s.kind', '=', 'everyone')
      .where('s.permissions', '!=', '')
      .where((eb) => heldAt(eb, 's', asOf))
      .where((eb) => liveGroup(eb, 'g'))
      .execute(),
    db
      .selectFrom('user_group_set_assignees as a')
      .innerJoin('user_group_permission_sets as s', (join) =>
        join
          .onRef('s.user_group_id', '=', 'a.user_group_id')
          .onRef('s.set_id', '=', 'a.set_id')
          .on((eb) => heldAt(eb, 's', asOf)),
      )
      .innerJoin('user_groups as g', 'g.id', 'a.user_group_id')
      .select(['g.id', 'g.name', 's.set_id', 's.name as set_name', 's.permissions'])
      .where('a.assignee_type', '=', 'user')
      .where('a.assignee_id', '=', userId)
      .where((eb) => heldAt(eb, 'a', asOf))
      .where((eb) => liveGroup(eb, 'g'))
      .execute(),
    db
      .selectFrom('user_group_set_assignees as a')
      .innerJoin('user_group_members as m', (join) =>
        join.onRef('m.user_group_id', '=', 'a.assignee_id').on('m.user_id', '=', userId),
      )
      .innerJoin('user_groups as via', 'via.id', 'a.assignee_id')
      .innerJoin('user_group_permission_sets as s', (join) =>
        join
          .onRef('s.user_group_id', '=', 'a.user_group_id')
          .onRef('s.set_id', '=', 'a.set_id')
          .on((eb) => heldAt(eb, 's', asOf)),
      )
      .innerJoin('user_groups as g', 'g.id', 'a.user_group_id')
      .select([
        'g.id',
        'g.name',
        's.set_id',
        's.name as set_name',
        's.permissions',
        'via.id as via_id',
        'via.name as via_name',
      ])
      .where('a.assignee_type', '=', 'user_group')
      .where((eb) => heldAt(eb, 'a', asOf))
      .where((eb) => heldAt(eb, 'm', asOf))
      // The assignee group was live then (deleting it ends its assignments too; this says so here).
      .where('via.organisation_id', '=', organisationId)
      .where((eb) =>
        asOf === undefined
          ? eb('via.deleted_at', 'is', null)
          : eb.or([eb('via.deleted_at', 'is', null), eb('via.deleted_at', '>', asOf)]),
      )
      .where((eb) => liveGroup(eb, 'g'))
      .execute(),
  ]);
  const held: HeldSet[] = [];
  for (const g of owned)
    held.push({
      userGroupId: g.id,
      userGroupName: g.name,
      ...fixedSet('owners'),
      permissions: ownersPermissions,
      via: { type: 'owner' },
    });
  for (const g of memberships) {
    const permissions =
      g.permissions === null ? [...defaultPermissions.members] : parsePermissions(g.permissions);
    if (permissions.length > 0)
      held.push({
        userGroupId: g.id,
        userGroupName: g.name,
        ...fixedSet('members'),
        permissions,
        via: { type: 'member' },
      });
  }
  for (const g of everyone)
    held.push({
      userGroupId: g.id,
      userGroupName: g.name,
      ...fixedSet('everyone'),
      permissions: parsePermissions(g.permissions),
      via: { type: 'everyone' },
    });
  const custom = (row: {
    id: string;
    name: string;
    set_id: string;
    set_name: string;
    permissions: string;
  }) => ({
    userGroupId: row.id,
    userGroupName: row.name,
    setId: row.set_id,
    kind: 'custom' as const,
    name: row.set_name,
    permissions: parsePermissions(row.permissions),
  });
  for (const row of direct)
    if (row.permissions !== '') held.push({ ...custom(row), via: { type: 'direct' } });
  for (const row of throughGroups)
    if (row.permissions !== '')
      held.push({
        ...custom(row),
        via: { type: 'user_group', userGroupId: row.via_id, userGroupName: row.via_name },
      });
  return held.sort(
    (a, b) =>
      a.userGroupName.localeCompare(b.userGroupName) ||
      a.userGroupId.localeCompare(b.userGroupId) ||
      setOrder(a) - setOrder(b) ||
      a.name.localeCompare(b.name),
  );
}

function fixedSet(kind: 'owners' | 'members' | 'everyone') {
  return { setId: fixedSets[kind].id, kind, name: fixedSets[kind].name };
}

function setOrder(set: { kind: PermissionSetKind }): number {
  return ['owners', 'members', 'everyone', 'custom'].indexOf(set.kind);
}

/** The union of the permissions of these sets. */
export function permissionsOf(sets: readonly Pick<HeldSet, 'permissions'>[]): Set<GroupPermission> {
  return new Set(sets.flatMap((s) => s.permissions));
}

type GroupRef = ExpressionBuilder<DB & { g: DB['user_groups'] }, 'g'>;

/**
 * SQL: the user holds, now, some set on group `g` with at least one permission through Members,
 * Everyone or a custom set (owners are asked separately). The list filter's part for sets.
 */
export function holdsSomeSet(eb: GroupRef, userId: string): Expression<SqlBool> {
  const member = eb
    .selectFrom('user_group_members as sm')
    .select('sm.user_id')
    .whereRef('sm.user_group_id', '=', 'g.id')
    .where('sm.user_id', '=', userId)
    .where('sm.valid_to', 'is', null);
  return eb.or([
    // Members hold the Members set, unless it was changed to hold nothing.
    eb.and([
      eb.exists(member),
      eb.not(
        eb.exists(
          eb
            .selectFrom('user_group_permission_sets as ms')
            .select('ms.id')
            .whereRef('ms.user_group_id', '=', 'g.id')
            .where('ms.kind', '=', 'members')
            .where('ms.permissions', '=', '')
            .where('ms.valid_to', 'is', null),
        ),
      ),
    ]),
    eb.exists(
      eb
        .selectFrom('user_group_permission_sets as es')
        .select('es.id')
        .whereRef('es.user_group_id', '=', 'g.id')
        .where('es.kind', '=', 'everyone')
        .where('es.permissions', '!=', '')
        .where('es.valid_to', 'is', null),
    ),
    // Custom sets, assigned directly or through a group the user is in: two reads that each
    // start from the user (by assignee, then the group), never from every set of the group.
    eb.exists(
      eb
        .selectFrom('user_group_set_assignees as a')
        .innerJoin('user_group_permission_sets as cs', (join) =>
          join
            .onRef('cs.user_group_id', '=', 'a.user_group_id')
            .onRef('cs.set_id', '=', 'a.set_id')
            .on('cs.valid_to', 'is', null),
        )
        .select('a.id')
        .where('a.assignee_id', '=', userId)
        .where('a.assignee_type', '=', 'user')
        .whereRef('a.user_group_id', '=', 'g.id')
        .where('a.valid_to', 'is', null)
        .where('cs.permissions', '!=', ''),
    ),
    eb.exists(
      eb
        .selectFrom('user_group_members as am')
        .innerJoin('user_group_set_assignees as a', (join) =>
          join
            .onRef('a.assignee_id', '=', 'am.user_group_id')
            .on('a.assignee_type', '=', 'user_group')
            .on('a.valid_to', 'is', null),
        )
        .innerJoin('user_group_permission_sets as cs', (join) =>
          join
            .onRef('cs.user_group_id', '=', 'a.user_group_id')
            .onRef('cs.set_id', '=', 'a.set_id')
            .on('cs.valid_to', 'is', null),
        )
        .select('a.id')
        .where('am.user_id', '=', userId)
        .where('am.valid_to', 'is', null)
        .whereRef('a.user_group_id', '=', 'g.id')
        .where('cs.permissions', '!=', ''),
    ),
  ]);
}
