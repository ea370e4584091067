import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import SCIMMY from 'scimmy';
import { requireProvisionableGroup } from '../../access/scim.ts';
import type { Scope } from '../../access/scopes.ts';
import {
  loadHoldings,
  requireAdministersHome,
  requireVisibleUserGroup,
} from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';
import { HavenError } from '../../lib/errors.ts';
import { laterOf } from '../../lib/time.ts';
import { type Change, runChange } from '../audit/change.ts';
import { UserGroupEditor } from '../user-groups/editor.ts';
import {
  addUserGroup,
  type BatchOperation,
  type UserGroupService,
} from '../user-groups/service.ts';
import {
  bodyObject,
  type Comparison,
  type ListQuery,
  leavesOut,
  listResponse,
  type PatchOperation,
  paging,
  parseFilter,
  patchOperations,
  readPage,
  rootAttribute,
  schemaIds,
  scimError,
  selectAttributes,
  splitPathless,
  textValue,
  underScimmy,
  unsupportedFilter,
} from './protocol.ts';
import type { ScimCaller } from './tokens.ts';

/**
 * SCIM Groups (RFC 7643 section 4.2) as Haven's user groups. Every change goes through the
 * user-group service and its editor, so the checks of the Users and Groups API hold (who
 * administers the group, anti-escalation rules 1 to 5, at least one Owner, the limits), and the
 * security alerts and audit rows it writes are written here too; the token's own rule
 * (`requireProvisionableGroup`) keeps it away from any group conferring Owner, DSL, Deputy DSL or
 * a clearance. The groups Haven makes itself (a school's Safeguarding Team, its Allegations
 * group, All staff...) are not SCIM resources: they are never listed and answer 404.
 */

type Joined = DB & { g: DB['user_groups']; sg: DB['scim_groups'] };
type GroupBuilder = ExpressionBuilder<Joined, 'g' | 'sg'>;

const FILTERABLE = "displayName, externalId, id and members.value with 'eq'";

function groupComparison(eb: GroupBuilder, c: Comparison): Expression<SqlBool> {
  if (c.op === 'pr' && c.path === 'externalid') return eb('sg.external_id', 'is not', null);
  if (c.op !== 'eq') unsupportedFilter(c, FILTERABLE);
  switch (c.path) {
    case 'displayname':
      return eb(eb.fn('lower', ['g.name']), '=', textValue(c).toLowerCase());
    case 'externalid':
      return eb('sg.external_id', '=', textValue(c));
    case 'id':
      return eb('g.id', '=', textValue(c));
    case 'members':
    case 'members.value':
      return eb.exists(
        eb
          .selectFrom('user_group_members as m')
          .select('m.user_id')
          .whereRef('m.user_group_id', '=', 'g.id')
          .where('m.user_id', '=', textValue(c))
          .where('m.valid_to', 'is', null),
      );
    default:
      unsupportedFilter(c, FILTERABLE);
  }
}

/** The organisation's live groups that provisioning sees: not the ones Haven makes itself. */
function selectGroups(db: Kysely<DB>, organisationId: string) {
  return db
    .selectFrom('user_groups as g')
    .leftJoin('scim_groups as sg', 'sg.user_group_id', 'g.id')
    .select([
      'g.id',
      'g.name',
      'g.created_at',
      'g.updated_at',
      'sg.external_id',
      'sg.updated_at as scim_updated_at',
    ])
    .where('g.organisation_id', '=', organisationId)
    .where('g.deleted_at', 'is', null)
    .where('g.system_key', 'is', null);
}

type GroupRecord = Awaited<ReturnType<ReturnType<typeof selectGroups>['executeTakeFirstOrThrow']>>;

async function findGroupRecord(db: Kysely<DB>, organisationId: string, groupId: string) {
  const row = await selectGroups(db, organisationId).where('g.id', '=', groupId).executeTakeFirst();
  if (!row) throw scimError(404, undefined, `Group ${groupId} not found`);
  return row;
}

interface Member {
  value: string;
  display: string;
  $ref: string;
  type: 'User';
}

