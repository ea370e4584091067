import { sql } from 'kysely';
import { z } from 'zod';
import {
  type ReviewItemReference,
  requireChangeThroughReview,
} from '../../access/access-reviews.ts';
import type { Clearance } from '../../access/clearances.ts';
import { requireSomewhere, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Scope } from '../../access/scopes.ts';
import {
  administeredHomes,
  defaultHome,
  groupActionAllowed,
  homeOf,
  loadHoldings,
  noHoldings,
  requireAdministersHome,
  requireGroupAction,
  requireVisibleUserGroup,
  userGroupAbilities,
  userGroupVisibleTo,
  type VisibleUserGroup,
} from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import { conflict, HavenError, invalidField, limitExceeded } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { lastReviewedAtOf, lastReviewIdOf, lastReviewOf } from '../access-reviews/last-review.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { listSchoolGroups, listSchools, scopeName } from '../organisations/repository.ts';
import { visibleMemberCounts } from '../student-groups/service.ts';
import { visibleStudentNames } from '../students/repository.ts';
import { likeContains } from '../users/repository.ts';
import { type LinkTarget, limits, UserGroupEditor } from './editor.ts';
import {
  type NewPermissionSet,
  type PermissionSetPatch,
  readPermissionSets,
} from './permission-sets.ts';
import {
  countUserGroups,
  currentLinksOfGroup,
  currentOwners,
  type UserGroupRow,
  userGroupNameTaken,
} from './repository.ts';

export type BatchOperation =
  | { op: 'addMembers'; userIds: string[] }
  | { op: 'removeMembers'; userIds: string[] }
  | { op: 'addOwners'; userIds: string[] }
  | { op: 'removeOwners'; userIds: string[] }
  | ({ op: 'addStudentLink' } & LinkTarget)
  | { op: 'removeStudentLink'; linkId: string }
  | { op: 'setClearances'; clearances: Clearance[] }
  | ({ op: 'createPermissionSet' } & NewPermissionSet)
  | ({ op: 'updatePermissionSet'; setId: string } & PermissionSetPatch)
  | { op: 'deletePermissionSet'; setId: string }
  | {
      op: 'update';
      name?: string | undefined;
      description?: string | undefined;
      rationale?: string | undefined;
    };

export interface NewUserGroup {
  name: string;
  description?: string | undefined;
  rationale?: string | undefined;
}

/**
 * Creates a user group inside the caller's change (the API, school set-up, the CLI). The caller
 * has already decided that the home is one the creator administers.
 */
export async function addUserGroup(
  change: Change,
  organisationId: string,
  input: NewUserGroup & { homeScope: Scope; systemKey?: string },
): Promise<UserGroupRow> {
  const db = change.db;
  if ((await countUserGroups(db, organisationId)) >= limits.userGroupsPerOrganisation) {
    throw limitExceeded(
      `An organisation has at most ${limits.userGroupsPerOrganisation} user groups`,
      limits.userGroupsPerOrganisation,
    );
  }
  if (await userGroupNameTaken(db, organisationId, input.name)) {
    throw conflict(`A user group named "${input.name}" already exists`, 'name_taken');
  }
  const row: UserGroupRow = {
    id: newId(),
    organisation_id: organisationId,
    name: input.name,
    description: input.description ?? '',
    rationale: input.rationale ?? '',
    system_key: input.systemKey ?? null,
    home_scope_type: input.homeScope.type,
    home_scope_id: input.homeScope.id,
    member_count: 0,
    created_at: change.now,
    updated_at: change.now,
    deleted_at: null,
  };
  await db.insertInto('user_groups').values(row).execute();
  change.record({
    action: 'user_group.create',
    targetType: 'user_group',
    targetId: row.id,
    after: {
      name: row.name,
      description: row.description,
      rationale: row.rationale,
      homeScope: input.homeScope,
    },
  });
  return row;
}

const nameCursor = z.tuple([z.string(), z.string()]);

/** Groups at least this large list members by walking users in name order. */
const denseGroupSize = 5_000;

export class UserGroupService {
  constructor(private readonly database: Database) {}

