import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import { type AuditRun, scopeConcerns, withheldGroup } from './access-audit-run.ts';
import { heldAt } from './history.ts';
import {
  fixedSets,
  type GroupPermission,
  groupPermissions,
  type PermissionSetKind,
  parsePermissions,
} from './permission-sets.ts';
import type { ScopeType } from './scopes.ts';

/**
 * Delegated administrators in the Access Audit Report (issue 15, item 3): who may administer a
 * user group through its permission sets beyond viewing it. The same reading of the sets as
 * `heldSets` (permission-sets.ts), made for a whole organisation at once: the sets, the group
 * assignees and the live groups at T are read once per run, the Members sets and group
 * assignments are folded into each set of memberships (shared by everyone in the same groups),
 * and only owners and direct assignees are read per page of people.
 */

interface Named {
  id: string;
  name: string;
}

/** A set's assignment as the report shows it; a group outside the report's scope is withheld. */
export type AdministrationVia =
  | { type: 'owner' }
  | { type: 'member' }
  | { type: 'everyone' }
  | { type: 'direct' }
  | { type: 'user_group'; userGroup: Named };

/** One group a person may administer, through which set and assignment. */
export interface GroupAdministration {
  userGroup: Named;
  set: { id: string; kind: PermissionSetKind; name: string };
  permissions: GroupPermission[];
  via: AdministrationVia;
}

/** Beyond viewing: what makes a set's holder one of a group's administrators. */
export const administeringPermissions: readonly GroupPermission[] = [
  'edit_details',
  'manage_members',
  'delete',
];

export function administersThrough(permissions: readonly GroupPermission[]): boolean {
  return permissions.some((p) => administeringPermissions.includes(p));
}

interface CustomSet {
  userGroup: Named;
  set: GroupAdministration['set'];
  permissions: GroupPermission[];
}

/** What a run reads once about the organisation's sets, already held to the report's scope. */
export interface AuditSets {
  /** Live groups at T homed in the report's scope. */
  groups: ReadonlyMap<string, Named>;
  /** Everyone sets beyond viewing: every person holds them. */
  everyone: readonly GroupAdministration[];
  /** Per group: what its members hold through it (its Members set, sets it is assigned). */
  throughMembership: ReadonlyMap<string, readonly GroupAdministration[]>;
  /** Custom sets beyond viewing, by `groupId/setId`, for direct assignees. */
  custom: ReadonlyMap<string, CustomSet>;
}

const ownersPermissions: GroupPermission[] = [...groupPermissions];

export async function loadAuditSets(db: Kysely<DB>, run: AuditRun): Promise<AuditSets> {
  const org = run.organisationId;
  const asOf = run.asOf;
  const [groupRows, setRows, assigneeRows] = await Promise.all([
    db
      .selectFrom('user_groups as g')
      .select(['g.id', 'g.name', 'g.home_scope_type', 'g.home_scope_id'])
      .where('g.organisation_id', '=', org)
      .where((eb) =>
        asOf === undefined
          ? eb('g.deleted_at', 'is', null)
          : eb.or([eb('g.deleted_at', 'is', null), eb('g.deleted_at', '>', asOf)]),
      )
      .execute(),
    db
      .selectFrom('user_group_permission_sets as s')
      .select(['s.user_group_id', 's.set_id', 's.kind', 's.name', 's.permissions'])
      .where('s.organisation_id', '=', org)
      .where((eb) => heldAt(eb, 's', asOf))
      .execute(),
    db
      .selectFrom('user_group_set_assignees as a')
      .select(['a.user_group_id', 'a.set_id', 'a.assignee_id'])
      .where('a.organisation_id', '=', org)
      .where('a.assignee_type', '=', 'user_group')
      .where((eb) => heldAt(eb, 'a', asOf))
      .execute(),
  ]);
  const groups = new Map<string, Named>();
  for (const g of groupRows)
    if (scopeConcerns(run, { type: g.home_scope_type as ScopeType, id: g.home_scope_id }))
      groups.set(g.id, { id: g.id, name: g.name });

  const everyone: GroupAdministration[] = [];
  const throughMembership = new Map<string, GroupAdministration[]>();
  const custom = new Map<string, CustomSet>();
  // A Members set with no row holds its default (view), which administers nothing.
  for (const s of setRows) {
    const userGroup = groups.get(s.user_group_id);
    const permissions = parsePermissions(s.permissions);
    if (!userGroup || !administersThrough(permissions)) continue;
    if (s.kind === 'everyone')
      everyone.push({
        userGroup,
        set: fixedSet('everyone'),
        permissions,
        via: { type: 'everyone' },
      });
    else if (s.kind === 'members')
      push(throughMembership, s.user_group_id, {
        userGroup,
        set: fixedSet('members'),
        permissions,
        via: { type: 'member' },
      });
    else
      custom.set(`${s.user_group_id}/${s.set_id}`, {
        userGroup,
        set: { id: s.set_id, kind: 'custom', name: s.name },
        permissions,
      });
  }
  for (const a of assigneeRows) {
    const held = custom.get(`${a.user_group_id}/${a.set_id}`);
    if (!held) continue;
    // The assignee group's members hold the set (a deleted group's assignments end with it).
    push(throughMembership, a.assignee_id, {
      ...held,
      via: { type: 'user_group', userGroup: groups.get(a.assignee_id) ?? withheldGroup },
    });
  }
  for (const list of throughMembership.values()) list.sort(byAdministration);
  return { groups, everyone: everyone.sort(byAdministration), throughMembership, custom };
}

/** A person's owned groups and direct assignments, as rows of the report. */
export function ownedAndDirect(
  sets: AuditSets,
  owned: readonly { user_group_id: string }[],
  direct: readonly { user_group_id: string; set_id: string }[],
): GroupAdministration[] {
  const held: GroupAdministration[] = [];
  for (const o of owned) {
    const userGroup = sets.groups.get(o.user_group_id);
    if (!userGroup) continue;
    held.push({
      userGroup,
      set: fixedSet('owners'),
      permissions: ownersPermissions,
      via: { type: 'owner' },
    });
  }
  for (const d of direct) {
    const set = sets.custom.get(`${d.user_group_id}/${d.set_id}`);
    if (set) held.push({ ...set, via: { type: 'direct' } });
  }
  return held;
}

/** The fixed sets go by their own ids and names, whatever a stored version calls them. */
function fixedSet(kind: 'owners' | 'members' | 'everyone'): GroupAdministration['set'] {
  return { id: fixedSets[kind].id, kind, name: fixedSets[kind].name };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const setOrder: Record<PermissionSetKind, number> = {
  owners: 0,
  members: 1,
  everyone: 2,
  custom: 3,
};
const viaOrder: Record<AdministrationVia['type'], number> = {
  owner: 0,
  member: 1,
  everyone: 2,
  direct: 3,
  user_group: 4,
};

/** By group, then set (owners, members, everyone, custom by name), then assignment. */
export function byAdministration(a: GroupAdministration, b: GroupAdministration): number {
  return (
    compare(a.userGroup.name, b.userGroup.name) ||
    compare(a.userGroup.id, b.userGroup.id) ||
    setOrder[a.set.kind] - setOrder[b.set.kind] ||
    compare(a.set.name, b.set.name) ||
    compare(a.set.id, b.set.id) ||
    viaOrder[a.via.type] - viaOrder[b.via.type] ||
    compare(viaName(a.via), viaName(b.via))
  );
}

function viaName(via: AdministrationVia): string {
  return via.type === 'user_group' ? `${via.userGroup.name}\u0000${via.userGroup.id}` : '';
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