/** The current members of these groups, by name: one query for a page of groups. */
async function membersOf(db: Kysely<DB>, groupIds: readonly string[], base: string) {
  const members = new Map<string, Member[]>(groupIds.map((id) => [id, []]));
  for (const slice of chunks(groupIds)) {
    if (slice.length === 0) continue;
    const rows = await db
      .selectFrom('user_group_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_group_id', 'u.id', 'u.name'])
      .where('m.user_group_id', 'in', slice)
      .where('m.valid_to', 'is', null)
      .where('u.removed_at', 'is', null)
      .orderBy('u.name')
      .orderBy('u.id')
      .execute();
    for (const row of rows) {
      members.get(row.user_group_id)?.push({
        value: row.id,
        display: row.name,
        $ref: `${base}/Users/${row.id}`,
        type: 'User',
      });
    }
  }
  return members;
}

function presentGroup(row: GroupRecord, base: string, members: Member[] | undefined) {
  return {
    schemas: [schemaIds.group],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    displayName: row.name,
    ...(members ? { members } : {}),
    meta: {
      resourceType: 'Group',
      created: row.created_at,
      lastModified: row.scim_updated_at
        ? laterOf(row.updated_at, row.scim_updated_at)
        : row.updated_at,
      location: `${base}/Groups/${row.id}`,
    },
  };
}

const NAME_MAX = 200;

function checkedName(displayName: unknown): string {
  const name = typeof displayName === 'string' ? displayName.trim() : '';
  if (name === '') throw scimError(400, 'invalidValue', 'displayName is required');
  if (name.length > NAME_MAX)
    throw scimError(400, 'invalidValue', `A group's name has at most ${NAME_MAX} characters`);
  return name;
}

function externalIdOf(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** The user ids of a `members` value: `[{ "value": "<id>" }, ...]` (or one such object). */
function memberIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((member) => {
    const id = (member as { value?: unknown } | null)?.value;
    if (typeof id !== 'string' || id === '')
      throw scimError(400, 'invalidValue', 'Each member is given as { "value": "<user id>" }');
    return id;
  });
}

interface GroupInput {
  name: string;
  externalId: string | null;
  members: string[] | undefined;
}

/** A Group body (POST, PUT) through SCIMMY's Group schema. */
async function readGroup(body: unknown): Promise<GroupInput> {
  const group = (await underScimmy(
    () => new SCIMMY.Schemas.Group(bodyObject(body), 'in'),
  )) as unknown as { displayName?: unknown; externalId?: unknown; members?: unknown };
  return {
    name: checkedName(group.displayName),
    externalId: externalIdOf(group.externalId),
    members: group.members === undefined ? undefined : memberIds(group.members),
  };
}

/**
 * Membership operations of a PATCH, in order, as the net set of users to add and to remove, or
 * the whole membership when an operation replaces it. Entra ID's shapes: `add` with
 * `path: "members"` and a list of `{ value }`; `remove` with `members[value eq "<id>"]`, or with
 * `path: "members"` and a list; `replace` with the whole list.
 */
class MembershipChange {
  readonly adds = new Set<string>();
  readonly removes = new Set<string>();
  replacement: Set<string> | null = null;

  add(ids: readonly string[]) {
    for (const id of ids) {
      this.adds.add(id);
      this.removes.delete(id);
      this.replacement?.add(id);
    }
  }

  remove(ids: readonly string[]) {
    for (const id of ids) {
      this.removes.add(id);
      this.adds.delete(id);
      this.replacement?.delete(id);
    }
  }

  replace(ids: readonly string[]) {
    this.adds.clear();
    this.removes.clear();
    this.replacement = new Set(ids);
  }

  get empty() {
    return this.replacement === null && this.adds.size === 0 && this.removes.size === 0;
  }

  apply(operation: PatchOperation) {
    const path = operation.path ?? 'members';
    const match = /^members(?:\[(.*)\])?(\..+)?$/is.exec(
      path.replace(/^urn:ietf:params:scim:schemas:core:2\.0:group:/i, ''),
    );
    if (!match || match[2] !== undefined)
      throw scimError(400, 'invalidPath', `Haven changes members as a whole, not '${path}'`);
    const selected = match[1] === undefined ? undefined : selectedMembers(match[1]);
    switch (operation.op) {
      case 'add':
        if (selected) throw scimError(400, 'invalidPath', `'add' takes the path "members"`);
        return this.add(memberIds(operation.value));
      case 'remove':
        if (selected) return this.remove(selected);
        if (operation.value === undefined) return this.replace([]);
        return this.remove(memberIds(operation.value));
      case 'replace':
        if (selected) {
          this.remove(selected);
          return this.add(memberIds(operation.value));
        }
        return this.replace(operation.value === undefined ? [] : memberIds(operation.value));
    }
    throw scimError(400, 'invalidSyntax', `Invalid operation '${operation.op}'`);
  }
}