  /** The group as the caller may see it (`src/access/user-groups.ts`), or 404. */
  #visibleGroup(principal: Principal, groupId: string): Promise<VisibleUserGroup> {
    return requireVisibleUserGroup(this.database.db, principal, groupId);
  }

  /**
   * A group is homed where its creator says, at a scope where they are Admin or higher; if
   * they do not say, at the one broadest scope they administer (see docs/decisions.md).
   */
  async create(
    principal: Principal,
    input: NewUserGroup & { homeScope?: Scope | undefined },
    origin: ChangeOrigin,
  ) {
    requireSomewhere(principal, 'user_groups.manage');
    const homeScope = input.homeScope ?? defaultHome(principal);
    if (!homeScope) {
      throw invalidField(
        'homeScope',
        'say where the group is administered from: you are an Admin at more than one school',
      );
    }
    if ((await scopeName(this.database.db, principal.organisationId, homeScope)) === undefined) {
      throw new HavenError(
        404,
        'not_found',
        'Not found',
        `Scope ${homeScope.type} ${homeScope.id} not found`,
        { field: 'homeScope.id' },
      );
    }
    requireAdministersHome(principal, homeScope);
    const row = await runChange(this.database, origin, (change) =>
      addUserGroup(change, principal.organisationId, { ...input, homeScope }),
    );
    return this.get(principal, row.id);
  }

  /** The scopes where the caller may home a new group, each with its name. */
  async homes(principal: Principal) {
    const db = this.database.db;
    const org = principal.organisationId;
    const homes = administeredHomes(principal);
    const [schools, schoolGroups] = await Promise.all([
      listSchools(db, org),
      listSchoolGroups(db, org),
    ]);
    const items: (Scope & { name: string })[] = [];
    if (homes === 'all') {
      items.push({
        type: 'organisation',
        id: org,
        name: (await scopeName(db, org, { type: 'organisation', id: org })) ?? '',
      });
    }
    for (const g of schoolGroups)
      if (homes === 'all' || homes.schoolGroups.includes(g.id))
        items.push({ type: 'school_group', id: g.id, name: g.name });
    for (const s of schools)
      if (homes === 'all' || homes.schools.includes(s.id))
        items.push({ type: 'school', id: s.id, name: s.name });
    return { items, default: defaultHome(principal) ?? null };
  }

  async list(
    principal: Principal,
    query: { q?: string | undefined; limit: number; cursor?: string | undefined },
  ) {
    const db = this.database.db;
    const after = decodeCursor(query.cursor, nameCursor);
    let select = db
      .selectFrom('user_groups as g')
      .selectAll('g')
      .select((eb) => [
        lastReviewedAtOf(eb).as('last_reviewed_at'),
        lastReviewIdOf(eb).as('last_review_id'),
      ])
      .where((eb) => userGroupVisibleTo(eb, principal));
    if (query.q)
      select = select.where(sql<boolean>`lower(g.name) like ${likeContains(query.q)} escape '\\'`);
    if (after) {
      select = select.where((eb) =>
        eb.or([
          eb('g.name', '>', after[0]),
          eb.and([eb('g.name', '=', after[0]), eb('g.id', '>', after[1])]),
        ]),
      );
    }
    const rows = await select
      .orderBy('g.name')
      .orderBy('g.id')
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      (row) => ({
        id: row.id,
        name: row.name,
        description: row.description,
        memberCount: row.member_count,
        system: row.system_key !== null,
        homeScope: homeOf(row),
        lastReviewedAt: row.last_reviewed_at ?? null,
        lastReviewId: row.last_review_id ?? null,
      }),
      (row) => [row.name, row.id],
    );
  }

  /** A group with everything it holds, and what the caller may do with it. */
  async get(principal: Principal, groupId: string) {
    const { group, standing } = await this.#visibleGroup(principal, groupId);
    const db = this.database.db;
    const home = homeOf(group);
    const [owners, holdings, links, homeName, lastReview] = await Promise.all([
      currentOwners(db, groupId),
      loadHoldings(db, groupId),
      currentLinksOfGroup(db, groupId),
      scopeName(db, principal.organisationId, home),
      lastReviewOf(db, groupId),
    ]);
    const studentIds = links.flatMap((l) => (l.student_id ? [l.student_id] : []));
    const names = await visibleStudentNames(
      db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      studentIds,
    );
    const visible = new Set(names.keys());
    const linkedGroups = links.flatMap((l) => (l.student_group_id ? [l.student_group_id] : []));
    const sizes =
      linkedGroups.length === 0
        ? new Map<string, number>()
        : await visibleMemberCounts(
            db,
            principal,
            db.selectFrom('student_groups').select('id').where('id', 'in', linkedGroups),
          );
    return {
      id: group.id,
      name: group.name,
      description: group.description,
      rationale: group.rationale,
      memberCount: group.member_count,
      system: group.system_key !== null,
      createdAt: group.created_at,
      updatedAt: group.updated_at,
      homeScope: { ...home, name: homeName ?? '' },
      ...lastReview,
      owners: owners.map((o) => ({ id: o.id, name: o.name, email: o.email })),
      clearances: [...holdings.clearances],
      roleGrants: holdings.grants.map((g) => ({
        id: g.id,
        role: g.role,
        scope: g.scope,
        reason: g.reason,
      })),
      studentLinks: links.map((l) => ({
        id: l.id,
        since: l.valid_from,
        studentGroup: l.student_group_id
          ? {
              id: l.student_group_id,
              name: l.student_group_name ?? '',
              kind: l.student_group_kind ?? '',
              // Of the children the caller can see, as everywhere a group's size is shown.
              size: sizes.get(l.student_group_id) ?? 0,
            }
          : null,
        // A linked child the caller cannot see is shown without name or identifier.
        student:
          l.student_id && visible.has(l.student_id)
            ? { id: l.student_id, name: names.get(l.student_id) ?? '' }
            : null,
        redacted: l.student_id !== null && !visible.has(l.student_id),
      })),
      abilities: userGroupAbilities(principal, standing, holdings),
    };
  }

  /** The group's permission sets, to whoever may see the group, and whether they may change them. */
  async permissionSets(principal: Principal, groupId: string) {
    const { group, standing } = await this.#visibleGroup(principal, groupId);
    requireGroupAction(principal, standing, noHoldings, 'view');
    return {
      items: await readPermissionSets(this.database.db, principal, group),
      abilities: {
        manage: groupActionAllowed(principal, standing, noHoldings, 'manage_permission_sets'),
      },
    };
  }

  /**
   * Members by name, one query per page. A large group is read in name order with a
   * membership check per user; a small one from its memberships, then sorted.
   */
  async members(
    principal: Principal,
    groupId: string,
    query: { q?: string | undefined; limit: number; cursor?: string | undefined },
  ) {
    const { group, standing } = await this.#visibleGroup(principal, groupId);
    // Seeing a group is not seeing who is in it: `view_members` (spec section 5).
    requireGroupAction(principal, standing, noHoldings, 'view_members');
    const db = this.database.db;
    const after = decodeCursor(query.cursor, nameCursor);
    // Past a few thousand members, sorting them all costs more than walking staff in name order
    // and checking each; below it, the memberships are read and sorted. (Counting the
    // organisation's users to decide took 100 ms on a million.)
    const dense = group.member_count >= denseGroupSize;
    let select = db
      .selectFrom('users as u')
      .select(['u.id', 'u.name', 'u.email', 'u.disabled_at'])
      .where('u.organisation_id', '=', principal.organisationId)
      .where('u.removed_at', 'is', null);
    select = dense
      ? select.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('user_group_members as m')
              .select('m.user_id')
              .where('m.user_group_id', '=', groupId)
              .whereRef('m.user_id', '=', 'u.id')
              .where('m.valid_to', 'is', null),
          ),
        )
      : select.where(
          'u.id',
          'in',
          db
            .selectFrom('user_group_members as m')
            .select('m.user_id')
            .where('m.user_group_id', '=', groupId)
            .where('m.valid_to', 'is', null),
        );
    if (query.q) {
      const pattern = likeContains(query.q);
      select = select.where(
        sql<boolean>`(lower(u.name) like ${pattern} escape '\\' or u.email like ${pattern} escape '\\')`,
      );
    }
    if (after) {
      select = select.where((eb) =>
        eb.or([
          eb('u.name', '>', after[0]),
          eb.and([eb('u.name', '=', after[0]), eb('u.id', '>', after[1])]),
        ]),
      );
    }
    const rows = await select
      .orderBy('u.name')
      .orderBy('u.id')
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      (row) => ({
        id: row.id,
        name: row.name,
        email: row.email,
        status: row.disabled_at ? 'disabled' : 'active',
      }),
      (row) => [row.name, row.id],
    );
  }

  /**
   * Staff the caller could add to the group or name in its sets: for those who may manage its
   * members, owners or sets (a set holder need not hold `users.manage`), names and emails only.
   */
  async candidates(principal: Principal, groupId: string, query: { q?: string | undefined }) {
    const { group, standing } = await this.#visibleGroup(principal, groupId);
    const db = this.database.db;
    const holdings = await loadHoldings(db, group.id);
    const may = (['manage_members', 'manage_owners', 'manage_permission_sets'] as const).some(
      (action) => groupActionAllowed(principal, standing, holdings, action),
    );
    if (!may) requireGroupAction(principal, standing, holdings, 'manage_members');
    let select = db
      .selectFrom('users as u')
      .select(['u.id', 'u.name', 'u.email'])
      .where('u.organisation_id', '=', principal.organisationId)
      .where('u.removed_at', 'is', null)
      .where('u.disabled_at', 'is', null);
    if (query.q) {
      const pattern = likeContains(query.q);
      select = select.where(
        sql<boolean>`(lower(u.name) like ${pattern} escape '\\' or u.email like ${pattern} escape '\\')`,
      );
    }
    const rows = await select.orderBy('u.name').orderBy('u.id').limit(20).execute();
    return { items: rows };
  }

  /** Runs edits on one group in one change: all of them, or (on the first failure) none. */
  async edit<T>(
    principal: Principal,
    groupId: string,
    origin: ChangeOrigin,
    work: (editor: UserGroupEditor) => Promise<T>,
  ): Promise<T> {
    const { group } = await this.#visibleGroup(principal, groupId);
    return runChange(this.database, origin, async (change) =>
      work(new UserGroupEditor(change, principal, group)),
    );
  }

  /**
   * A batch inside a change the caller holds (the widening preview runs it in one it rolls back):
   * the group is looked up through the change's own handle.
   */
  async batchIn(
    change: Change,
    principal: Principal,
    groupId: string,
    operations: BatchOperation[],
  ): Promise<void> {
    const { group } = await requireVisibleUserGroup(change.db, principal, groupId);
    const editor = new UserGroupEditor(change, principal, group);
    for (const operation of operations) await applyOperation(editor, operation);
  }

  async batch(
    principal: Principal,
    groupId: string,
    operations: BatchOperation[],
    origin: ChangeOrigin,
    /** The access review item the edits are made through: checked, and on every audit row. */
    review?: ReviewItemReference,
  ) {
    const through = review ? { ...origin, meta: { ...origin.meta, ...review } } : origin;
    return this.edit(principal, groupId, through, async (editor) => {
      if (review) await requireChangeThroughReview(editor.db, principal, groupId, review);
      const results: unknown[] = [];
      for (const [index, operation] of operations.entries()) {
        try {
          results.push(await applyOperation(editor, operation));
        } catch (error) {
          if (error instanceof HavenError) {
            error.extra.operationIndex = index;
            error.extra.operation = operation.op;
          }
          throw error;
        }
      }
      return { applied: operations.length, results };
    });
  }
}

