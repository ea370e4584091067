/**
 * Issue 17, item 5: Haven's HTTP path against a bare Fastify route, in one run on one machine.
 *
 *   npm run bench:http                          the benchmark's trust (scale 1), SQLite and PostgreSQL
 *   npm run bench:http -- --quick               scale 0.02, short runs: checks the harness works
 *   npm run bench:http -- --scale 0.2 --seconds 5 --no-pg --reuse --no-write
 *   npm run bench:http -- --profile /tmp/prof   also: CPU profiles of `haven serve` under GET /me
 *                                               and GET /students/:id, and each request's queries
 *   npm run bench:http -- --explain             also: the plans of the widest callers' counts and
 *                                               short-prefix searches
 *
 * 1. Throughput (autocannon, 16 connections): `GET /bare` of `bench/bare-fastify.ts`; an
 *    authenticated `GET /api/v1/me`; a first page of 50 students; a child's profile
 *    `GET /api/v1/students/:id` (each read writes an access-log row), rotating over children the
 *    caller sees. On PostgreSQL two `haven serve` processes share the connections (the yardstick
 *    then runs as two processes too). Afterwards the audit chains must verify.
 * 2. Counts and searches, one request at a time, for every persona of the fixture, the widest
 *    Viewer and a wide-reach Viewer (links to year, house and SEN groups reaching about a fifth
 *    of the trust, `addWideReach`), with prefixes of one, two and three letters taken from the
 *    fixture's names.
 * 3. Head-of-line blocking: `/api/v1/health` every 10 ms while four heavy requests run, for the
 *    widest Viewer, the wide-reach Viewer and the trust safeguarding lead.
 *
 * BENCH_DATABASE_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres);
 * the run creates and drops its own database there. The section "HTTP goals (issue 17)" of
 * bench/RESULTS.md is replaced. Nothing here asserts a time: goals are printed as met or missed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { installationPrincipal, loadPrincipal } from '../src/access/principal.ts';
import { addMembersInBulk } from '../src/cli/bulk.ts';
import { loadConfig } from '../src/config.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { runChange } from '../src/modules/audit/change.ts';
import { verifyAuditChains } from '../src/modules/audit/verify.ts';
import { createSession } from '../src/modules/auth/sessions.ts';
import { StudentService } from '../src/modules/students/service.ts';
import { UserGroupEditor } from '../src/modules/user-groups/editor.ts';
import { findUserGroup } from '../src/modules/user-groups/repository.ts';
import { buildApp } from '../src/server/app.ts';
import { type Fixture, generateFixture, type Role } from './fixture.ts';
import { findLoaded, type Loaded, loadHaven } from './load-haven.ts';
import { ReferenceModel } from './reference.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    seed: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string', default: '16' },
    'log-level': { type: 'string', default: 'info' },
    'no-pg': { type: 'boolean', default: false },
    'no-sqlite': { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    note: { type: 'string' },
    profile: { type: 'string' },
    explain: { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const scale = Number(args.scale ?? (quick ? 0.02 : 1));
if (!(scale > 0 && scale <= 1)) throw new Error('--scale takes a number in (0, 1]');
const seconds = Number(args.seconds ?? (quick ? 2 : 10));
const warmupSeconds = quick ? 1 : 3;
const connections = Number(args.connections);
/** Timed requests per count or search, one at a time (fewer once a cell has taken 3 s). */
const samplesPerCell = quick ? 3 : 9;
const holdMs = quick ? 2000 : 5000;

/** The goals of issue 17, item 5. */
const GOALS = { me: 0.4, firstPage: 0.25, profile: 0.8, sqliteMs: 20, postgresMs: 40, holdMs: 50 };

const here = import.meta.dirname;
const root = path.resolve(here, '..');
const started = performance.now();
const loadAtStart = os.loadavg();
const say = (line = '') =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The fixture, its personas and the search prefixes

const fixture: Fixture = generateFixture({
  scale,
  ...(args.seed === undefined ? {} : { seed: Number(args.seed) }),
});

/**
 * The case the fixture's personas miss: a Viewer whose links to student groups, none of them a
 * school's "All students", reach about a fifth of the trust. The first hub's lead (a Viewer for
 * the hub's schools) joins an Exams Office that has no links and no persona among its members,
 * and that office is linked to every year and house group of the hub's schools (every child
 * there twice over) and to every school's SEN group (most of them outside the lead's schools).
 * Added to the fixture before it is loaded and before the reference model is built; on a reused
 * database `ensureWideReach` makes the same links.
 */
function addWideReach(f: Fixture): { user: string; group: string; links: string[] } {
  const hub = f.schoolGroups[0]!.key;
  const lead = f.grants.find(
    (g) => g.subject.type === 'user' && g.scope.type === 'school_group' && g.scope.key === hub,
  )!.subject.key;
  const personas = new Set(f.personas.map((p) => p.user));
  const office = f.userGroups.find(
    (g) =>
      g.key.endsWith('/exams') &&
      g.links.length === 0 &&
      !g.members.some((m) => personas.has(m) || m === lead),
  )!;
  const hubSchools = new Set(f.schools.filter((s) => s.hub === hub).map((s) => s.key));
  const links = f.studentGroups
    .filter(
      (g) =>
        (g.school !== null && hubSchools.has(g.school) && /\/(year|house)-/.test(g.key)) ||
        g.key.endsWith('/sen'),
    )
    .map((g) => g.key);
  office.members.push(lead);
  office.links.push(...links.map((studentGroup) => ({ studentGroup })));
  return { user: lead, group: office.key, links };
}
const wideReach = addWideReach(fixture);
const reference = new ReferenceModel(fixture);

