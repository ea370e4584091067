/**
 * Group permission sets (issue 15) on the hot paths, for the benchmark's whole trust: its 1,000
 * user groups and million memberships, on SQLite and on PostgreSQL. The same callers are timed
 * before any set exists and after a realistic trust's sets are added (straight into the two
 * tables, in bulk): first while the planner has no statistics for the set tables, as a running
 * server would be right after the sets were made, then after ANALYZE. The plans of caller (b)'s
 * queries are read (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL) and every
 * whole-table read of the set or membership tables is reported. The section "Group permission
 * sets" of bench/RESULTS.md is replaced.
 *
 *   npm run bench:group-permissions                     the full trust on both engines
 *   npm run bench:group-permissions -- --scale 0.2      a fifth of it
 *   npm run bench:group-permissions -- --no-pg --reuse  keep the loaded databases between runs
 *   npm run bench:group-permissions -- --no-write       print, leave RESULTS.md alone
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CompiledQuery, type KyselyPlugin } from 'kysely';
import {
  formatPermissions,
  type GroupPermission,
  heldSets,
} from '../src/access/permission-sets.ts';
import { loadPrincipal, type Principal } from '../src/access/principal.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { chunks } from '../src/db/sql.ts';
import type { UserGroupPermissionSetsTable, UserGroupSetAssigneesTable } from '../src/db/tables.ts';
import { HavenError } from '../src/lib/errors.ts';
import { newId } from '../src/lib/ids.ts';
import { UserGroupService } from '../src/modules/user-groups/service.ts';
import { type Fixture, generateFixture } from './fixture.ts';
import { findLoaded, type Loaded, loadHaven } from './load-haven.ts';
import { measure, type Summary } from './stats.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

/** The goal: every call's p95 after the sets, on each engine, at scale 1. */
const GOAL_P95_MS = 50;
/** The tables whose whole reading would grow with the trust: reported wherever a plan does it. */
const WATCHED = ['user_group_set_assignees', 'user_group_members', 'user_group_permission_sets'];
const LIST_LIMIT = 50;

// ---------------------------------------------------------------------------------------------
// The sets: planned once, on the fixture's keys, so both engines get the very same ones.

interface PlannedSet {
  group: string;
  kind: 'everyone' | 'custom';
  name: string;
  permissions: string;
  users: string[];
  groups: string[];
}

/** mulberry32, as the fixture uses: the same sets on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const CUSTOM_SETS: { name: string; permissions: GroupPermission[] }[] = [
  { name: 'Pastoral leads', permissions: ['view', 'view_members'] },
  { name: 'Membership managers', permissions: ['view_members', 'manage_members'] },
  { name: 'Editors', permissions: ['view_members', 'edit_details'] },
  { name: 'Readers', permissions: ['view'] },
];

/**
 * Every group keeps its Members set at the default (no row); about one in ten lets Everyone
 * view it; about three in ten have one to three custom sets, each assigned to one to five
 * staff of the group's school and one to three other groups. "All staff" is never an assignee:
 * a set for the whole organisation is what the Everyone set is for.
 */
function planSets(fixture: Fixture): PlannedSet[] {
  const r = prng(20261130);
  const staff = fixture.users.filter((u) => u.kind === 'staff');
  const staffBySchool = new Map<string, string[]>();
  for (const u of staff)
    staffBySchool.set(u.school!, [...(staffBySchool.get(u.school!) ?? []), u.key]);
  const allStaff = staff.map((u) => u.key);
  const assignable = fixture.userGroups
    .filter((g) => g.key !== 'trust/all-staff')
    .map((g) => g.key);
  const sets: PlannedSet[] = [];
  for (const group of fixture.userGroups) {
    if (r.chance(0.1))
      sets.push({
        group: group.key,
        kind: 'everyone',
        name: 'Everyone',
        permissions: formatPermissions(['view']),
        users: [],
        groups: [],
      });
    if (!r.chance(0.3)) continue;
    const pool = group.school ? staffBySchool.get(group.school)! : allStaff;
    const first = r.int(0, CUSTOM_SETS.length - 1);
    const count = r.int(1, 3);
    for (let i = 0; i < count; i++) {
      const template = CUSTOM_SETS[(first + i) % CUSTOM_SETS.length]!;
      const users = new Set<string>();
      const userCount = r.int(1, 5);
      while (users.size < Math.min(userCount, pool.length)) users.add(r.pick(pool));
      const groups = new Set<string>();
      const groupCount = r.int(1, 3);
      while (groups.size < groupCount) {
        const other = r.pick(assignable);
        if (other !== group.key) groups.add(other);
      }
      sets.push({
        group: group.key,
        kind: 'custom',
        name: template.name,
        permissions: formatPermissions(template.permissions),
        users: [...users],
        groups: [...groups],
      });
    }
  }
  return sets;
}