/** The members a path filter names: `value eq "<id>"`, or several joined with `or`. */
function selectedMembers(filter: string): string[] {
  return parseFilter(filter).map((branch) => {
    const [only] = branch;
    if (branch.length !== 1 || !only || only.path !== 'value' || only.op !== 'eq')
      throw scimError(400, 'invalidFilter', 'Members are chosen by value eq "<user id>"');
    return textValue(only);
  });
}

/** A user id that is not a user of the organisation, in SCIM's words. */
function asScimMemberError(error: unknown): unknown {
  if (error instanceof HavenError && error.status === 404 && error.extra.field === 'userIds')
    return scimError(
      400,
      'invalidValue',
      `${error.detail}: members are users of this organisation`,
    );
  return error;
}

export class ScimGroups {
  constructor(
    private readonly database: Database,
    private readonly userGroups: UserGroupService,
    private readonly base: string,
  ) {}

  async list(caller: ScimCaller, query: ListQuery) {
    const { offset, count } = paging(query);
    const branches = query.filter ? parseFilter(query.filter) : null;
    const db = this.database.db;
    let select = selectGroups(db, caller.organisationId);
    if (branches) {
      select = select.where((eb) =>
        eb.or(branches.map((branch) => eb.and(branch.map((c) => groupComparison(eb, c))))),
      );
    }
    const { rows: page, total } = await readPage(select.orderBy('g.id'), { offset, count });
    const members = leavesOut('members', query)
      ? undefined
      : await membersOf(
          db,
          page.map((row) => row.id),
          this.base,
        );
    return listResponse(
      page.map((row) =>
        selectAttributes(presentGroup(row, this.base, members?.get(row.id)), query),
      ),
      total,
      offset,
    );
  }

  async get(caller: ScimCaller, groupId: string, query: ListQuery = {}) {
    return selectAttributes(await this.#read(this.database.db, caller, groupId, query), query);
  }

  async #read(db: Kysely<DB>, caller: ScimCaller, groupId: string, query: ListQuery = {}) {
    const row = await findGroupRecord(db, caller.organisationId, groupId);
    const members = leavesOut('members', query)
      ? undefined
      : (await membersOf(db, [groupId], this.base)).get(groupId);
    return presentGroup(row, this.base, members);
  }

  /** A new group homed at the organisation (the token's scope), with its first members. */
  async create(caller: ScimCaller, body: unknown) {
    const input = await readGroup(body);
    const organisationId = caller.organisationId;
    const home: Scope = { type: 'organisation', id: organisationId };
    requireAdministersHome(caller.principal, home);
    return runChange(this.database, caller.origin, async (change) => {
      const row = await addUserGroup(change, organisationId, { name: input.name, homeScope: home });
      await this.#keepExternalId(change, organisationId, row.id, null, input.externalId);
      if (input.members && input.members.length > 0)
        await this.#batch(change, caller, row.id, [{ op: 'addMembers', userIds: input.members }]);
      return this.#read(change.db, caller, row.id);
    });
  }