/** Each user's roles, held directly or through a user group. */
const rolesOf = new Map<string, Set<Role>>();
{
  const members = new Map(fixture.userGroups.map((g) => [g.key, g.members]));
  for (const grant of fixture.grants) {
    const users =
      grant.subject.type === 'user' ? [grant.subject.key] : (members.get(grant.subject.key) ?? []);
    for (const u of users) rolesOf.set(u, (rolesOf.get(u) ?? new Set()).add(grant.role));
  }
}

interface Caller {
  name: string;
  user: string;
  role: string;
  /** Children the reference model says the caller sees. */
  sees: number;
}

/** The Viewer (no higher role) who sees the most children, the wide-reach Viewer aside. */
function widestViewer(): Caller {
  let best: Caller | undefined;
  for (const [user, roles] of rolesOf) {
    if (roles.size !== 1 || !roles.has('viewer') || user === wideReach.user) continue;
    const sees = reference.visible(user).size;
    if (!best || sees > best.sees) best = { name: 'widest Viewer', user, role: 'viewer', sees };
  }
  return best!;
}

const rank: Role[] = ['owner', 'dsl', 'deputy_dsl', 'admin', 'viewer'];
const callers: Caller[] = [
  ...fixture.personas.map((p) => ({
    name: p.name,
    user: p.user,
    role: rank.find((r) => rolesOf.get(p.user)?.has(r)) ?? 'none',
    sees: reference.visible(p.user).size,
  })),
  widestViewer(),
  {
    name: 'wide-reach Viewer',
    user: wideReach.user,
    role: 'viewer',
    sees: reference.visible(wideReach.user).size,
  },
];
const dsl = callers.find((c) => c.name === 'school DSL')!;
const viewer = callers.find((c) => c.name === 'form tutor')!;
const widest = callers.find((c) => c.name === 'widest Viewer')!;
const wide = callers.find((c) => c.name === 'wide-reach Viewer')!;
const lead = callers.find((c) => c.name === 'trust safeguarding lead')!;

/**
 * Prefixes of one, two and three letters from the fixture's names: for each length the two that
 * start the most children's names and one from the middle of the list.
 */
function choosePrefixes(): { prefix: string; children: number }[] {
  const chosen: { prefix: string; children: number }[] = [];
  for (const length of [1, 2, 3]) {
    const counts = new Map<string, number>();
    for (const s of fixture.students) {
      const words = `${s.givenName} ${s.familyName}`.toLowerCase().split(/[\s'’-]+/);
      for (const p of new Set(
        words.filter((w) => w.length >= length).map((w) => w.slice(0, length)),
      ))
        counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [prefix, children] of [
      ranked[0]!,
      ranked[1]!,
      ranked[Math.floor(ranked.length / 2)]!,
    ])
      chosen.push({ prefix, children });
  }
  return chosen;
}
const prefixes = choosePrefixes();

// ---------------------------------------------------------------------------------------------
// Processes: Haven, the yardstick

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

interface Server {
  url: string;
  child: ChildProcess;
  /** From spawning the process to its first answer, in ms. */
  startupMs: number;
  stop(): Promise<void>;
}

async function startProcess(
  argv: string[],
  env: Record<string, string>,
  ready: string,
): Promise<Server> {
  const port = await freePort();
  const spawned = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}${ready}`)).ok)
        return { url, child, stop, startupMs: performance.now() - spawned };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`${argv.join(' ')} did not start`);
}

function startHaven(env: Record<string, string>, cpuProfDir?: string): Promise<Server> {
  return startProcess(
    [
      ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
      path.join(root, 'bin/haven.mjs'),
      'serve',
    ],
    { HAVEN_LOG_LEVEL: args['log-level']!, ...env },
    '/api/v1/health',
  );
}

function startBare(): Promise<Server> {
  return startProcess(['--import', 'tsx', path.join(here, 'bare-fastify.ts')], {}, '/bare');
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Rate {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU the servers (and their PostgreSQL backends) spent per answered request, in ms. */
  cpuMs: number;
}

/** CPU time a process has used, in ms (Linux: utime + stime, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** autocannon over one or more servers (connections spread evenly), after a warm-up. */
async function cannon(
  urls: string[],
  target: string | (() => string),
  token: string | undefined,
  pids: () => Promise<number[]>,
  length = seconds,
): Promise<Rate> {
  const run = (duration: number) =>
    autocannon({
      // autocannon takes several URLs and spreads the connections over them (its types say one).
      url: urls.map((u) => (typeof target === 'string' ? `${u}${target}` : u)) as unknown as string,
      connections,
      duration,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(typeof target === 'function'
        ? { requests: [{ setupRequest: (req: object) => ({ ...req, path: target() }) }] }
        : {}),
    });
  await run(warmupSeconds);
  // Taken after the warm-up, which opens every database connection the servers will use.
  const watched = await pids();
  const cpu = () => watched.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
  const before = cpu();
  const result = await run(length);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMs: (cpu() - before) / Math.max(1, result.requests.total),
  };
}

interface Timing {
  p50: number;
  p95: number;
  max: number;
  n: number;
  answer: number | null;
}

function timing(samples: number[], answer: number | null): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: s[s.length - 1]!, n: s.length, answer };
}

/** One request at a time: one warm-up, then up to `samplesPerCell` (at least 3). */
async function sequential(url: string, token: string, answerOf: (body: unknown) => number) {
  const once = async () => {
    const t = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = await response.json();
    const ms = performance.now() - t;
    if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(body)}`);
    return { ms, answer: answerOf(body) };
  };
  await once();
  const samples: number[] = [];
  let answer: number | null = null;
  const begun = performance.now();
  for (let i = 0; i < samplesPerCell; i++) {
    const r = await once();
    samples.push(r.ms);
    answer = r.answer;
    if (i >= 2 && performance.now() - begun > 3000) break;
  }
  return timing(samples, answer);
}