// ---------------------------------------------------------------------------------------------
// The callers, chosen on the fixture's keys.

interface Callers {
  /** (a) A school's Admin (the fixture's fourth member of staff at the first secondary). */
  admin: string;
  /** (b) Plain staff: a Viewer in two to four teams, holding custom sets through a team. */
  staff: string;
  /** A team (b) belongs to, one with sets where there is one. */
  ownGroup: string;
  /** A group (b) sees only through a custom set assigned to one of their teams. */
  viaSetGroup: string;
  /** The groups (b) is in, "All staff" aside. */
  staffTeams: number;
}

function chooseCallers(fixture: Fixture, sets: readonly PlannedSet[]): Callers {
  const teams = new Map<string, string[]>();
  const members = new Map<string, readonly string[]>();
  for (const g of fixture.userGroups) {
    if (g.key === 'trust/all-staff') continue;
    members.set(g.key, g.members);
    for (const m of g.members) teams.set(m, [...(teams.get(m) ?? []), g.key]);
  }
  // Who holds a custom set through a group, and on which groups.
  const heldVia = new Map<string, Set<string>>();
  for (const set of sets)
    for (const assignee of set.groups)
      for (const m of members.get(assignee) ?? [])
        heldVia.set(m, (heldVia.get(m) ?? new Set()).add(set.group));
  const withSets = new Set(sets.map((s) => s.group));
  const secondary = fixture.schools.find((s) => s.phase === 'secondary')!;
  const staffOf = (school: string) =>
    fixture.users.filter((u) => u.kind === 'staff' && u.school === school).map((u) => u.key);
  const admin = staffOf(secondary.key)[3]!;
  const schools = [secondary, ...fixture.schools.filter((s) => s !== secondary)];
  for (const preferSets of [true, false])
    for (const school of schools) {
      // The first seven of a school's staff lead it (DSL, deputies, Admin, trust and hub roles).
      for (const key of staffOf(school.key).slice(7)) {
        const own = teams.get(key) ?? [];
        const via = [...(heldVia.get(key) ?? [])].filter((g) => !own.includes(g)).sort();
        if (own.length < 2 || own.length > 4 || via.length === 0) continue;
        const ownWithSets = own.filter((g) => withSets.has(g));
        if (preferSets && ownWithSets.length === 0) continue;
        return {
          admin,
          staff: key,
          ownGroup: ownWithSets[0] ?? own[0]!,
          viaSetGroup: via[0]!,
          staffTeams: own.length,
        };
      }
    }
  throw new Error('no member of staff holds a set through a group: the plan is too small');
}

// ---------------------------------------------------------------------------------------------
// One engine: before, after, after ANALYZE.

type StateName = 'before' | 'after' | 'analysed';
const STATES: { name: StateName; label: string }[] = [
  { name: 'before', label: 'Before sets' },
  { name: 'after', label: 'After sets, set tables not analysed' },
  { name: 'analysed', label: 'After sets and ANALYZE' },
];

interface CallResult {
  summary: Summary;
  /** What the call answered: groups on the page, sets held, or 404. */
  answer: string;
}

interface Plan {
  /** Which call the query was part of, and its place among that call's queries. */
  call: string;
  sql: string;
  text: string;
  /** Whole reads of a watched table, each described with the plan line that does it. */
  scans: string[];
}

interface EngineResult {
  engine: string;
  calls: Map<string, Partial<Record<StateName, CallResult>>>;
  plans: Partial<Record<StateName, Plan[]>>;
  setRows: number;
  assigneeRows: number;
  insertSeconds: number;
  analyzeSeconds: number;
  /** The machine's one-minute load average when each state's timing ended (other work slows it). */
  load: Partial<Record<StateName, number>>;
}