  /** PUT: the name, externalId and whole membership as given. */
  async replace(caller: ScimCaller, groupId: string, body: unknown) {
    const input = await readGroup(body);
    return runChange(this.database, caller.origin, async (change) => {
      const before = await findGroupRecord(change.db, caller.organisationId, groupId);
      const membership = new MembershipChange();
      if (input.members !== undefined) membership.replace(input.members);
      await this.#change(change, caller, before, {
        name: input.name,
        externalId: input.externalId,
        membership,
      });
      return this.#read(change.db, caller, groupId);
    });
  }

  /**
   * PATCH: membership operations are turned into the editor's adds and removes (a group may hold
   * a million members, so they are not rebuilt in memory); the group's own attributes go through
   * SCIMMY's PatchOp on the group as Haven shows it without its members.
   */
  async patch(caller: ScimCaller, groupId: string, body: unknown): Promise<undefined> {
    const membership = new MembershipChange();
    const attributeOperations: PatchOperation[] = [];
    for (const operation of patchOperations(body)) {
      const { taken, rest } = splitPathless(operation, (a) => rootAttribute(a) === 'members');
      for (const each of taken) membership.apply(each);
      if (!rest) continue;
      if (rest.path !== undefined && rootAttribute(rest.path) === 'members') {
        membership.apply(rest);
        continue;
      }
      const paths = rest.path !== undefined ? [rest.path] : Object.keys(rest.value as object);
      for (const path of paths) {
        const root = rootAttribute(path);
        if (root === 'id' || root === 'meta')
          throw scimError(400, 'mutability', `'${root}' is read-only`);
      }
      attributeOperations.push(rest);
    }
    await runChange(this.database, caller.origin, async (change) => {
      const before = await findGroupRecord(change.db, caller.organisationId, groupId);
      let name = before.name;
      let externalId = before.external_id;
      if (attributeOperations.length > 0) {
        const shown = presentGroup(before, this.base, undefined);
        const patched = (await underScimmy(async () => {
          const resource = new SCIMMY.Schemas.Group(shown, 'out');
          const message = new SCIMMY.Messages.PatchOp({
            schemas: [schemaIds.patchOp],
            Operations: attributeOperations,
          } as never);
          return (await message.apply(resource)) ?? resource;
        })) as unknown as { displayName?: unknown; externalId?: unknown };
        name = checkedName(patched.displayName);
        externalId = externalIdOf(patched.externalId);
      }
      await this.#change(change, caller, before, { name, externalId, membership });
    });
    // Answered 204 No Content, as RFC 7644 section 3.5.2 allows: a group's members can be many.
    return undefined;
  }

  /** DELETE: the group ends, with everything it conferred (history kept), as the API's delete. */
  async remove(caller: ScimCaller, groupId: string): Promise<void> {
    await runChange(this.database, caller.origin, async (change) => {
      await findGroupRecord(change.db, caller.organisationId, groupId);
      requireProvisionableGroup(await loadHoldings(change.db, groupId));
      const { group } = await requireVisibleUserGroup(change.db, caller.principal, groupId);
      await new UserGroupEditor(change, caller.principal, group).delete();
    });
  }

  async #change(
    change: Change,
    caller: ScimCaller,
    before: GroupRecord,
    next: { name: string; externalId: string | null; membership: MembershipChange },
  ) {
    const { membership } = next;
    let adds = [...membership.adds];
    let removes = [...membership.removes];
    if (membership.replacement) {
      const current = await currentMemberIds(change.db, before.id);
      adds = [...membership.replacement].filter((id) => !current.has(id));
      removes = [...current].filter((id) => !membership.replacement!.has(id));
    }
    const operations: BatchOperation[] = [];
    if (next.name !== before.name) operations.push({ op: 'update', name: next.name });
    if (adds.length > 0) operations.push({ op: 'addMembers', userIds: adds });
    if (removes.length > 0) operations.push({ op: 'removeMembers', userIds: removes });
    const externalIdChanges = next.externalId !== before.external_id;
    if (operations.length === 0 && !externalIdChanges) return;
    requireProvisionableGroup(await loadHoldings(change.db, before.id));
    if (operations.length > 0) await this.#batch(change, caller, before.id, operations);
    if (externalIdChanges)
      await this.#keepExternalId(
        change,
        caller.organisationId,
        before.id,
        before.external_id,
        next.externalId,
      );
  }

  /** Edits through the user-group service, in this change, with the token's authority. */
  async #batch(change: Change, caller: ScimCaller, groupId: string, operations: BatchOperation[]) {
    try {
      await this.userGroups.batchIn(change, caller.principal, groupId, operations);
    } catch (error) {
      throw asScimMemberError(error);
    }
  }

  async #keepExternalId(
    change: Change,
    organisationId: string,
    groupId: string,
    before: string | null,
    externalId: string | null,
  ) {
    const kept = { external_id: externalId, updated_at: change.now };
    await change.db
      .insertInto('scim_groups')
      .values({ user_group_id: groupId, organisation_id: organisationId, ...kept })
      .onConflict((oc) => oc.column('user_group_id').doUpdateSet(kept))
      .execute();
    if (before === externalId) return;
    change.record({
      action: 'user_group.external_id',
      targetType: 'user_group',
      targetId: groupId,
      before: { externalId: before },
      after: { externalId },
    });
  }
}

async function currentMemberIds(db: Kysely<DB>, groupId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('user_group_members')
    .select('user_id')
    .where('user_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}