// ---------------------------------------------------------------------------------------------
// Statements as the drivers send them: for the request anatomy and the plans

type Tap = (sql: string, parameters: readonly unknown[], ms: number) => void;
let tap: Tap | null = null;

function installQueryTap() {
  const clientProto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = clientProto.query;
  clientProto.query = function (this: unknown, ...a: unknown[]) {
    const listener = tap;
    const t = performance.now();
    const result = query.apply(this, a);
    if (listener && result instanceof Promise) {
      const config = a[0] as string | { text: string; values?: unknown[] };
      const text = typeof config === 'string' ? config : config.text;
      const values = (typeof config === 'string' ? a[1] : (config.values ?? a[1])) ?? [];
      result.then(
        () => listener(text, values as unknown[], performance.now() - t),
        () => {},
      );
    }
    return result;
  };
  const probe = new BetterSqlite3(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<
    string,
    (...a: unknown[]) => unknown
  >;
  probe.close();
  for (const method of ['all', 'get', 'run'] as const) {
    const original = statementProto[method]!;
    statementProto[method] = function (this: { source: string }, ...a: unknown[]) {
      if (!tap) return original.apply(this, a);
      const t = performance.now();
      const result = original.apply(this, a);
      tap(this.source, (a[0] as unknown[]) ?? [], performance.now() - t);
      return result;
    };
  }
}

/** A statement named for a report: what it does and to which table. */
function statementLabel(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  const verb = /^(\w+(?: into)?)/i.exec(flat)?.[1]?.toLowerCase() ?? '?';
  const table = /\b(?:from|into|update)\s+"?(\w+)"?/i.exec(flat)?.[1] ?? '';
  return `${verb} ${table} | ${flat.slice(0, 70)}`;
}

// ---------------------------------------------------------------------------------------------
// Databases

const pgServer = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const pgName = `haven_http_goals_${String(scale).replace('.', '_')}`;
const pgUrl = pgServer.replace(/\/[^/]*$/, `/${pgName}`);

async function pgAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgServer, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function prepare(database: Database, label: string): Promise<Loaded> {
  if (args.reuse) {
    const found = await database.db
      .selectFrom('organisations')
      .select('id')
      .where('name', '=', fixture.organisationName)
      .executeTakeFirst()
      .catch(() => undefined);
    if (found) {
      await migrateToLatest(database.db);
      say(`${label}: reusing the loaded trust`);
      const loaded = await findLoaded(database, fixture);
      await ensureWideReach(database, loaded);
      return loaded;
    }
  }
  await migrateToLatest(database.db);
  const t = performance.now();
  const loaded = await loadHaven(database, fixture, () => {});
  say(`${label}: loaded in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  return loaded;
}

/** The wide-reach Viewer's membership and links, on a database loaded before they were added. */
async function ensureWideReach(database: Database, loaded: Loaded): Promise<void> {
  const db = database.db;
  const groupId = loaded.userGroup.get(wideReach.group)!;
  const linked = await db
    .selectFrom('student_links')
    .select('student_group_id')
    .where('user_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .execute();
  const have = new Set(linked.map((l) => l.student_group_id));
  const missing = wideReach.links.filter((k) => !have.has(loaded.studentGroup.get(k)!));
  if (missing.length === 0) return;
  const organisationId = loaded.organisationId;
  const principal = installationPrincipal(organisationId);
  await runChange(database, { organisationId, userId: null, via: 'cli' }, async (change) => {
    await addMembersInBulk(
      change,
      principal,
      (await findUserGroup(change.db, organisationId, groupId))!,
      [loaded.user.get(wideReach.user)!],
    );
    const editor = new UserGroupEditor(
      change,
      principal,
      (await findUserGroup(change.db, organisationId, groupId))!,
    );
    for (const key of missing)
      await editor.addStudentLink({
        studentGroupId: loaded.studentGroup.get(key)!,
        rationale: 'Benchmark fixture',
      });
  });
  say(`wide-reach Viewer: ${missing.length} links added to the reused trust`);
}

// ---------------------------------------------------------------------------------------------
// One engine

interface SearchCell {
  caller: string;
  what: 'count' | 'count ?q' | 'page ?q';
  prefix: string;
  t: Timing;
}

interface EngineRun {
  label: 'SQLite' | 'PostgreSQL';
  processes: number;
  bare: Rate;
  /** `GET /api/v1/health` through Haven: its hooks, headers and log line, no database, no session. */
  stack: Rate;
  me: Rate;
  list: Map<string, Rate>;
  profile: Map<string, Rate>;
  searches: SearchCell[];
  hold: { caller: string; worstMs: number; p99Ms: number; heavyMaxMs: number; pings: number }[];
  audit: string;
  auditOk: boolean;
}

/** The servers' processes and, on PostgreSQL, the backends serving this run's database. */
async function serverPids(database: Database, servers: Server[]): Promise<number[]> {
  const pids = servers.map((s) => s.child.pid!);
  if (database.engine !== 'postgres') return pids;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return [...pids, ...rows.map((r) => r.pid)];
  } finally {
    await client.end();
  }
}

async function runEngine(
  label: EngineRun['label'],
  database: Database,
  env: Record<string, string>,
  processes: number,
): Promise<EngineRun> {
  const loaded = await prepare(database, label);
  const tokens = new Map<string, string>();
  for (const c of callers) {
    const session = await createSession(database.db, {
      userId: loaded.user.get(c.user)!,
      organisationId: loaded.organisationId,
      now: new Date().toISOString(),
      limits: { idleMs: 6 * 3_600_000, absoluteMs: 6 * 3_600_000 },
      mfaAt: null,
      ip: null,
      userAgent: 'bench http-goals',
    });
    tokens.set(c.name, session.token);
  }

  // The yardstick first, as many processes as Haven gets, then Haven.
  const bareServers: Server[] = [];
  for (let i = 0; i < processes; i++) bareServers.push(await startBare());
  const bare = await cannon(
    bareServers.map((s) => s.url),
    '/bare',
    undefined,
    async () => bareServers.map((s) => s.child.pid!),
  );
  for (const s of bareServers) await s.stop();
  say(`${label}: bare Fastify ×${processes}: ${bare.rps.toFixed(0)} requests/s`);

  const servers: Server[] = [];
  for (let i = 0; i < processes; i++) servers.push(await startHaven(env));
  const urls = servers.map((s) => s.url);
  const pids = () => serverPids(database, servers);
  const result: EngineRun = {
    label,
    processes,
    bare,
    stack: { rps: 0, p50: 0, p99: 0, errors: 0, cpuMs: 0 },
    me: { rps: 0, p50: 0, p99: 0, errors: 0, cpuMs: 0 },
    list: new Map(),
    profile: new Map(),
    searches: [],
    hold: [],
    audit: '',
    auditOk: false,
  };
  try {
    // What Haven's stack costs before any database or session: the ceiling for every route.
    result.stack = await cannon(urls, '/api/v1/health', undefined, pids);
    say(`${label}: GET /health ${result.stack.rps.toFixed(0)} requests/s`);
    result.me = await cannon(urls, '/api/v1/me', tokens.get(dsl.name), pids);
    say(`${label}: GET /me ${result.me.rps.toFixed(0)} requests/s`);
    for (const c of [dsl, viewer]) {
      const token = tokens.get(c.name)!;
      result.list.set(c.name, await cannon(urls, '/api/v1/students?limit=50', token, pids));
      // Children the caller sees, read from the list itself: every profile read is allowed.
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await (
          await fetch(
            `${urls[0]}/api/v1/students?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            { headers: { authorization: `Bearer ${token}` } },
          )
        ).json()) as { items: { id: string }[]; nextCursor: string | null };
        ids.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor;
      } while (cursor && ids.length < 2000);
      let next = 0;
      result.profile.set(
        c.name,
        await cannon(urls, () => `/api/v1/students/${ids[next++ % ids.length]}`, token, pids),
      );
      say(
        `${label}: ${c.name}: first page ${result.list.get(c.name)!.rps.toFixed(0)}/s, profile ${result.profile.get(c.name)!.rps.toFixed(0)}/s (over ${ids.length} children)`,
      );
    }

    // Counts and searches, one request at a time, on the first server.
    const base = `${urls[0]}/api/v1/students`;
    for (const c of callers) {
      const token = tokens.get(c.name)!;
      const count = (b: unknown) => (b as { count: number }).count;
      const items = (b: unknown) => (b as { items: unknown[] }).items.length;
      result.searches.push({
        caller: c.name,
        what: 'count',
        prefix: '',
        t: await sequential(`${base}/count`, token, count),
      });
      for (const { prefix } of prefixes) {
        result.searches.push({
          caller: c.name,
          what: 'count ?q',
          prefix,
          t: await sequential(`${base}/count?q=${encodeURIComponent(prefix)}`, token, count),
        });
        result.searches.push({
          caller: c.name,
          what: 'page ?q',
          prefix,
          t: await sequential(`${base}?q=${encodeURIComponent(prefix)}&limit=50`, token, items),
        });
      }
    }
    say(`${label}: counts and searches timed`);

    // Head-of-line blocking: /health every 10 ms while four heavy requests run, over and over.
    for (const c of [widest, wide, lead]) {
      const token = tokens.get(c.name)!;
      const [p1, p1b] = prefixes;
      const heavy = [
        `${base}/count`,
        `${base}/count?q=${p1!.prefix}`,
        `${base}?q=${p1!.prefix}&limit=50`,
        `${base}?q=${p1b!.prefix}&limit=50`,
      ];
      let running = true;
      let heavyMax = 0;
      const load = (async () => {
        while (running) {
          const t = performance.now();
          await Promise.all(
            heavy.map((u) =>
              fetch(u, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()),
            ),
          );
          heavyMax = Math.max(heavyMax, performance.now() - t);
        }
      })();
      const pings: number[] = [];
      const until = performance.now() + holdMs;
      while (performance.now() < until) {
        const t = performance.now();
        await (await fetch(`${urls[0]}/api/v1/health`)).text();
        const ms = performance.now() - t;
        pings.push(ms);
        await sleep(Math.max(0, 10 - ms));
      }
      running = false;
      await load;
      const sorted = [...pings].sort((a, b) => a - b);
      result.hold.push({
        caller: c.name,
        worstMs: sorted[sorted.length - 1]!,
        p99Ms: sorted[Math.floor(0.99 * (sorted.length - 1))]!,
        heavyMaxMs: heavyMax,
        pings: pings.length,
      });
    }
    say(`${label}: head-of-line test done`);
  } finally {
    for (const s of servers) await s.stop();
  }

  const report = await verifyAuditChains(database.db);
  result.auditOk = report.problems.length === 0;
  result.audit = result.auditOk
    ? `verifies: ${report.chains} chains, ${report.rows.toLocaleString('en-GB')} rows`
    : `**does not verify**: ${report.problems.map((p) => p.message).join('; ')}`;
  say(`${label}: audit chain ${result.audit}`);

  if (args.explain) await explainHeavy(database, loaded);
  if (args.profile) await profileEngine(label, database, env, loaded, tokens);
  return result;
}