const CALLS = [
  { key: 'list-admin', label: 'List page, (a) school Admin' },
  { key: 'list-staff', label: 'List page, (b) plain staff' },
  { key: 'list-owner', label: 'List page, (c) Owner' },
  { key: 'get-own', label: 'Group page, (b) on a team they are in' },
  { key: 'get-via', label: 'Group page, (b) on a group held through a team' },
  { key: 'held', label: 'heldSets, (b) over all groups' },
] as const;
type CallKey = (typeof CALLS)[number]['key'];

async function benchEngine(
  engine: string,
  database: Database,
  loaded: Loaded,
  sets: readonly PlannedSet[],
  callers: Callers,
  say: (line: string) => void,
): Promise<EngineResult> {
  const { organisationId } = loaded;
  const db = database.db;
  const result: EngineResult = {
    engine,
    calls: new Map(),
    plans: {},
    setRows: 0,
    assigneeRows: 0,
    insertSeconds: 0,
    analyzeSeconds: 0,
    load: {},
  };
  // A database kept with --reuse still holds the last run's sets: start from none.
  const left = await db
    .selectFrom('user_group_permission_sets')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(left.n) > 0) {
    await db.deleteFrom('user_group_set_assignees').execute();
    await db.deleteFrom('user_group_permission_sets').execute();
    await database.analyze();
    say(`${engine}: removed the last run's sets`);
  }
  const ids = {
    admin: loaded.user.get(callers.admin)!,
    staff: loaded.user.get(callers.staff)!,
    owner: loaded.ownerId,
    ownGroup: loaded.userGroup.get(callers.ownGroup)!,
    viaSetGroup: loaded.userGroup.get(callers.viaSetGroup)!,
  };
  const service = new UserGroupService(database);

  async function runState(state: StateName): Promise<void> {
    const principal = {
      admin: await loadPrincipal(db, organisationId, ids.admin),
      staff: await loadPrincipal(db, organisationId, ids.staff),
      owner: await loadPrincipal(db, organisationId, ids.owner),
    };
    const calls: Record<CallKey, () => Promise<string>> = {
      'list-admin': async () =>
        `${(await service.list(principal.admin, { limit: LIST_LIMIT })).items.length} groups`,
      'list-staff': async () =>
        `${(await service.list(principal.staff, { limit: LIST_LIMIT })).items.length} groups`,
      'list-owner': async () =>
        `${(await service.list(principal.owner, { limit: LIST_LIMIT })).items.length} groups`,
      'get-own': () => groupPage(service, principal.staff, ids.ownGroup),
      'get-via': () => groupPage(service, principal.staff, ids.viaSetGroup),
      held: async () =>
        `${(await heldSets(db, { organisationId, userId: ids.staff })).length} sets`,
    };
    for (const { key } of CALLS) {
      const call = calls[key];
      const answer = await call();
      const summary = await measure(call, {
        iterations: 1000,
        warmup: 10,
        budgetMs: 6_000,
        minSamples: 100,
      });
      const entry = result.calls.get(key) ?? {};
      entry[state] = { summary, answer };
      result.calls.set(key, entry);
    }
    result.load[state] = os.loadavg()[0]!;
    say(
      `${engine}, ${state} (load ${result.load[state]!.toFixed(1)}): ${CALLS.map(({ key }) => {
        const r = result.calls.get(key)![state]!;
        return `${key} ${fmt(r.summary.median)}/${fmt(r.summary.p95)} ms (${r.answer})`;
      }).join('; ')}`,
    );
    if (state !== 'before') result.plans[state] = await explainStaff(database, principal.staff);
  }

  /** The plans of caller (b)'s list page, heldSets and the group page held through a set. */
  async function explainStaff(database: Database, staff: Principal): Promise<Plan[]> {
    const captured: CompiledQuery[] = [];
    const capture: KyselyPlugin = {
      transformQuery: (args) => {
        captured.push(database.db.getExecutor().compileQuery(args.node, args.queryId));
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const watched = { ...database, db: database.db.withPlugin(capture) };
    const runs: [string, () => Promise<unknown>][] = [
      ['list page', () => new UserGroupService(watched).list(staff, { limit: LIST_LIMIT })],
      ['heldSets', () => heldSets(watched.db, { organisationId, userId: ids.staff })],
      ['group page', () => groupPage(new UserGroupService(watched), staff, ids.viaSetGroup)],
    ];
    const plans: Plan[] = [];
    const tableRows = await watchedRows(database);
    for (const [call, run] of runs) {
      captured.length = 0;
      await run();
      let n = 0;
      for (const query of [...captured]) {
        // Hot queries compiled with placeholders (runPrepared) bind their values later.
        if (query.parameters.some((p) => typeof p === 'string' && p.startsWith('\u0000haven:')))
          continue;
        // Some code compiles a fragment (a correlated subquery) to embed its SQL in a query of
        // its own: it cannot be run alone, and is planned as part of that query.
        const plan = await explain(database, query, tableRows).catch(() => undefined);
        if (!plan) continue;
        n += 1;
        plans.push({ call: `${call}, query ${n}`, sql: query.sql, ...plan });
      }
    }
    return plans;
  }

  await runState('before');

  const now = new Date().toISOString();
  const setRows: UserGroupPermissionSetsTable[] = [];
  const assigneeRows: UserGroupSetAssigneesTable[] = [];
  for (const set of sets) {
    const groupId = loaded.userGroup.get(set.group)!;
    const setId = set.kind === 'custom' ? newId() : set.kind;
    setRows.push({
      id: newId(),
      organisation_id: organisationId,
      set_id: setId,
      user_group_id: groupId,
      kind: set.kind,
      name: set.name,
      permissions: set.permissions,
      changed_by: null,
      valid_from: now,
      valid_to: null,
    });
    const assignees = [
      ...set.users.map((k) => ({ type: 'user' as const, id: loaded.user.get(k)! })),
      ...set.groups.map((k) => ({ type: 'user_group' as const, id: loaded.userGroup.get(k)! })),
    ];
    for (const a of assignees)
      assigneeRows.push({
        id: newId(),
        organisation_id: organisationId,
        user_group_id: groupId,
        set_id: setId,
        assignee_type: a.type,
        assignee_id: a.id,
        added_by: null,
        removed_by: null,
        valid_from: now,
        valid_to: null,
      });
  }
  const started = performance.now();
  await db.transaction().execute(async (trx) => {
    for (const slice of chunks(setRows, 200))
      await trx.insertInto('user_group_permission_sets').values(slice).execute();
    for (const slice of chunks(assigneeRows, 200))
      await trx.insertInto('user_group_set_assignees').values(slice).execute();
  });
  result.insertSeconds = (performance.now() - started) / 1000;
  result.setRows = setRows.length;
  result.assigneeRows = assigneeRows.length;
  say(
    `${engine}: ${setRows.length} set rows and ${assigneeRows.length} assignees added in ${result.insertSeconds.toFixed(1)} s`,
  );

  await runState('after');
  const analyzing = performance.now();
  await database.analyze();
  result.analyzeSeconds = (performance.now() - analyzing) / 1000;
  say(`${engine}: ANALYZE in ${result.analyzeSeconds.toFixed(1)} s`);
  await runState('analysed');
  return result;
}

/** One group's page as `GET /user-groups/:id` answers it; 404 is an answer too (before the sets). */
async function groupPage(
  service: UserGroupService,
  principal: Principal,
  groupId: string,
): Promise<string> {
  try {
    const page = await service.get(principal, groupId);
    return `page, ${page.memberCount} members`;
  } catch (error) {
    if (error instanceof HavenError && error.status === 404) return '404';
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Plans.

/** The tables the query names, by alias (Kysely writes `"table" as "alias"`). */
function aliasesOf(sql: string): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const m of sql.matchAll(/"(\w+)" as "(\w+)"/g)) aliases.set(m[2]!, m[1]!);
  for (const m of sql.matchAll(/from "(\w+)"(?! as)/g)) aliases.set(m[1]!, m[1]!);
  return aliases;
}

/** How many rows each watched table holds now (to tell a whole read from a few seeks). */
async function watchedRows(database: Database): Promise<Map<string, number>> {
  const rows = new Map<string, number>();
  for (const table of WATCHED) {
    const { n } = await database.db
      .selectFrom(table as 'user_group_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    rows.set(table, Number(n));
  }
  return rows;
}

/**
 * The query's plan as text, and its whole reads of a watched table. SQLite's plan says how a
 * table is reached (SCAN reads all of it, or all of the index named; an automatic index is built
 * by reading all of it at every run). PostgreSQL's says how many rows each node read: a
 * sequential scan, an index read without a condition, or index reads that add up to most of the
 * table (one seek per group or set, each loop) all count.
 */
async function explain(
  database: Database,
  query: CompiledQuery,
  tableRows: ReadonlyMap<string, number>,
): Promise<{ text: string; scans: string[] }> {
  const run = (prefix: string) =>
    database.db.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(`${prefix} ${query.sql}`, [...query.parameters]),
    );
  if (database.engine === 'sqlite') {
    const { rows } = await run('explain query plan');
    const depth = new Map<number, number>([[0, -1]]);
    const aliases = aliasesOf(query.sql);
    const scans: string[] = [];
    const lines = rows.map((row) => {
      const level = (depth.get(Number(row.parent)) ?? -1) + 1;
      depth.set(Number(row.id), level);
      const detail = String(row.detail);
      const m = /^(SCAN|SEARCH) (\w+)/.exec(detail);
      const table = m ? (aliases.get(m[2]!) ?? m[2]!) : undefined;
      if (table && WATCHED.includes(table) && (m![1] === 'SCAN' || /AUTOMATIC/.test(detail)))
        scans.push(`${table} (${n(tableRows.get(table) ?? 0)} rows): ${detail}`);
      return `${'  '.repeat(level)}${detail}`;
    });
    return { text: lines.join('\n'), scans };
  }
  const { rows } = await run('explain (analyze, costs off, timing off, summary off)');
  const text = rows.map((r) => String(r['QUERY PLAN'])).join('\n');
  const json = await run('explain (analyze, format json)');
  const plan = (json.rows[0]!['QUERY PLAN'] as { Plan: PgNode }[])[0]!.Plan;
  const reads = new Map<string, { rows: number; how: string[]; whole: boolean }>();
  walk(plan, (node) => {
    const index = node['Index Name'];
    // A bitmap index scan names its index only.
    const table = node['Relation Name'] ?? WATCHED.find((t) => index?.startsWith(t));
    if (!table || !WATCHED.includes(table) || node['Node Type'] === 'Bitmap Heap Scan') return;
    const loops = node['Actual Loops'] ?? 1;
    const read =
      ((node['Actual Rows'] ?? 0) +
        (node['Rows Removed by Filter'] ?? 0) +
        (node['Rows Removed by Index Recheck'] ?? 0)) *
      loops;
    const entry = reads.get(table) ?? { rows: 0, how: [], whole: false };
    entry.rows += read;
    entry.whole ||=
      node['Node Type'] === 'Seq Scan' || (index !== undefined && node['Index Cond'] === undefined);
    entry.how.push(
      `${node['Node Type']}${index ? ` using ${index}` : ''}${node['Index Cond'] ? ` (${node['Index Cond']})` : ''}${node.Filter ? `, filter ${node.Filter}` : ''}, ${n(read)} rows over ${n(loops)} loop(s)`,
    );
    reads.set(table, entry);
  });
  const scans: string[] = [];
  for (const [table, entry] of reads) {
    const held = tableRows.get(table) ?? 0;
    // Per-loop figures are averages, rounded: most of the table is taken as all of it.
    if (entry.whole || (held > 0 && entry.rows >= 0.8 * held))
      scans.push(`${table}: ${n(entry.rows)} rows read of its ${n(held)}: ${entry.how.join('; ')}`);
  }
  return { text, scans };
}

interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PgNode[];
}

