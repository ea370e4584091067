import { type Kysely, type SqlBool, sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import {
  type AuditSets,
  byAdministration,
  type GroupAdministration,
  loadAuditSets,
  ownedAndDirect,
} from './access-audit-administration.ts';
import type { AccessAuditFlag } from './access-audit-flags.ts';
import {
  type AuditGroup,
  type AuditRun,
  andInto,
  clearBit,
  emptySet,
  inIds,
  loadAuditRun,
  orInto,
  popcount,
  type StudentSet,
  scopeConcerns,
  scopeKey,
  setBit,
  withheldGroup,
} from './access-audit-run.ts';
import type { Clearance } from './clearances.ts';
import { can, permissionDenied, schoolsWith } from './decide.ts';
import { heldAt } from './history.ts';
import type { HeldGrant, Principal } from './principal.ts';
import { type GrantableRole, type Role, rankOf } from './roles.ts';
import type { Scope, ScopeType } from './scopes.ts';

/**
 * The Access Audit Report (issue 14, item 1): one row per person in the report's scope, with what
 * they hold there and how many children they can reach, as now or as of a past time. Counts only:
 * never a child's name or id.
 */

export type { AdministrationVia, GroupAdministration } from './access-audit-administration.ts';
export { type AccessAuditFlag, accessAuditFlags } from './access-audit-flags.ts';

export interface Named {
  id: string;
  name: string;
}

export { withheldGroup } from './access-audit-run.ts';

/**
 * One person's row. Its lists may be shared with other rows of the same run (people in the same
 * user groups) and are then frozen: copy one before changing it.
 */
export interface AccessAuditRow {
  userId: string;
  name: string;
  email: string;
  status: 'invited' | 'active' | 'disabled';
  /** Roles held at scopes covering the report's scope or inside it, with their source. */
  roles: {
    /** The role grant (the engine always sets it; optional for rows made by hand elsewhere). */
    grantId?: string;
    role: Role;
    scope: Scope & { name: string };
    /** Null: granted to the person directly; {@link withheldGroup}: a group outside the scope. */
    via: Named | null;
    reason: string | null;
  }[];
  userGroups: Named[];
  /** Student groups the person's user groups are linked to, in the report's scope. */
  studentGroups: (Named & { kind: string; via: Named[] })[];
  /** Children linked to the person one by one (directly or through a group): a count. */
  directStudentLinks: number;
  /** Children of the report's scope the person can see: the student-visibility rule, counted. */
  reachableStudents: number;
  clearances: { clearance: Clearance; via: Named }[];
  /** Blocks held against the person, on children of the report's scope: a count. */
  blocks: number;
  /**
   * Delegated administration: the groups of the report's scope the person may administer
   * through a permission set beyond viewing (Owners, or a set holding edit_details,
   * manage_members or delete), each with the set and the assignment it is held through.
   */
  groupAdministration: GroupAdministration[];
  twoFactor: boolean;
  lastSignInAt: string | null;
  flags: AccessAuditFlag[];
}

export interface AccessAuditRequest {
  organisationId: string;
  /** The organisation, a school group or a school. */
  scope: Scope;
  /** A past time, or undefined for now. */
  asOf?: string | undefined;
  /** The instant the run is taken at (dormancy is counted back from asOf ?? now). */
  now: string;
  /** People per page (default {@link accessAuditPageSize}); tests page through small ones. */
  pageSize?: number | undefined;
  /**
   * Per-person tables with at most this many rows are read once per run (default
   * {@link accessAuditPreloadLimit}); 0 reads every kind page by page, as a large trust does.
   */
  preloadLimit?: number | undefined;
}

/**
 * Who may run the report for which scope: `reports.access_audit` (Admin or higher) held at a
 * scope covering the requested one. An Admin of a school runs it for that school only; the
 * organisation's report needs a role at the organisation. A scope of another organisation is
 * refused. (Whether a school or school group exists is the caller's 404 to answer.)
 */
export function accessAuditScopeAllowed(principal: Principal, scope: Scope): boolean {
  if (scope.type === 'organisation' && scope.id !== principal.organisationId) return false;
  return can(principal, 'reports.access_audit', scope);
}

/** Throws the same 403 as `requirePermission` when {@link accessAuditScopeAllowed} refuses. */
export function requireAccessAuditScope(principal: Principal, scope: Scope): void {
  if (!accessAuditScopeAllowed(principal, scope)) throw permissionDenied('reports.access_audit');
}

/** People per page: one set of queries per page, whatever the organisation's size. */
export const accessAuditPageSize = 10_000;

const DAY_MS = 24 * 60 * 60 * 1000;
/** An account unused for longer than this is dormant. */
export const dormantAfterDays = 90;

/**
 * The report's rows in order of name, then id, produced a page of people at a time so that a
 * million-person trust streams through bounded memory. Each page is read with one query per
 * kind (the page of users, their grants, memberships, direct links, blocks, two-factor
 * enrolments, owned groups, direct permission-set assignments and, as of a past time, sign-ins);
 * the groups' permission sets are read once per run (`loadAuditSets`); the children each person
 * can see are counted over bitsets loaded once per run (`loadAuditRun`), with the role part
 * decided by `schoolsWith(principal, 'students.view')` as the student list decides it.
 */
export async function* accessAuditRows(
  db: Kysely<DB>,
  request: AccessAuditRequest,
): AsyncGenerator<AccessAuditRow> {
  const asOf = request.asOf === undefined ? undefined : new Date(request.asOf).toISOString();
  const now = new Date(request.now).toISOString();
  const run = await loadAuditRun(db, {
    organisationId: request.organisationId,
    scope: request.scope,
    asOf,
    now,
  });
  const builder = new RowBuilder(run, await loadAuditSets(db, run), new ReachCounter(run));
  const readers = perPersonReaders(db, run);
  const preloadLimit = request.preloadLimit ?? accessAuditPreloadLimit;
  for (const [kind, reader] of Object.entries(readers)) {
    // Groups keep their current member count: no need to read 50,000 memberships to learn that
    // a million-member trust holds more.
    if (kind === 'memberships' && run.currentMemberships > preloadLimit) continue;
    await reader.preload(preloadLimit);
  }
  const pageSize = request.pageSize ?? accessAuditPageSize;
  let after: { name: string; id: string } | null = null;
  for (;;) {
    const users = await pageOfUsers(db, run, after, pageSize);
    if (users.length === 0) return;
    const page = await readPage(readers, users);
    // Built one at a time as the caller takes them: a page's rows are never all held at once.
    for (const user of users) {
      const row = builder.build(page, user);
      if (row) yield row;
    }
    if (users.length < pageSize) return;
    const last = users[users.length - 1]!;
    after = { name: last.name, id: last.id };
  }
}

interface PageUser {
  id: string;
  name: string;
  email: string;
  created_at: string;
  disabled_at: string | null;
  activated_at: string | null;
  last_sign_in_at: string | null;
}

/** The next page of people in the organisation at T (not removed), by name then id. */
function pageOfUsers(
  db: Kysely<DB>,
  run: AuditRun,
  after: { name: string; id: string } | null,
  pageSize: number,
): Promise<PageUser[]> {
  const asOf = run.asOf;
  return db
    .selectFrom('users as u')
    .select([
      'u.id',
      'u.name',
      'u.email',
      'u.created_at',
      'u.disabled_at',
      'u.activated_at',
      'u.last_sign_in_at',
    ])
    .where('u.organisation_id', '=', run.organisationId)
    .$if(asOf === undefined, (q) => q.where('u.removed_at', 'is', null))
    .$if(asOf !== undefined, (q) =>
      q
        .where('u.created_at', '<=', asOf!)
        .where((eb) => eb.or([eb('u.removed_at', 'is', null), eb('u.removed_at', '>', asOf!)])),
    )
    .$if(after !== null, (q) =>
      q
        .where('u.name', '>=', after!.name)
        .where((eb) => eb.or([eb('u.name', '>', after!.name), eb('u.id', '>', after!.id)])),
    )
    .orderBy('u.name')
    .orderBy('u.id')
    .limit(pageSize)
    .execute();
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A table of per-person rows smaller than this is read whole, once per run; else by page. */
export const accessAuditPreloadLimit = 50_000;

/**
 * Rows of one kind about people (grants, memberships, links...), grouped by person: read whole
 * once when the organisation holds few (one query per run), else for each page of people (one
 * query per page). Either way no query is made per person.
 */
class PerPerson<R extends { user_id: string | null }> {
  #all: Map<string, R[]> | null = null;

  constructor(
    private readonly read: (ids: readonly string[] | null, limit?: number) => Promise<R[]>,
  ) {}

  async preload(limit: number): Promise<void> {
    if (limit <= 0) return;
    const rows = await this.read(null, limit + 1);
    if (rows.length <= limit) this.#all = group(rows);
  }

  async forPage(ids: readonly string[]): Promise<Map<string, R[]>> {
    return this.#all ?? group(await this.read(ids));
  }
}

function group<R extends { user_id: string | null }>(rows: R[]): Map<string, R[]> {
  const map = new Map<string, R[]>();
  for (const row of rows) push(map, row.user_id!, row);
  return map;
}

function perPersonReaders(db: Kysely<DB>, run: AuditRun) {
  const org = run.organisationId;
  const asOf = run.asOf;
  const only = (column: string, ids: readonly string[] | null) =>
    ids === null ? sql<SqlBool>`1 = 1` : inIds(db, column, ids);
  const upTo = (limit: number | undefined) => limit ?? Number.MAX_SAFE_INTEGER;
  return {
    grants: new PerPerson((ids, limit) =>
      db
        .selectFrom('role_grants as g')
        .select(['g.id', 'g.user_id', 'g.role', 'g.scope_type', 'g.scope_id', 'g.reason'])
        .where('g.organisation_id', '=', org)
        .where('g.user_id', 'is not', null)
        .where(only('g.user_id', ids))
        .where((eb) => heldAt(eb, 'g', asOf))
        .orderBy('g.valid_from')
        .limit(upTo(limit))
        .execute(),
    ),
    memberships: new PerPerson((ids, limit) =>
      db
        .selectFrom('user_group_members as m')
        .select(['m.user_id', 'm.user_group_id'])
        .where('m.organisation_id', '=', org)
        .where(only('m.user_id', ids))
        .where((eb) => heldAt(eb, 'm', asOf))
        .limit(upTo(limit))
        .execute(),
    ),
    links: new PerPerson((ids, limit) =>
      db
        .selectFrom('student_links as l')
        .select(['l.user_id', 'l.student_id'])
        .where('l.organisation_id', '=', org)
        .where('l.user_id', 'is not', null)
        .where('l.student_id', 'is not', null)
        .where(only('l.user_id', ids))
        .where((eb) => heldAt(eb, 'l', asOf))
        .limit(upTo(limit))
        .execute(),
    ),
    blocks: new PerPerson((ids, limit) =>
      db
        .selectFrom('blocks as b')
        .innerJoin('students as s', 's.id', 'b.student_id')
        .select(['b.user_id', 'b.student_id', 's.school_id'])
        .where('b.organisation_id', '=', org)
        .where(only('b.user_id', ids))
        .where((eb) => heldAt(eb, 'b', asOf))
        .limit(upTo(limit))
        .execute(),
    ),
    owned: new PerPerson((ids, limit) =>
      db
        .selectFrom('user_group_owners as o')
        .select(['o.user_id', 'o.user_group_id'])
        .where('o.organisation_id', '=', org)
        .where(only('o.user_id', ids))
        .where((eb) => heldAt(eb, 'o', asOf))
        .limit(upTo(limit))
        .execute(),
    ),
    // Custom sets assigned to the person themselves (a group's members are the run's to fold in).
    assignedSets: new PerPerson((ids, limit) =>
      db
        .selectFrom('user_group_set_assignees as a')
        .select(['a.assignee_id as user_id', 'a.user_group_id', 'a.set_id'])
        .where('a.organisation_id', '=', org)
        .where('a.assignee_type', '=', 'user')
        .where(only('a.assignee_id', ids))
        .where((eb) => heldAt(eb, 'a', asOf))
        .limit(upTo(limit))
        .execute(),
    ),
    twoFactor: new PerPerson((ids, limit) =>
      db
        .selectFrom('user_totp as t')
        .select('t.user_id')
        .where('t.organisation_id', '=', org)
        .where('t.confirmed_at', 'is not', null)
        .$if(asOf !== undefined, (q) => q.where('t.confirmed_at', '<=', asOf!))
        .where(only('t.user_id', ids))
        .limit(upTo(limit))
        .execute(),
    ),
    // The latest sign-in at T: each sign-in opens a session, and sessions are kept.
    signIns: new PerPerson((ids, limit) =>
      asOf === undefined
        ? Promise.resolve([] as { user_id: string; at: string }[])
        : (db
            .selectFrom('sessions as se')
            .select((eb) => ['se.user_id', eb.fn.max('se.created_at').as('at')])
            .where('se.organisation_id', '=', org)
            .where(only('se.user_id', ids))
            .where('se.created_at', '<=', asOf)
            .groupBy('se.user_id')
            .limit(upTo(limit))
            .execute() as Promise<{ user_id: string; at: string }[]>),
    ),
  };
}

type Readers = ReturnType<typeof perPersonReaders>;

/** What a page of people holds: one query per kind (or the kind's rows read once per run). */
async function readPage(readers: Readers, users: PageUser[]) {
  const ids = users.map((u) => u.id);
  return {
    grants: await readers.grants.forPage(ids),
    memberships: await readers.memberships.forPage(ids),
    links: await readers.links.forPage(ids),
    blocks: await readers.blocks.forPage(ids),
    twoFactor: await readers.twoFactor.forPage(ids),
    owned: await readers.owned.forPage(ids),
    assignedSets: await readers.assignedSets.forPage(ids),
    signIns: await readers.signIns.forPage(ids),
  };
}

const none: never[] = [];

type Page = Awaited<ReturnType<typeof readPage>>;
type Role_ = AccessAuditRow['roles'][number];
type GrantWithReason = HeldGrant & { reason: string | null };

/**
 * What a person's user groups give them in the report, worked out once per set of groups: most
 * people share theirs (a million members of "All staff" and nothing else). Its arrays are shared
 * between the rows of those people, frozen.
 */
interface GroupPart {
  /** The groups with a reach, for counting children (all of them, whatever the scope). */
  reaching: AuditGroup[];
  /** Distinguishes this set of groups in the counter's memo. */
  key: string;
  /** Grants through the groups (all of them: visibility needs every role). */
  grants: GrantWithReason[];
  /** The same, in the report's scope, as the row shows them. */
  roles: readonly Role_[];
  /** `schoolsWith(students.view)` for the group grants alone. */
  viewSchools: 'all' | readonly string[];
  userGroups: readonly Named[];
  studentGroups: AccessAuditRow['studentGroups'];
  clearances: AccessAuditRow['clearances'];
  /** Groups administered through the groups' sets (Members, group assignees) and Everyone. */
  administration: readonly GroupAdministration[];
  /** Children of the scope linked one by one to one of the groups. */
  linked: readonly number[];
  allStudents: boolean;
}

/** The rows of one page, built one at a time as the caller takes them. */
class RowBuilder {
  readonly #parts = new Map<string, GroupPart>();
  readonly #dormantBefore: number;

  constructor(
    private readonly run: AuditRun,
    private readonly sets: AuditSets,
    private readonly counter: ReachCounter,
  ) {
    this.#dormantBefore = Date.parse(run.at) - dormantAfterDays * DAY_MS;
  }

  #roleOf(g: GrantWithReason): Role_ {
    return {
      grantId: g.grantId,
      role: g.role,
      scope: { ...g.scope, name: this.run.scopeNames.get(scopeKey(g.scope)) ?? '' },
      via: g.source.type === 'user_group' ? this.#via(g.source) : null,
      reason: g.reason,
    };
  }

  /** A role's group, or {@link withheldGroup} when it is homed outside the report's scope. */
  #via(source: { userGroupId: string; userGroupName: string }): Named {
    const home = this.run.groups.get(source.userGroupId)?.home;
    if (!home || !scopeConcerns(this.run, home)) return withheldGroup;
    return { id: source.userGroupId, name: source.userGroupName };
  }

  #viewSchools(grants: GrantWithReason[]): 'all' | readonly string[] {
    if (grants.length === 0) return none;
    // The role part of visibility, decided by the decision module itself.
    return schoolsWith(
      {
        userId: '',
        organisationId: this.run.organisationId,
        grants,
        clearances: noClearances,
        schoolGroupsBySchool: this.run.schoolGroupsBySchool,
      },
      'students.view',
    );
  }

  #inScope(studentIndex: number): boolean {
    return (
      this.run.scopeSchools === null ||
      this.run.scopeSchools.has(this.run.studentSchool[studentIndex]!)
    );
  }

  #groupPart(groupIds: readonly string[]): GroupPart {
    const key = groupIds.length === 1 ? groupIds[0]! : [...groupIds].sort().join(',');
    const known = this.#parts.get(key);
    if (known) return known;
    const run = this.run;
    const groups: AuditGroup[] = [];
    for (const id of groupIds) {
      const group = run.groups.get(id);
      if (group) groups.push(group);
    }
    const grants: GrantWithReason[] = [];
    for (const group of groups) {
      for (const g of group.grants) {
        grants.push({
          grantId: g.grantId,
          role: g.role,
          scope: g.scope,
          source: { type: 'user_group', userGroupId: group.id, userGroupName: group.name },
          since: '',
          reason: g.reason,
        });
      }
    }
    const shown = groups.filter((g) => scopeConcerns(run, g.home)).sort(byName);
    const studentGroups = new Map<string, AccessAuditRow['studentGroups'][number]>();
    const clearances: AccessAuditRow['clearances'] = [];
    for (const group of shown) {
      const via = { id: group.id, name: group.name };
      for (const clearance of group.clearances) clearances.push({ clearance, via });
      for (const id of group.studentGroupIds) {
        const sg = run.studentGroups.get(id);
        if (!sg) continue;
        if (run.scopeSchools !== null && sg.schoolId !== null && !run.scopeSchools.has(sg.schoolId))
          continue;
        const entry = studentGroups.get(id) ?? { id, name: sg.name, kind: sg.kind, via: [] };
        if (!entry.via.some((v) => v.id === via.id)) entry.via.push(via);
        studentGroups.set(id, entry);
      }
    }
    clearances.sort((a, b) =>
      a.clearance !== b.clearance ? (a.clearance < b.clearance ? -1 : 1) : byName(a.via, b.via),
    );
    const administration = [...this.sets.everyone];
    for (const id of groupIds)
      administration.push(...(this.sets.throughMembership.get(id) ?? none));
    const linked = new Set<number>();
    for (const group of groups)
      for (const index of group.linkedStudents) if (this.#inScope(index)) linked.add(index);
    const part: GroupPart = {
      reaching: groups.filter((g) => g.reach !== null),
      key,
      grants,
      roles: deepFreeze(
        sortRoles(grants.filter((g) => scopeConcerns(run, g.scope)).map((g) => this.#roleOf(g))),
      ),
      viewSchools: this.#viewSchools(grants),
      userGroups: deepFreeze(shown.map((g) => ({ id: g.id, name: g.name }))),
      studentGroups: deepFreeze([...studentGroups.values()].sort(byName)),
      clearances: deepFreeze(clearances),
      administration: deepFreeze(administration.sort(byAdministration)),
      linked: [...linked],
      allStudents: [...studentGroups.values()].some((g) => g.kind === 'all'),
    };
    if (this.#parts.size >= 50_000) this.#parts.clear();
    this.#parts.set(key, part);
    return part;
  }

  /** One person's row, or null when nothing of them concerns a school or school group's report. */
  build(page: Page, user: PageUser): AccessAuditRow | null {
    const run = this.run;
    const memberships = page.memberships.get(user.id) ?? none;
    const part = this.#groupPart(
      memberships.length === 1
        ? [memberships[0]!.user_group_id]
        : memberships.map((m) => m.user_group_id),
    );
    const directGrants = page.grants.get(user.id) ?? none;
    const linkRows = page.links.get(user.id) ?? none;
    const blockRows = page.blocks.get(user.id) ?? none;
    const twoFactor = page.twoFactor.has(user.id);
    const owned = page.owned.get(user.id) ?? none;
    const assignedSets = page.assignedSets.get(user.id) ?? none;
    const groupAdministration =
      owned.length === 0 && assignedSets.length === 0
        ? (part.administration as GroupAdministration[])
        : [...ownedAndDirect(this.sets, owned, assignedSets), ...part.administration].sort(
            byAdministration,
          );
    const lastSignInAt =
      run.asOf === undefined ? user.last_sign_in_at : (page.signIns.get(user.id)?.[0]?.at ?? null);
    const status = statusAt(user, run.at);

    let roles = part.roles as Role_[];
    let viewSchools = part.viewSchools;
    if (directGrants.length > 0) {
      const direct: GrantWithReason[] = directGrants.map((g) => ({
        grantId: g.id,
        role: g.role as GrantableRole,
        scope: { type: g.scope_type as ScopeType, id: g.scope_id },
        source: { type: 'direct' },
        since: '',
        reason: g.reason,
      }));
      viewSchools = this.#viewSchools([...direct, ...part.grants]);
      roles = sortRoles([
        ...direct.filter((g) => scopeConcerns(run, g.scope)).map((g) => this.#roleOf(g)),
        ...part.roles,
      ]);
    }
    const links: number[] = [];
    for (const l of linkRows) {
      const index = run.studentIndex.get(l.student_id!);
      if (index !== undefined) links.push(index);
    }
    let linkedCount = part.linked.length;
    if (links.length > 0) {
      const linked = new Set(part.linked);
      for (const index of links) if (this.#inScope(index)) linked.add(index);
      linkedCount = linked.size;
    }
    let blocks = 0;
    for (const b of blockRows)
      if (run.scopeSchools === null || run.scopeSchools.has(b.school_id)) blocks += 1;
    const reachableStudents =
      status === 'disabled'
        ? 0
        : this.counter.count(
            viewSchools,
            part,
            links,
            blockRows.map((b) => b.student_id),
          );

    if (
      run.scopeSchools !== null &&
      roles.length === 0 &&
      part.userGroups.length === 0 &&
      groupAdministration.length === 0 &&
      reachableStudents === 0 &&
      linkedCount === 0 &&
      blocks === 0
    )
      return null;

    const flags: AccessAuditFlag[] = [];
    if (part.userGroups.length === 0) flags.push('no_user_group');
    if (reachableStudents === 0 && roles.some((r) => r.role === 'dsl' || r.role === 'deputy_dsl'))
      flags.push('dsl_reaches_no_child');
    if (part.clearances.length > 0 && !twoFactor) flags.push('clearance_without_two_factor');
    if (part.allStudents) flags.push('all_students_link');
    if (Date.parse(lastSignInAt ?? user.created_at) < this.#dormantBefore) flags.push('dormant');
    if (
      run.activeOwners.size > 2 &&
      run.activeOwners.has(user.id) &&
      roles.some((r) => r.role === 'owner')
    )
      flags.push('more_than_two_owners');

    return {
      userId: user.id,
      name: user.name,
      email: user.email,
      status,
      roles,
      userGroups: part.userGroups as Named[],
      studentGroups: part.studentGroups,
      directStudentLinks: linkedCount,
      reachableStudents,
      clearances: part.clearances,
      blocks,
      groupAdministration,
      twoFactor,
      lastSignInAt,
      flags,
    };
  }
}

function sortRoles(roles: Role_[]): Role_[] {
  return roles.sort(
    (a, b) =>
      rankOf(b.role) - rankOf(a.role) ||
      byName(a.scope, b.scope) ||
      (a.via?.name ?? '').localeCompare(b.via?.name ?? '') ||
      ((a.grantId ?? '') < (b.grantId ?? '') ? -1 : 1),
  );
}

/** Frozen all the way down: parts shared between rows cannot be changed through one of them. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function statusAt(user: PageUser, at: string): AccessAuditRow['status'] {
  if (user.disabled_at !== null && user.disabled_at <= at) return 'disabled';
  if (user.activated_at === null || user.activated_at > at) return 'invited';
  return 'active';
}

const noClearances: ReadonlySet<Clearance> = new Set();

const byName = (a: Named, b: Named) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * Counts the children a person can see: the union of their groups' reach and their own links,
 * within the schools where they hold `students.view` (and the report's scope), less the children
 * they are blocked from. Most people share their groups and schools with others, so counts
 * without links or blocks of their own are kept by that signature.
 */
class ReachCounter {
  readonly #run: AuditRun;
  readonly #scratch: StudentSet;
  readonly #masks = new Map<string, StudentSet | null>();
  readonly #counts = new Map<string, number>();

  constructor(run: AuditRun) {
    this.#run = run;
    this.#scratch = emptySet(run.words);
  }

  /** The children of the schools (and of the report's scope); null: every child. */
  #mask(schools: 'all' | readonly string[]): { key: string; mask: StudentSet | null } {
    const key = schools === 'all' ? '*' : schools.join(',');
    if (!this.#masks.has(key)) {
      let mask: StudentSet | null = null;
      if (schools !== 'all') {
        mask = emptySet(this.#run.words);
        for (const school of schools) {
          const set = this.#run.schoolSets.get(school);
          if (set) orInto(mask, set);
        }
      }
      if (this.#run.scopeSet) {
        if (mask) andInto(mask, this.#run.scopeSet);
        else mask = this.#run.scopeSet;
      }
      this.#masks.set(key, mask);
    }
    return { key, mask: this.#masks.get(key)! };
  }

  count(
    schools: 'all' | readonly string[],
    part: GroupPart,
    links: readonly number[],
    blockedStudents: readonly string[],
  ): number {
    if (schools !== 'all' && schools.length === 0) return 0;
    if (part.reaching.length === 0 && links.length === 0) return 0;
    const { key: maskKey, mask } = this.#mask(schools);
    const shared = links.length === 0 && blockedStudents.length === 0;
    const key = shared ? `${maskKey}|${part.key}` : '';
    if (shared) {
      const known = this.#counts.get(key);
      if (known !== undefined) return known;
    }
    const set = this.#scratch;
    set.fill(0);
    for (const group of part.reaching) orInto(set, group.reach!);
    for (const index of links) setBit(set, index);
    if (mask) andInto(set, mask);
    for (const student of blockedStudents) {
      const index = this.#run.studentIndex.get(student);
      if (index !== undefined) clearBit(set, index);
    }
    const n = popcount(set);
    if (shared) {
      if (this.#counts.size > 100_000) this.#counts.clear();
      this.#counts.set(key, n);
    }
    return n;
  }
}