// ---------------------------------------------------------------------------------------------
// --explain: the plans of the widest callers' counts and short-prefix searches

async function explainHeavy(database: Database, loaded: Loaded) {
  const service = new StudentService(database);
  for (const c of [widest, wide, lead]) {
    const principal = await loadPrincipal(
      database.db,
      loaded.organisationId,
      loaded.user.get(c.user)!,
    );
    const q = prefixes[0]!.prefix;
    const calls: [string, () => Promise<unknown>][] = [
      ['count', () => service.count(principal, {})],
      [`count q=${q}`, () => service.count(principal, { q })],
      [`first page q=${q}`, () => service.list(principal, { limit: 50, q })],
    ];
    for (const [what, call] of calls) {
      await call();
      const captured: { sql: string; parameters: readonly unknown[]; ms: number }[] = [];
      tap = (sql, parameters, ms) => captured.push({ sql, parameters, ms });
      const t = performance.now();
      await call();
      const total = performance.now() - t;
      tap = null;
      console.log(
        `\n=== ${database.engine}: ${c.name} (${c.sees} children), ${what}: ${total.toFixed(1)} ms in ${captured.length} statements`,
      );
      for (const s of captured) {
        if (!/^\s*(select|with)/i.test(s.sql)) continue;
        console.log(
          `--- ${s.ms.toFixed(1)} ms: ${s.sql}\n    parameters ${JSON.stringify(s.parameters)}`,
        );
        const run = (prefix: string) =>
          database.db.executeQuery<Record<string, unknown>>(
            CompiledQuery.raw(`${prefix} ${s.sql}`, [...s.parameters]),
          );
        if (database.engine === 'sqlite') {
          const { rows } = await run('explain query plan');
          const depth = new Map<number, number>([[0, -1]]);
          for (const row of rows) {
            const level = (depth.get(Number(row.parent)) ?? -1) + 1;
            depth.set(Number(row.id), level);
            console.log(`    ${'  '.repeat(level)}${String(row.detail)}`);
          }
        } else {
          const { rows } = await run('explain (analyze, buffers)');
          for (const row of rows) console.log(`    ${String(row['QUERY PLAN'])}`);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// --profile: CPU profiles of `haven serve`, and each request's statements

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const src = /\/src\/([^/]+)\/(?:([^/]+)\/)?/.exec(url);
  if (src) return src[1] === 'modules' ? `src/modules/${src[2]}` : `src/${src[1]}`;
  if (url.includes('/bin/')) return 'bin';
  return url.replace(/^file:\/\//, '');
}

/** Busy time by area (self and on the stack) and the hottest functions, from a .cpuprofile. */
function summariseProfile(file: string, skipMs: number): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(`${root}/`, '');
    // tsx's output keeps no line numbers of Haven's own files: their names say enough.
    const line = url.startsWith('src/') ? '' : `:${n.callFrame.lineNumber + 1}`;
    return `${n.callFrame.functionName || '(anonymous)'} ${url}${line}`;
  };
  const self = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const stackArea = new Map<string, number>();
  const stackSrc = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let clock = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    clock += (profile.timeDeltas[i] ?? 0) / 1000;
    // Start-up and warm-up are left out.
    if (clock < skipMs) return;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      return;
    }
    busy += ms;
    self.set(key(node), (self.get(key(node)) ?? 0) + ms);
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    selfArea.set(area, (selfArea.get(area) ?? 0) + ms);
    const areas = new Set<string>();
    const srcs = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      areas.add(areaOf(n.callFrame.url, n.callFrame.functionName));
      if (n.callFrame.url.includes('/src/')) srcs.add(key(n));
    }
    for (const a of areas) stackArea.set(a, (stackArea.get(a) ?? 0) + ms);
    for (const s of srcs) stackSrc.set(s, (stackSrc.get(s) ?? 0) + ms);
  });
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)}%`;
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `    ${pct(ms).padStart(6)}  ${k}`);
  return [
    `  busy ${(busy / 1000).toFixed(1)} s, idle ${(idle / 1000).toFixed(1)} s`,
    '  self time by area:',
    ...top(selfArea, 18),
    '  on the stack, by area:',
    ...top(stackArea, 18),
    '  hottest functions (self):',
    ...top(self, 25),
    "  Haven's functions on the stack (synchronous parts only):",
    ...top(stackSrc, 25),
  ];
}

async function profileEngine(
  label: string,
  database: Database,
  env: Record<string, string>,
  loaded: Loaded,
  tokens: Map<string, string>,
) {
  const dir = path.resolve(args.profile!);
  // A child's profile for the DSL, rotating over their first children.
  const principal = await loadPrincipal(
    database.db,
    loaded.organisationId,
    loaded.user.get(dsl.user)!,
  );
  const page = await new StudentService(database).list(principal, { limit: 200 });
  const ids = page.items.map((s) => s.id);
  let next = 0;
  const endpoints: [string, string | (() => string)][] = [
    ['me', '/api/v1/me'],
    ['student', () => `/api/v1/students/${ids[next++ % ids.length]}`],
    ['students', '/api/v1/students?limit=50'],
  ];
  for (const [name, target] of endpoints) {
    const out = path.join(dir, `${label.toLowerCase()}-${name}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const server = await startHaven(env, out);
    const rate = await cannon([server.url], target, tokens.get(dsl.name), () =>
      serverPids(database, [server]),
    );
    await server.stop();
    const file = readdirSync(out).find((f) => f.endsWith('.cpuprofile'));
    console.log(
      `\n=== CPU profile, ${label}, ${name} (one process, ${rate.rps.toFixed(0)} requests/s under the profiler): ${file ? path.join(out, file) : 'no profile written'}`,
    );
    const skipMs = server.startupMs + warmupSeconds * 1000 + 1000;
    if (file) for (const line of summariseProfile(path.join(out, file), skipMs)) console.log(line);
  }

  // The statements of each request, in this process, one request at a time.
  const app = await buildApp({
    config: loadConfig({ ...env, HAVEN_LOG_LEVEL: 'silent', HAVEN_WORKER: 'off' }),
    database,
  });
  const token = tokens.get(dsl.name)!;
  for (const [name, target] of endpoints) {
    const urlOf = () => (typeof target === 'string' ? target : target());
    const inject = () =>
      app.inject({ method: 'GET', url: urlOf(), headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 50; i++) await inject();
    const runs = quick ? 50 : 300;
    const statements = new Map<string, { calls: number; ms: number }>();
    const perRequest: {
      n: number;
      dbMs: number;
      totalMs: number;
      cpuMs: number;
      lockMs: number | null;
    }[] = [];
    for (let i = 0; i < runs; i++) {
      let n = 0;
      let dbMs = 0;
      // How long the audit chain's head is held: from the statement that takes it (BEGIN
      // IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL) to the end of COMMIT.
      let lockedAt: number | null = null;
      let lockMs: number | null = null;
      tap = (sql, _parameters, ms) => {
        n += 1;
        dbMs += ms;
        const now = performance.now();
        if (/^begin immediate|for update$/i.test(sql.trim())) lockedAt = now - ms;
        if (/^commit/i.test(sql.trim()) && lockedAt !== null) lockMs = now - lockedAt;
        const k = statementLabel(sql);
        const s = statements.get(k) ?? { calls: 0, ms: 0 };
        s.calls += 1;
        s.ms += ms;
        statements.set(k, s);
      };
      const t = performance.now();
      const cpu = process.cpuUsage();
      const response = await inject();
      const totalMs = performance.now() - t;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      // The last statement's promise settles after the answer on PostgreSQL: let it.
      await sleep(0);
      tap = null;
      if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode}`);
      perRequest.push({ n, dbMs, totalMs, cpuMs, lockMs });
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const held = perRequest.flatMap((r) => (r.lockMs === null ? [] : [r.lockMs]));
    console.log(
      `\n=== Statements per request, ${label}, ${name} (in process, one at a time, ${runs} requests): ${med(perRequest.map((r) => r.n))} statements, ${med(perRequest.map((r) => r.dbMs)).toFixed(2)} ms in the driver, ${med(perRequest.map((r) => r.totalMs)).toFixed(2)} ms in all, ${med(perRequest.map((r) => r.cpuMs)).toFixed(2)} ms of this process's CPU${held.length > 0 ? `, the chain's head held ${med(held).toFixed(2)} ms` : ''} (medians; the driver's time on PostgreSQL is a round trip)`,
    );
    for (const [k, s] of [...statements].sort((a, b) => b[1].ms - a[1].ms))
      console.log(`    ${(s.calls / runs).toFixed(2)}×  ${(s.ms / s.calls).toFixed(3)} ms  ${k}`);
  }
  await app.close();
}