function walk(node: PgNode, visit: (node: PgNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

function n(x: number): string {
  return x.toLocaleString('en-GB');
}

// ---------------------------------------------------------------------------------------------
// The run: load, measure, write the section.

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      scale: { type: 'string' },
      'no-pg': { type: 'boolean', default: false },
      'no-sqlite': { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const scale = Number(args.scale ?? 1);
  if (!(scale > 0 && scale <= 1)) throw new Error('--scale takes a number in (0, 1]');
  const runStarted = performance.now();
  const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  say(`Group permission sets benchmark: scale ${scale}`);
  const fixture = generateFixture({ scale });
  const memberships = fixture.userGroups.reduce((n, g) => n + g.members.length, 0);
  say(
    `fixture: ${fixture.users.length} users, ${fixture.userGroups.length} user groups, ${memberships} memberships`,
  );
  const sets = planSets(fixture);
  const callers = chooseCallers(fixture, sets);
  const custom = sets.filter((s) => s.kind === 'custom');
  const census = {
    everyone: sets.length - custom.length,
    custom: custom.length,
    groupsWithCustom: new Set(custom.map((s) => s.group)).size,
    users: custom.reduce((n, s) => n + s.users.length, 0),
    groups: custom.reduce((n, s) => n + s.groups.length, 0),
  };
  say(
    `sets: ${census.everyone} Everyone (view), ${census.custom} custom on ${census.groupsWithCustom} groups with ${census.users} user and ${census.groups} group assignments`,
  );
  const tag = String(scale).replace('.', '_');

  /** Loads the fixture (or finds it loaded, with --reuse). */
  async function prepare(database: Database, label: string): Promise<Loaded> {
    if (args.reuse) {
      try {
        const found = await database.db
          .selectFrom('organisations')
          .select('id')
          .where('name', '=', fixture.organisationName)
          .executeTakeFirst();
        if (found) {
          say(`${label}: reusing the loaded trust`);
          return await findLoaded(database, fixture);
        }
      } catch {
        // Not migrated yet: load it.
      }
    }
    await migrateToLatest(database.db);
    const started = performance.now();
    const loaded = await loadHaven(database, fixture, () => {});
    say(`${label}: loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return loaded;
  }

  const results: EngineResult[] = [];
  const skipped: string[] = [];
  if (!args['no-sqlite']) {
    const dataDir = path.join(os.tmpdir(), `haven-group-permissions-bench-${tag}`);
    if (!args.reuse) rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const database = openDatabase({ dataDir });
    try {
      const loaded = await prepare(database, 'SQLite');
      results.push(await benchEngine('SQLite', database, loaded, sets, callers, say));
    } finally {
      await database.close();
      if (!args.reuse) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (!args['no-pg']) {
    const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `haven_group_permissions_bench_${tag}`;
    const url = server.replace(/\/[^/]*$/, `/${name}`);
    const pg = (await import('pg')).default;
    const admin = async (work: (client: InstanceType<typeof pg.Client>) => Promise<unknown>) => {
      const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        await work(client);
      } finally {
        await client.end().catch(() => {});
      }
    };
    let reachable = true;
    try {
      await admin(async (client) => {
        const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (!args.reuse || exists.rowCount === 0) {
          await client.query(`drop database if exists ${name}`);
          await client.query(`create database ${name}`);
        }
      });
    } catch (error) {
      reachable = false;
      skipped.push(`PostgreSQL skipped: ${error}`);
      say(`PostgreSQL skipped: ${error}`);
    }
    if (reachable) {
      const database = openDatabase({ databaseUrl: url });
      try {
        const loaded = await prepare(database, 'PostgreSQL');
        results.push(await benchEngine('PostgreSQL', database, loaded, sets, callers, say));
      } finally {
        await database.close();
        if (!args.reuse) await admin((client) => client.query(`drop database if exists ${name}`));
      }
    }
  }

  // The run as it was asked for (a --reuse run's time leaves out the loading).
  const flags = [
    ...(scale === 1 ? [] : [`--scale ${scale}`]),
    ...(['no-sqlite', 'no-pg', 'reuse'] as const).filter((f) => args[f]).map((f) => `--${f}`),
  ];
  const command = `npm run bench:group-permissions${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  const cell = (r: CallResult | undefined) =>
    r ? `${fmt(r.summary.median)} / ${fmt(r.summary.p95)} / ${fmt(r.summary.p99)}` : '–';
  const rows: string[] = [];
  for (const result of results)
    for (const { key, label } of CALLS) {
      const byState = result.calls.get(key)!;
      const after = [byState.after, byState.analysed].filter((r) => r !== undefined);
      const met = after.every((r) => r.summary.p95 < GOAL_P95_MS);
      rows.push(
        `| ${result.engine} | ${label} | ${STATES.map((s) => cell(byState[s.name])).join(' | ')} | ${byState.before?.answer} → ${byState.analysed?.answer} | ${met ? 'met' : 'missed'} |`,
      );
    }
  const planBlocks: string[] = [];
  for (const result of results) {
    const plans = result.plans.analysed ?? [];
    const list = plans.filter((p) => p.call.startsWith('list page'));
    for (const p of list)
      planBlocks.push(
        `${result.engine}, caller (b)'s ${p.call} (after sets and ANALYZE):`,
        '',
        '```text',
        p.text,
        '```',
        '',
      );
  }
  const scanLines: string[] = [];
  for (const result of results)
    for (const state of ['after', 'analysed'] as const)
      for (const p of result.plans[state] ?? [])
        for (const scan of p.scans)
          scanLines.push(
            `- ${result.engine}, ${state === 'after' ? 'not analysed' : 'analysed'}, ${p.call}: ${scan}`,
          );
  const setup = results[0];
  const section = [
    '<!-- group-permissions:start (bench/group-permissions.ts replaces this section) -->',
    '## Group permission sets',
    '',
    `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`${command}\`, in ${((performance.now() - runStarted) / 1000).toFixed(0)} s, on ${machine}. ` +
      `Scale ${scale}: ${n(fixture.users.length)} users, ${n(fixture.userGroups.length)} user groups with ${n(memberships)} memberships. ` +
      `The same callers are timed before any permission set exists and after a trust's sets are added straight into the two tables` +
      `${setup ? ` (${n(setup.setRows)} set rows, ${n(setup.assigneeRows)} assignees)` : ''}: every group's Members set left at its default (view); ${n(census.everyone)} groups let Everyone view them; ` +
      `${n(census.groupsWithCustom)} groups have ${n(census.custom)} custom sets, with ${n(census.users)} user and ${n(census.groups)} user-group assignments (one to five staff of the group's school and one to three other groups each; never "All staff"). ` +
      'Sets are timed twice: first while the planner has no statistics for the set tables (a running server just after the sets were made), then after ANALYZE (`Database.analyze`, as bulk loads end).',
    '',
    `Callers: (a) a school's Admin; (b) a Viewer at a school in ${callers.staffTeams} teams besides "All staff", holding custom sets through a team; (c) the Owner. ` +
      `"List page" is \`UserGroupService.list\` (first page of ${LIST_LIMIT}); "Group page" is \`UserGroupService.get\` (its 404 before the sets, where the group is seen only through one); ` +
      '"heldSets" is the effective-permissions part (`heldSets` over all groups, five queries). ' +
      `Figures: median / p95 / p99 per call, in ms. Goal: p95 under ${GOAL_P95_MS} ms for every call after the sets, on each engine, at scale 1.`,
    '',
    `| Engine | Call | ${STATES.map((s) => s.label).join(' | ')} | Answer (before → after) | Goal |`,
    `| --- | --- | ${STATES.map(() => '---').join(' | ')} | --- | --- |`,
    ...rows,
    ...skipped.map((s) => `| ${s} | | | | | | |`),
    '',
    `Load average (one minute, ${cpus.length} CPUs) when each column's timing ended: ${results.map((r) => `${r.engine} ${STATES.map((s) => r.load[s.name]?.toFixed(1) ?? '–').join(', ')}`).join('; ')}. ` +
      `Sets inserted in ${results.map((r) => `${r.insertSeconds.toFixed(1)} s on ${r.engine}`).join(', ')}; ANALYZE took ${results.map((r) => `${r.analyzeSeconds.toFixed(0)} s on ${r.engine}`).join(', ')}.`,
    '',
    scanLines.length === 0
      ? `No plan of caller (b)'s list page, heldSets or group page reads the whole of ${WATCHED.join(', ')} on either engine, before or after ANALYZE.`
      : `Whole reads of ${WATCHED.join(', ')} in caller (b)'s plans:\n\n${scanLines.join('\n')}`,
    '',
    ...planBlocks,
    '<!-- group-permissions:end -->',
  ].join('\n');
  console.log(`\n${section}`);
  for (const result of results)
    for (const state of ['after', 'analysed'] as const)
      for (const p of result.plans[state] ?? [])
        if (p.scans.length > 0 || p.call.startsWith('list page'))
          console.log(`\n--- ${result.engine}, ${state}, ${p.call}\n${p.sql}\n${p.text}`);
  if (!args['no-write']) {
    const file = path.join(here, 'RESULTS.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const pattern = /<!-- group-permissions:start[\s\S]*?<!-- group-permissions:end -->/;
    writeFileSync(
      file,
      pattern.test(current)
        ? current.replace(pattern, section)
        : `${current.trimEnd()}\n\n${section}\n`,
    );
    say(`wrote ${path.relative(root, file)}`);
  }
}

function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

await main();
