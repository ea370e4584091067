import type { Kysely } from 'kysely';
import { runPrepared } from '../db/prepared.ts';
import type { DB } from '../db/tables.ts';
import { type Clearance, loadHeldClearances } from './clearances.ts';
import { heldAt } from './history.ts';
import type { GrantableRole } from './roles.ts';
import type { SchoolGroupsBySchool, Scope, ScopeType } from './scopes.ts';

export type GrantSource =
  | { type: 'direct' }
  | { type: 'user_group'; userGroupId: string; userGroupName: string };

/** A role grant the user holds, directly or through a user group. */
export interface HeldGrant {
  grantId: string;
  role: GrantableRole;
  scope: Scope;
  source: GrantSource;
  since: string;
}

/**
 * Everything the decision module needs to know about who is asking. Requests take it from
 * `callers.ts`, which keeps it per session only while nothing it rests on has changed; never
 * changed once built (a kept principal serves concurrent requests).
 */
export interface Principal {
  userId: string;
  organisationId: string;
  grants: readonly HeldGrant[];
  clearances: ReadonlySet<Clearance>;
  schoolGroupsBySchool: SchoolGroupsBySchool;
}

export async function loadHeldGrants(
  db: Kysely<DB>,
  organisationId: string,
  userId: string,
  asOf?: string,
): Promise<HeldGrant[]> {
  const rows = await runPrepared(
    db,
    `principal.grants|${asOf === undefined ? 'now' : 'asOf'}`,
    (p) => {
      const at = asOf === undefined ? undefined : p.value('asOf');
      const columns = heldGrantColumns;
      // Held directly, or through a group: two indexed reads rather than one OR.
      return db
        .selectFrom('role_grants as g')
        .leftJoin('user_groups as ug', 'ug.id', 'g.user_group_id')
        .select(columns)
        .where('g.user_id', '=', p.value('user'))
        .where('g.organisation_id', '=', p.value('org'))
        .where((eb) => heldAt(eb, 'g', at))
        .unionAll(
          db
            .selectFrom('user_group_members as m')
            .innerJoin('role_grants as g', 'g.user_group_id', 'm.user_group_id')
            .innerJoin('user_groups as ug', 'ug.id', 'g.user_group_id')
            .select(columns)
            .where('m.user_id', '=', p.value('user'))
            .where('g.organisation_id', '=', p.value('org'))
            .where((eb) => heldAt(eb, 'm', at))
            .where((eb) => heldAt(eb, 'g', at)),
        )
        .orderBy('valid_from');
    },
    { org: organisationId, user: userId, ...(asOf === undefined ? {} : { asOf }) },
  );

  return rows.map(heldGrantOf);
}

/** The columns a held grant is read from, over `role_grants as g` left-joined to `user_groups as ug`. */
export const heldGrantColumns = [
  'g.id',
  'g.role',
  'g.scope_type',
  'g.scope_id',
  'g.valid_from',
  'g.user_group_id',
  'ug.name as user_group_name',
] as const;

/** A grant as held, from a row of `heldGrantColumns`. */
export function heldGrantOf(row: {
  id: string;
  role: string;
  scope_type: string;
  scope_id: string;
  valid_from: string;
  user_group_id: string | null;
  user_group_name: string | null;
}): HeldGrant {
  return {
    grantId: row.id,
    role: row.role as GrantableRole,
    scope: { type: row.scope_type as ScopeType, id: row.scope_id },
    source:
      row.user_group_id === null
        ? { type: 'direct' }
        : {
            type: 'user_group',
            userGroupId: row.user_group_id,
            userGroupName: row.user_group_name ?? '',
          },
    since: row.valid_from,
  };
}

export async function loadSchoolGroupsBySchool(
  db: Kysely<DB>,
  organisationId: string,
  asOf?: string,
): Promise<SchoolGroupsBySchool> {
  const rows = await runPrepared(
    db,
    `principal.school_groups|${asOf === undefined ? 'now' : 'asOf'}`,
    (p) =>
      db
        .selectFrom('school_group_schools as sgs')
        .select(['sgs.school_id', 'sgs.school_group_id'])
        .where('sgs.organisation_id', '=', p.value('org'))
        .where((eb) => heldAt(eb, 'sgs', asOf === undefined ? undefined : p.value('asOf'))),
    { org: organisationId, ...(asOf === undefined ? {} : { asOf }) },
  );
  const map = new Map<string, Set<string>>();
  for (const row of rows) {
    let groups = map.get(row.school_id);
    if (!groups) {
      groups = new Set();
      map.set(row.school_id, groups);
    }
    groups.add(row.school_group_id);
  }
  return map;
}

export async function loadPrincipal(
  db: Kysely<DB>,
  organisationId: string,
  userId: string,
  asOf?: string,
): Promise<Principal> {
  const [grants, held, schoolGroupsBySchool] = await Promise.all([
    loadHeldGrants(db, organisationId, userId, asOf),
    loadHeldClearances(db, organisationId, userId, asOf),
    loadSchoolGroupsBySchool(db, organisationId, asOf),
  ]);
  const clearances = new Set(held.map((c) => c.clearance));
  return { userId, organisationId, grants, clearances, schoolGroupsBySchool };
}

/**
 * The principal of `haven` commands run on the server itself: Owner of the organisation, with
 * no user and no children visible. Used only by the CLI; the API never builds one.
 */
export function installationPrincipal(organisationId: string): Principal {
  return {
    userId: '',
    organisationId,
    grants: [
      {
        grantId: 'installation',
        role: 'owner',
        scope: { type: 'organisation', id: organisationId },
        source: { type: 'direct' },
        since: new Date(0).toISOString(),
      },
    ],
    clearances: new Set(),
    schoolGroupsBySchool: new Map(),
  };
}