// ---------------------------------------------------------------------------------------------
// The run

say(
  `HTTP goals: scale ${scale}${quick ? ' (quick)' : ''}, ${fixture.students.length.toLocaleString('en-GB')} students, ${connections} connections, ${seconds} s per rate, log level ${args['log-level']}`,
);
say(
  `callers: ${callers.map((c) => `${c.name} (${c.role}, sees ${c.sees})`).join('; ')}; prefixes: ${prefixes.map((p) => `${p.prefix} (${p.children})`).join(', ')}`,
);
installQueryTap();
const runs: EngineRun[] = [];
const skipped: string[] = [];

if (!args['no-sqlite']) {
  const dataDir = path.join(os.tmpdir(), `haven-http-goals-${String(scale).replace('.', '_')}`);
  if (!args.reuse) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const database = openDatabase({ dataDir });
  try {
    runs.push(await runEngine('SQLite', database, { HAVEN_DATA_DIR: dataDir }, 1));
  } finally {
    await database.close();
    if (!args.reuse) rmSync(dataDir, { recursive: true, force: true });
  }
}

if (!args['no-pg']) {
  let ready = true;
  try {
    if (!args.reuse) await pgAdmin(`drop database if exists ${pgName}`);
    await pgAdmin(`create database ${pgName}`).catch((error: Error) => {
      if (!/already exists/.test(error.message)) throw error;
    });
  } catch (error) {
    ready = false;
    skipped.push(`PostgreSQL skipped: ${(error as Error).message} (${pgServer})`);
    say(skipped[skipped.length - 1]);
  }
  if (ready) {
    const dataDir = path.join(
      os.tmpdir(),
      `haven-http-goals-pg-${String(scale).replace('.', '_')}`,
    );
    mkdirSync(dataDir, { recursive: true });
    const database = openDatabase({ databaseUrl: pgUrl });
    try {
      runs.push(
        await runEngine(
          'PostgreSQL',
          database,
          { DATABASE_URL: pgUrl, HAVEN_DATA_DIR: dataDir },
          2,
        ),
      );
    } finally {
      await database.close();
      if (!args.reuse) {
        await pgAdmin(`drop database if exists ${pgName}`);
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The report

const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0));
const pc = (x: number) => `${(100 * x).toFixed(0)}%`;
const met = (ok: boolean) => (ok ? 'met' : '**missed**');
const rate = (r: Rate) =>
  `${r.rps.toFixed(0)} | ${r.p50} ms | ${r.p99} ms | ${r.cpuMs.toFixed(2)} ms | ${r.errors}`;
const cpus = os.cpus();
const loadAtEnd = os.loadavg();
const lines: string[] = [];
const out = (line = '') => lines.push(line);
out('<!-- http-goals:start (bench/http-goals.ts replaces this section) -->');
out('## HTTP goals (issue 17)');
out();
out(
  `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:http${quick ? ' -- --quick' : scale === 1 ? '' : ` -- --scale ${scale}`}\` in ${((performance.now() - started) / 1000).toFixed(0)} s: ${fixture.students.length.toLocaleString('en-GB')} students (scale ${scale}), ${connections} connections, ${seconds} s per rate after ${warmupSeconds} s of warm-up, Haven's log level \`${args['log-level']}\` (the bare route logs nothing).`,
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Fastify ${JSON.parse(readFileSync(path.join(root, 'node_modules/fastify/package.json'), 'utf8')).version}; load average ${loadAtStart[0]!.toFixed(1)} at the start, ${loadAtEnd[0]!.toFixed(1)} at the end.${args.note ? ` ${args.note}` : ''}`,
);
for (const s of skipped) out(`${s}.`);
out();
out(
  'Rates are autocannon’s mean requests per second, with its median and p99 latency. "Server CPU per request" is the CPU time the server processes (and, on PostgreSQL, the backends of the run’s database) used during the timed run, over the requests answered: it moves much less than the rates when other work shares the machine, and the goals also show the ratios it gives. On PostgreSQL two `haven serve` processes share the connections, and the bare route runs as two processes too; on SQLite one of each. Profile reads rotate over up to 2,000 children the caller sees, and each writes its access-log row. The harness, autocannon and the servers share the machine.',
);
out();
out(
  '| Database | Request | Caller | Requests/s | Median | p99 | Server CPU per request | Errors |',
);
out('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of runs) {
  out(`| ${r.label} | \`GET /bare\` (×${r.processes}) | – | ${rate(r.bare)} |`);
  out(`| ${r.label} | \`GET /api/v1/health\` (no database) | – | ${rate(r.stack)} |`);
  out(`| ${r.label} | \`GET /api/v1/me\` | ${dsl.name} | ${rate(r.me)} |`);
  for (const c of [dsl, viewer]) {
    out(
      `| ${r.label} | \`GET /api/v1/students?limit=50\` | ${c.name} | ${rate(r.list.get(c.name)!)} |`,
    );
    out(
      `| ${r.label} | \`GET /api/v1/students/:id\` | ${c.name} | ${rate(r.profile.get(c.name)!)} |`,
    );
  }
}
out();
out('| Goal | Database | | Measured |');
out('| --- | --- | --- | --- |');
for (const r of runs) {
  const meRatio = r.me.rps / r.bare.rps;
  const byCpu = (a: Rate, b: Rate) => ` (by CPU per request: ${pc(b.cpuMs / a.cpuMs)})`;
  out(
    `| \`/me\` ≥ ${pc(GOALS.me)} of bare | ${r.label} | ${met(meRatio >= GOALS.me)} | ${pc(meRatio)}${byCpu(r.me, r.bare)} |`,
  );
  out(
    `| for information: \`/health\` through Haven's stack (no database), of bare | ${r.label} | – | ${pc(r.stack.rps / r.bare.rps)}${byCpu(r.stack, r.bare)} |`,
  );
  for (const c of [dsl, viewer]) {
    const list = r.list.get(c.name)!.rps;
    const profile = r.profile.get(c.name)!.rps;
    out(
      `| first page ≥ ${pc(GOALS.firstPage)} of bare (${c.name}) | ${r.label} | ${met(list / r.bare.rps >= GOALS.firstPage)} | ${pc(list / r.bare.rps)}${byCpu(r.list.get(c.name)!, r.bare)} |`,
    );
    out(
      `| profile ≥ ${pc(GOALS.profile)} of first page (${c.name}) | ${r.label} | ${met(profile / list >= GOALS.profile)} | ${pc(profile / list)}${byCpu(r.profile.get(c.name)!, r.list.get(c.name)!)} |`,
    );
  }
  out(`| audit chain verifies afterwards | ${r.label} | ${met(r.auditOk)} | ${r.audit} |`);
  const goal = r.label === 'SQLite' ? GOALS.sqliteMs : GOALS.postgresMs;
  const worst = r.searches.reduce((a, b) => (b.t.p50 > a.t.p50 ? b : a));
  const worst95 = r.searches.reduce((a, b) => (b.t.p95 > a.t.p95 ? b : a));
  const over = r.searches.filter((s) => s.t.p50 > goal).length;
  out(
    `| every count and searched first page ≤ ${goal} ms | ${r.label} | ${met(worst.t.p50 <= goal)} | ${over} of ${r.searches.length} over by median; worst median ${ms(worst.t.p50)} ms (${worst.caller}, ${worst.what}${worst.prefix ? ` ${worst.prefix}` : ''}), worst p95 ${ms(worst95.t.p95)} ms |`,
  );
  for (const h of r.hold)
    out(
      `| no request held up > ${GOALS.holdMs} ms${r.label === 'SQLite' ? '' : ' (for information)'} (${h.caller}) | ${r.label} | ${met(h.worstMs <= GOALS.holdMs)} | \`/health\` worst ${ms(h.worstMs)} ms, p99 ${ms(h.p99Ms)} ms over ${h.pings} pings; the four heavy requests took up to ${ms(h.heavyMaxMs)} ms |`,
    );
}
out();
out(
  `Counts and searches, one request at a time (p50 / p95 / max in ms; ${samplesPerCell} timed requests a cell after one warm-up, fewer once a cell has spent 3 s). "worst ?q" is the slowest prefix by median. Prefixes (children whose name has a word starting so): ${prefixes.map((p) => `\`${p.prefix}\` ${p.children.toLocaleString('en-GB')}`).join(', ')}.`,
);
out();
const triple = (t: Timing) => `${ms(t.p50)} / ${ms(t.p95)} / ${ms(t.max)}`;
out('| Database | Caller | Role | Sees | Count | Worst count ?q | Worst first page ?q |');
out('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of runs) {
  for (const c of callers) {
    const mine = r.searches.filter((s) => s.caller === c.name);
    const count = mine.find((s) => s.what === 'count')!;
    const worstOf = (what: SearchCell['what']) =>
      mine.filter((s) => s.what === what).reduce((a, b) => (b.t.p50 > a.t.p50 ? b : a));
    const wc = worstOf('count ?q');
    const wp = worstOf('page ?q');
    out(
      `| ${r.label} | ${c.name} | ${c.role} | ${c.sees.toLocaleString('en-GB')} | ${triple(count.t)} | \`${wc.prefix}\` ${triple(wc.t)} | \`${wp.prefix}\` ${triple(wp.t)} |`,
    );
  }
}
out();
out('| Database | Prefix | Worst count ?q (caller) | Worst first page ?q (caller) |');
out('| --- | --- | --- | --- |');
for (const r of runs) {
  for (const { prefix } of prefixes) {
    const mine = r.searches.filter((s) => s.prefix === prefix);
    const worstOf = (what: SearchCell['what']) =>
      mine.filter((s) => s.what === what).reduce((a, b) => (b.t.p50 > a.t.p50 ? b : a));
    const wc = worstOf('count ?q');
    const wp = worstOf('page ?q');
    out(
      `| ${r.label} | \`${prefix}\` | ${triple(wc.t)} (${wc.caller}) | ${triple(wp.t)} (${wp.caller}) |`,
    );
  }
}
out('<!-- http-goals:end -->');

const section = lines.join('\n');
console.log(`\n${section}`);
if (!args['no-write']) {
  const file = path.join(here, 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const pattern = /<!-- http-goals:start[\s\S]*?<!-- http-goals:end -->/;
  writeFileSync(
    file,
    pattern.test(current)
      ? current.replace(pattern, section)
      : `${current.trimEnd()}\n\n${section}\n`,
  );
  say(`wrote ${path.relative(root, file)}`);
}
process.exit(runs.every((r) => r.auditOk) ? 0 : 1);