/** One batch operation through the editor (also used by the widening preview's trial). */
export async function applyOperation(
  editor: UserGroupEditor,
  operation: BatchOperation,
): Promise<unknown> {
  switch (operation.op) {
    case 'addMembers':
      return editor.addMembers(operation.userIds);
    case 'removeMembers':
      return editor.removeMembers(operation.userIds);
    case 'addOwners':
      return editor.addOwners(operation.userIds);
    case 'removeOwners':
      return editor.removeOwners(operation.userIds);
    case 'addStudentLink':
      return {
        linkId: await editor.addStudentLink({
          studentGroupId: operation.studentGroupId,
          studentId: operation.studentId,
          confirm: operation.confirm,
          rationale: operation.rationale,
        }),
      };
    case 'removeStudentLink':
      await editor.removeStudentLink(operation.linkId);
      return {};
    case 'setClearances':
      return { clearances: await editor.setClearances(operation.clearances) };
    case 'update':
      await editor.update(operation);
      return {};
    case 'createPermissionSet':
      return {
        setId: (
          await editor.createPermissionSet({
            name: operation.name,
            permissions: operation.permissions,
            assignees: operation.assignees,
          })
        ).id,
      };
    case 'updatePermissionSet':
      await editor.updatePermissionSet(operation.setId, {
        name: operation.name,
        permissions: operation.permissions,
        assignees: operation.assignees,
      });
      return {};
    case 'deletePermissionSet':
      await editor.deletePermissionSet(operation.setId);
      return {};
  }
}
