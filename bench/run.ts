/**
 * Haven's access engine against SpiceDB, Cedar and Casbin, on one large trust, in one process.
 *
 *   npm run bench                       the full trust (scale 1); writes bench/RESULTS.md
 *   npm run bench -- --quick            the whole run at scale 0.02, in under a minute
 *   npm run bench -- --scale 0.2 --seed 7 --peers cedar,casbin --no-pg --no-http
 *   npm run bench -- --peer-budget 20   minutes each peer has for its cross-check, and again
 *                                       for its timing (default 12; 1 at --quick)
 *
 * Every engine gets the same fixture. Before timing, each peer's answers are compared with
 * Haven's on sampled pairs, on every persona's full list and pages, and on who can see each
 * persona's student; a peer that disagrees is reported and not timed. Nothing here asserts a time:
 * the goals are printed as met or missed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { type Fixture, generateFixture } from './fixture.ts';
import type { AloneTask } from './haven-alone.ts';
import { HavenOperations } from './haven-ops.ts';
import { runHttp } from './http.ts';
import { StudentIndex } from './listing.ts';
import { type Loaded, loadHaven } from './load-haven.ts';
import { ReferenceModel } from './reference.ts';
import { formatMs, MemoryWatch, measure, type Summary, summarise } from './stats.ts';
import {
  HavenSubject,
  PAGE,
  PeerSubject,
  type PersonaPlan,
  planPersonas,
  type Subject,
} from './subjects.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    seed: { type: 'string' },
    peers: { type: 'string' },
    'no-pg': { type: 'boolean', default: false },
    'no-http': { type: 'boolean', default: false },
    out: { type: 'string' },
    'peer-budget': { type: 'string' },
  },
});
const quick = args.quick;
const scale = Number(args.scale ?? (quick ? 0.02 : 1));
const seed = args.seed === undefined ? undefined : Number(args.seed);
if (!(scale > 0 && scale <= 1)) throw new Error('--scale takes a number in (0, 1]');

/** Repetitions per operation; slow engines stop early at the budget (see measure). */
const effort = quick
  ? {
      check: 100,
      list: 10,
      admin: 5,
      revoke: 3,
      warmup: 0,
      minSamples: 1,
      budgetMs: 100,
      peerBudgetMs: 60_000,
      http: { amount: 50 },
    }
  : {
      check: 2000,
      list: 100,
      admin: 30,
      revoke: 20,
      warmup: 3,
      minSamples: 3,
      budgetMs: 5_000,
      peerBudgetMs: 12 * 60_000,
      http: { seconds: 5 },
    };

const started = performance.now();
const here = import.meta.dirname;
const root = path.resolve(here, '..');
const say = (line = '') => console.log(line);
/** Progress lines carry the seconds since the start. */
const progress = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

// ---------------------------------------------------------------------------------------------
// Engines and results

const OPERATIONS = [
  'check',
  'load the caller',
  'first page',
  'search',
  'deep page',
  'who can see',
  'explain',
  'effective permissions',
  'revoke then check',
] as const;
type Operation = (typeof OPERATIONS)[number];

interface EngineResult {
  name: string;
  status: 'timed' | 'disagrees' | 'skipped' | 'failed';
  note: string;
  loadMs: number;
  /** Peak resident memory of the process while the engine loaded and ran, and what it added. */
  peakMb: number;
  addedMb: number;
  /** Haven only: peak memory of Haven's operations run in a process of their own, and of `haven serve`. */
  ownPeakMb: number;
  servePeakMb: number;
  /** Haven on PostgreSQL: one `select 1` to the server and back, the floor under every query. */
  roundTrip?: Summary;
  ops: Map<Operation, Map<string, Summary | string>>;
}

const results: EngineResult[] = [];

function newResult(name: string): EngineResult {
  const result: EngineResult = {
    name,
    status: 'timed',
    note: '',
    loadMs: Number.NaN,
    peakMb: Number.NaN,
    addedMb: Number.NaN,
    ownPeakMb: Number.NaN,
    servePeakMb: Number.NaN,
    ops: new Map(OPERATIONS.map((op) => [op, new Map()])),
  };
  results.push(result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Fixture

say(`Haven benchmark: scale ${scale}${quick ? ' (quick)' : ''}, ${new Date().toISOString()}`);
let t0 = performance.now();
const fixture: Fixture = generateFixture({ scale, ...(seed === undefined ? {} : { seed }) });
const reference = new ReferenceModel(fixture);
const plans = planPersonas(fixture, reference);
const index = new StudentIndex(fixture);
const memberships = fixture.userGroups.reduce((n, g) => n + g.members.length, 0);
const fixtureSummary = `${fixture.schools.length} schools in ${fixture.schoolGroups.length} school groups, ${fixture.students.length.toLocaleString('en-GB')} students, ${fixture.users.length.toLocaleString('en-GB')} users, ${fixture.userGroups.length} user groups with ${memberships.toLocaleString('en-GB')} memberships, ${fixture.directLinks.length} direct links, ${fixture.blocks.length} blocks (seed ${fixture.seed})`;
progress(`fixture: ${fixtureSummary}, made in ${formatMs(performance.now() - t0)}`);

/** Sampled pairs for the cross-check: near, same-school and anywhere students for role holders. */
function samplePairs(): [string, string][] {
  let state = fixture.seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const holders = new Set<string>();
  const groups = new Map(fixture.userGroups.map((g) => [g.key, g]));
  for (const grant of fixture.grants) {
    if (grant.subject.type === 'user') holders.add(grant.subject.key);
    else
      for (const m of groups.get(grant.subject.key)?.members.slice(0, 2000) ?? []) holders.add(m);
  }
  const users = [...holders];
  const pairs: [string, string][] = [];
  for (let i = 0; i < (quick ? 60 : 100); i++) {
    const user = pick(users);
    const visible = [...reference.visible(user)];
    pairs.push([user, visible.length > 0 ? pick(visible) : pick(fixture.students).key]);
    pairs.push([user, pick(fixture.students).key]);
  }
  for (const b of fixture.blocks.slice(0, 100)) pairs.push([b.user, b.student]);
  for (const l of fixture.directLinks.slice(0, 50)) pairs.push([l.user, l.student]);
  for (const p of fixture.personas) pairs.push([p.user, p.student]);
  return pairs;
}
const pairs = samplePairs();

// ---------------------------------------------------------------------------------------------
// Haven's answers: the yardstick every peer is held to (Haven itself is held to the reference)

interface Answers {
  checks: boolean[];
  visible: Map<string, Set<string>>;
  /** Haven's own pages (a peer's pages are cut from its lookup by the harness, as the reference's are). */
  pages?: Map<string, { first: string[]; search: string[]; deep: string[] }>;
  viewers: Map<string, Set<string>>;
  /** How long the cross-check's lookups took: `visible:<user>`, `viewers:<student>` (ms). */
  costs: Map<string, number>;
  /** Set when the budget ran out: where, and which stages were answered in full before it. */
  cutShort?: { at: string; complete: ReadonlySet<Stage> };
}

/** The cross-check's stages, in the order it asks them. */
type Stage = 'checks' | 'lists' | 'viewers';

/** What each operation's figures rest on: a peer is timed only on what it was checked on. */
const RESTS_ON: Record<Operation, Stage> = {
  check: 'checks',
  'load the caller': 'checks',
  'first page': 'lists',
  search: 'lists',
  'deep page': 'lists',
  'who can see': 'viewers',
  explain: 'checks',
  'effective permissions': 'checks',
  'revoke then check': 'checks',
};

/** Raised when a peer's time budget runs out; the harness reports what was reached. */
class OutOfTime extends Error {}

function within(deadline: number, what: string) {
  if (performance.now() > deadline) throw new OutOfTime(what);
}

/**
 * Every answer the cross-check compares: the sampled checks, then each persona's list (and
 * pages), then who can see each persona's student. When the deadline passes, what was answered
 * so far is returned, with the stages that were answered in full.
 */
async function answersOf(
  subject: Subject,
  withPages: boolean,
  deadline = Number.POSITIVE_INFINITY,
): Promise<Answers> {
  const answers: Answers = {
    checks: [],
    visible: new Map(),
    viewers: new Map(),
    costs: new Map(),
    ...(withPages ? { pages: new Map() } : {}),
  };
  const complete = new Set<Stage>();
  try {
    const byUser = new Map<string, PersonaPlan>();
    for (const [user, student] of pairs) {
      const plan = byUser.get(user) ?? {
        persona: { name: user, user, student, search: '' },
        deepPage: 0,
        revokeGroup: undefined,
      };
      byUser.set(user, plan);
      within(deadline, `the cross-check, after ${answers.checks.length} of ${pairs.length} checks`);
      answers.checks.push(await subject.check(plan, student));
    }
    complete.add('checks');
    for (const plan of plans) {
      within(deadline, `the cross-check, at the lists of ${plan.persona.name}`);
      const t = performance.now();
      answers.visible.set(plan.persona.user, await subject.allVisible(plan));
      answers.costs.set(`visible:${plan.persona.user}`, performance.now() - t);
      answers.pages?.set(plan.persona.user, {
        first: await subject.firstPage(plan),
        search: await subject.search(plan),
        deep: await subject.deepPage(plan),
      });
    }
    complete.add('lists');
    for (const plan of plans) {
      if (answers.viewers.has(plan.persona.student)) continue;
      within(deadline, `the cross-check, at who can see ${plan.persona.student}`);
      const t = performance.now();
      answers.viewers.set(plan.persona.student, await subject.allWhoCanSee(plan.persona.student));
      answers.costs.set(`viewers:${plan.persona.student}`, performance.now() - t);
    }
    complete.add('viewers');
  } catch (error) {
    if (!(error instanceof OutOfTime)) throw error;
    answers.cutShort = { at: error.message, complete };
  }
  return answers;
}

const sameSet = (a: Set<string>, b: Set<string>) =>
  a.size === b.size && [...a].every((k) => b.has(k));
const sameList = (a: string[], b: string[]) =>
  a.length === b.length && a.every((k, i) => k === b[i]);

/** Differences between two sets of answers, worded for the report (empty when they agree). */
function compare(got: Answers, want: Answers, gotName: string, wantName: string): string[] {
  const problems: string[] = [];
  // A cross-check cut short is compared on what it answered.
  const wrong = got.checks.flatMap((g, i) => (g === want.checks[i] ? [] : [pairs[i]!]));
  if (wrong.length > 0)
    problems.push(
      `${wrong.length} of ${pairs.length} checks differ (first: ${wrong[0]![0]} / ${wrong[0]![1]})`,
    );
  for (const plan of plans) {
    const who = plan.persona.name;
    const g = got.visible.get(plan.persona.user);
    const w = want.visible.get(plan.persona.user)!;
    if (!g) continue;
    if (!sameSet(g, w)) problems.push(`${who}: ${gotName} lists ${g.size}, ${wantName} ${w.size}`);
    const gp = got.pages?.get(plan.persona.user);
    const wp = want.pages?.get(plan.persona.user);
    if (!gp || !wp) continue;
    for (const page of ['first', 'search', 'deep'] as const)
      if (!sameList(gp[page], wp[page])) problems.push(`${who}: the ${page} page differs`);
  }
  for (const [student, w] of want.viewers) {
    const g = got.viewers.get(student);
    if (!g) continue;
    if (!sameSet(g, w))
      problems.push(`who can see ${student}: ${gotName} ${g.size}, ${wantName} ${w.size}`);
  }
  return problems;
}

/** Haven against the reference model, written separately over the fixture. */
function referenceAnswers(): Answers {
  const visible = new Map(plans.map((p) => [p.persona.user, reference.visible(p.persona.user)]));
  const pages = new Map(
    plans.map((p) => {
      const keys = visible.get(p.persona.user)!;
      return [
        p.persona.user,
        {
          first: index.page(keys, { limit: PAGE }),
          search: index.page(keys, { limit: PAGE, q: p.persona.search }),
          deep: index.page(keys, { limit: PAGE, afterIndex: p.deepPage * PAGE }),
        },
      ];
    }),
  );
  const candidates = new Set<string>([
    ...fixture.userGroups.flatMap((g) => g.members),
    ...fixture.grants.filter((g) => g.subject.type === 'user').map((g) => g.subject.key),
    ...fixture.directLinks.map((l) => l.user),
  ]);
  const viewers = new Map<string, Set<string>>();
  for (const p of plans) {
    if (viewers.has(p.persona.student)) continue;
    // Only users who hold a role at the student's school can qualify.
    viewers.set(
      p.persona.student,
      new Set([...candidates].filter((u) => reference.check(u, p.persona.student))),
    );
  }
  return {
    checks: pairs.map(([u, s]) => reference.check(u, s)),
    visible,
    pages,
    viewers,
    costs: new Map(),
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

/**
 * A lookup that took longer than this in the cross-check is not repeated: its one call there is
 * the sample (a peer that needs minutes to list a million users is reported from that call).
 */
const REUSE_AFTER_MS = 10_000;

async function timeSubject(
  subject: Subject,
  result: EngineResult,
  costs: Map<string, number>,
  deadline = Number.POSITIVE_INFINITY,
  checked: ReadonlySet<Stage> = new Set(['checks', 'lists', 'viewers']),
) {
  for (const plan of plans) {
    await subject.prepare(plan);
    const who = plan.persona.name;
    const record = async (
      op: Operation,
      fn: (i: number) => Promise<unknown>,
      iterations: number,
    ) => {
      const lookup =
        op === 'who can see' ? `viewers:${plan.persona.student}` : `visible:${plan.persona.user}`;
      const reusable = ['first page', 'search', 'deep page', 'who can see'].includes(op);
      const cost = reusable ? costs.get(lookup) : undefined;
      if (!checked.has(RESTS_ON[op])) {
        result.ops.get(op)!.set(who, 'not timed: not cross-checked');
        return;
      }
      if (performance.now() > deadline) {
        result.ops.get(op)!.set(who, 'not run: time budget spent');
        return;
      }
      if (cost !== undefined && cost > REUSE_AFTER_MS) {
        result.ops.get(op)!.set(who, summarise([cost]));
        return;
      }
      result.ops.get(op)!.set(
        who,
        await measure(fn, {
          iterations,
          warmup: effort.warmup,
          budgetMs: effort.budgetMs,
          minSamples: effort.minSamples,
        }),
      );
    };
    await record('check', () => subject.check(plan), effort.check);
    if (subject.loadCaller)
      await record('load the caller', () => subject.loadCaller!(plan), effort.check);
    await record('first page', () => subject.firstPage(plan), effort.list);
    await record('search', () => subject.search(plan), effort.list);
    await record('deep page', () => subject.deepPage(plan), effort.list);
    await record('who can see', () => subject.whoCanSee(plan), effort.admin);
    await record('explain', () => subject.explain(plan), effort.admin);
    await record('effective permissions', () => subject.effective(plan), effort.admin);
    if (plan.revokeGroup === undefined) {
      result.ops.get('revoke then check')!.set(who, 'no single group to revoke');
      continue;
    }
    if (!checked.has(RESTS_ON['revoke then check'])) {
      result.ops.get('revoke then check')!.set(who, 'not timed: not cross-checked');
      continue;
    }
    if (performance.now() > deadline) {
      result.ops.get('revoke then check')!.set(who, 'not run: time budget spent');
      continue;
    }
    // Timed: the removal and the check after it; the check must deny. Putting back is untimed.
    const samples: number[] = [];
    for (let i = 0; i < effort.revoke; i++) {
      const t = performance.now();
      const after = await subject.revokeThenCheck(plan);
      samples.push(performance.now() - t);
      await subject.restore(plan);
      if (after) {
        result.status = 'disagrees';
        result.note = `${who} still sees ${plan.persona.student} after leaving ${plan.revokeGroup}`;
        break;
      }
    }
    result.ops.get('revoke then check')!.set(who, summarise(samples));
  }
}

// ---------------------------------------------------------------------------------------------
// Haven on SQLite and on PostgreSQL

let havenAnswers: Answers | undefined;
const sqliteDir = mkdtempSync(path.join(os.tmpdir(), 'haven-bench-'));
const httpTargets: {
  label: string;
  env: Record<string, string>;
  database: Database;
  loaded: Loaded;
}[] = [];

/**
 * Haven's own peak memory: every persona's operations (check, every page, search, count, who can
 * see, explain, effective permissions) on the loaded database, in a child process that holds no
 * fixture, reference model or peer.
 */
function havenAlonePeak(connection: Pick<AloneTask, 'databaseUrl' | 'dataDir'>, loaded: Loaded) {
  const lead = fixture.personas.find((p) => p.name === 'trust safeguarding lead')!;
  const task: AloneTask = {
    ...connection,
    organisationId: loaded.organisationId,
    auditorId: loaded.user.get(lead.user)!,
    personas: plans.map(({ persona }) => ({
      userId: loaded.user.get(persona.user)!,
      studentId: loaded.student.get(persona.student)!,
      search: persona.search,
    })),
  };
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'haven-alone.ts')],
    { input: JSON.stringify(task), cwd: root, maxBuffer: 1 << 20 },
  );
  return (JSON.parse(output.toString().trim().split('\n').pop()!) as { peakMb: number }).peakMb;
}

async function runHaven(
  label: string,
  database: Database,
  connection: Pick<AloneTask, 'databaseUrl' | 'dataDir'>,
) {
  const result = newResult(label);
  const memory = new MemoryWatch().start();
  const baseline = process.memoryUsage().rss / 1e6;
  try {
    await migrateToLatest(database.db);
    t0 = performance.now();
    const loaded = await loadHaven(database, fixture, () => {});
    result.loadMs = performance.now() - t0;
    progress(`${label}: loaded in ${formatMs(result.loadMs)}`);
    const subject = new HavenSubject(label, new HavenOperations(database, loaded), plans);
    for (const plan of plans) await subject.prepare(plan);
    const answers = await answersOf(subject, true);
    const problems = compare(answers, referenceAnswers(), label, 'the reference model');
    if (problems.length > 0) {
      result.status = 'disagrees';
      result.note = `disagrees with the reference model: ${problems.slice(0, 3).join('; ')}`;
      progress(`${label}: ${result.note}`);
    } else {
      progress(`${label}: agrees with the reference model`);
    }
    havenAnswers ??= answers;
    // Haven's cross-check pages through every child; that is no first page, so nothing is reused.
    await timeSubject(subject, result, new Map());
    if (database.engine === 'postgres')
      result.roundTrip = await measure(() => sql`select 1`.execute(database.db), {
        iterations: effort.check,
        warmup: effort.warmup,
        budgetMs: effort.budgetMs,
        minSamples: effort.minSamples,
      });
    progress(`${label}: timed`);
    result.ownPeakMb = havenAlonePeak(connection, loaded);
    progress(`${label}: on its own, peaks at ${result.ownPeakMb.toFixed(0)} MB`);
    return loaded;
  } finally {
    result.peakMb = memory.stop();
    result.addedMb = result.peakMb - baseline;
  }
}

{
  const database = openDatabase({ dataDir: sqliteDir });
  const loaded = await runHaven('Haven (SQLite)', database, { dataDir: sqliteDir });
  httpTargets.push({ label: 'SQLite', env: { HAVEN_DATA_DIR: sqliteDir }, database, loaded });
}

/** PostgreSQL when it answers: BENCH_DATABASE_URL names the server (its database is not used). */
const pgServer = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const pgBenchUrl = pgServer.replace(/\/[^/]*$/, '/haven_bench');
async function pgAdmin(statement: string): Promise<boolean> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: pgServer, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(statement);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
if (args['no-pg']) {
  Object.assign(newResult('Haven (PostgreSQL)'), { status: 'skipped', note: 'skipped (--no-pg)' });
} else if (
  (await pgAdmin('drop database if exists haven_bench')) &&
  (await pgAdmin('create database haven_bench'))
) {
  const database = openDatabase({ databaseUrl: pgBenchUrl });
  const loaded = await runHaven('Haven (PostgreSQL)', database, { databaseUrl: pgBenchUrl });
  httpTargets.push({ label: 'PostgreSQL', env: { DATABASE_URL: pgBenchUrl }, database, loaded });
} else {
  Object.assign(newResult('Haven (PostgreSQL)'), {
    status: 'skipped',
    note: `no PostgreSQL at ${pgServer}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Peers

const peersDir = path.join(here, 'peers');
if (!existsSync(path.join(peersDir, 'node_modules'))) {
  progress('installing the peer engines (bench/peers)');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', peersDir], {
    stdio: 'inherit',
  });
}
const { createPeer, peerNames } = await import('./peers/index.ts');
const chosen = args.peers ? args.peers.split(',') : [...peerNames];
for (const name of chosen) {
  if (!(peerNames as readonly string[]).includes(name))
    throw new Error(`unknown peer ${name}: ${peerNames.join(', ')}`);
}

for (const name of peerNames) {
  if (!chosen.includes(name)) continue;
  (globalThis as { gc?: () => void }).gc?.();
  const peer = await createPeer(name);
  const result = newResult(peer.name);
  const memory = new MemoryWatch().start();
  const baseline = process.memoryUsage().rss / 1e6;
  try {
    t0 = performance.now();
    await peer.load(fixture);
    result.loadMs = performance.now() - t0;
    progress(`${peer.name}: loaded in ${formatMs(result.loadMs)}`);
    const subject = new PeerSubject(peer, index);
    const budget =
      args['peer-budget'] === undefined
        ? effort.peerBudgetMs
        : Number(args['peer-budget']) * 60_000;
    const answers = await answersOf(subject, false, performance.now() + budget);
    const problems = compare(answers, havenAnswers!, peer.name, 'Haven');
    const cut = answers.cutShort;
    if (problems.length > 0) {
      result.status = 'disagrees';
      result.note = `disagrees with Haven, not timed: ${problems.slice(0, 3).join('; ')}`;
      progress(`${peer.name}: ${result.note}`);
    } else if (cut && cut.complete.size === 0) {
      result.status = 'skipped';
      result.note = `not timed: its ${budget / 60_000}-minute budget ran out during ${cut.at}`;
      progress(`${peer.name}: ${result.note}`);
    } else {
      if (cut) {
        // Timed on what it agreed on, with a budget of its own for the timing.
        result.note = `its ${budget / 60_000}-minute cross-check budget ran out during ${cut.at}; timed only on ${[...cut.complete].join(' and ')}, where it agrees with Haven`;
        progress(`${peer.name}: ${result.note}`);
      } else progress(`${peer.name}: agrees with Haven`);
      await timeSubject(subject, result, answers.costs, performance.now() + budget, cut?.complete);
      progress(`${peer.name}: timed`);
    }
  } catch (error) {
    result.status = 'failed';
    result.note = `failed: ${(error as Error).message}`;
    progress(`${peer.name}: ${result.note}`);
  } finally {
    await peer.close().catch(() => {});
    result.peakMb = memory.stop();
    result.addedMb = result.peakMb - baseline;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP: GET /api/v1/students per persona against a running `haven serve`

const http: { label: string; rows: Awaited<ReturnType<typeof runHttp>>['rows'] }[] = [];
if (!args['no-http']) {
  for (const target of httpTargets) {
    const { rows, serverPeakMb } = await runHttp(
      target.database,
      target.env,
      plans.map((p) => ({
        name: p.persona.name,
        userId: target.loaded.user.get(p.persona.user)!,
        organisationId: target.loaded.organisationId,
      })),
      effort.http,
    );
    http.push({ label: target.label, rows });
    results.find((r) => r.name === `Haven (${target.label})`)!.servePeakMb = serverPeakMb;
    progress(`HTTP on ${target.label}: done`);
  }
}
for (const target of httpTargets) await target.database.close();
rmSync(sqliteDir, { recursive: true, force: true });
if (httpTargets.some((t) => t.label === 'PostgreSQL'))
  await pgAdmin('drop database if exists haven_bench');

// ---------------------------------------------------------------------------------------------
// Report

const totalSeconds = (performance.now() - started) / 1000;
const haven = results[0]!;
const havenPg = results.find((r) => r.name === 'Haven (PostgreSQL)')!;
const peers = results.filter((r) => !r.name.startsWith('Haven'));

function cell(value: Summary | string | undefined, base?: Summary | string): string {
  if (value === undefined) return '–';
  if (typeof value === 'string') return value;
  const figures = `${formatMs(value.median)} (p95 ${formatMs(value.p95)}, p99 ${formatMs(value.p99)})`;
  if (!base || typeof base === 'string' || base.median <= 0) return figures;
  return `${figures} **×${ratio(value.median / base.median)}**`;
}
function ratio(r: number): string {
  return r >= 10 ? r.toFixed(0) : r.toFixed(1);
}

const cpus = os.cpus();
const lines: string[] = [];
const out = (line = '') => lines.push(line);
out('# Benchmark results');
out();
out(
  `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench${quick ? ' -- --quick' : scale === 1 ? '' : ` -- --scale ${scale}`}\`, in ${totalSeconds.toFixed(0)} s.`,
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}.`,
);
out(`Fixture: ${fixtureSummary}.`);
out();
out(
  'Every engine answers for the same fixture inside one Node process. Figures are median (p95, p99) ' +
    'per call; **×N** is the engine’s median over Haven on SQLite (higher is slower). Haven runs ' +
    'through the functions its routes call: "check" is the query behind `GET /students/:id` for a ' +
    'caller already loaded, and "load the caller" is what each request does first (grants, groups, ' +
    'clearances); lists are one query per page. Peers answer ' +
    'lists with their own lookup, then sort, search and page the result the way Haven does ' +
    '(`bench/listing.ts`). See `docs/decisions.md` for how each peer models Haven’s rule.',
);
out();
out('## Engines');
out();
const mb = (value: number) => (Number.isNaN(value) ? '–' : `${value.toFixed(0)} MB`);
out(
  '| Engine | Status | Load | Peak memory (benchmark process) | Added by the engine | Haven on its own: operations | Haven on its own: `haven serve` |',
);
out('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  out(
    `| ${r.name} | ${r.status}${r.note ? `: ${r.note}` : ''} | ${Number.isNaN(r.loadMs) ? '–' : formatMs(r.loadMs)} | ${mb(r.peakMb)} | ${mb(r.addedMb)} | ${mb(r.ownPeakMb)} | ${mb(r.servePeakMb)} |`,
  );
}
out();
out(
  'The benchmark process also holds the fixture (a million users as objects), the reference ' +
    'model, the peers’ list index and the loader’s key maps. Haven’s own memory is measured in ' +
    'processes of its own: "operations" runs every persona’s check, every page of their list, a ' +
    'search, a count, who can see, explain and effective permissions on the loaded database ' +
    '(`bench/haven-alone.ts`); "`haven serve`" is the server’s peak during the HTTP run below. ' +
    'Both are the kernel’s high-water mark (VmHWM).',
);
for (const op of OPERATIONS) {
  out();
  out(`## ${op[0]!.toUpperCase()}${op.slice(1)}`);
  out();
  const shown = results.filter((r) => r.status === 'timed' || r.status === 'disagrees');
  out(`| Persona | ${shown.map((r) => r.name).join(' | ')} |`);
  out(`| --- | ${shown.map(() => '---').join(' | ')} |`);
  for (const plan of plans) {
    const who = plan.persona.name;
    const base = haven.ops.get(op)!.get(who);
    out(
      `| ${who} | ${shown.map((r) => cell(r.ops.get(op)!.get(who), r === haven ? undefined : base)).join(' | ')} |`,
    );
  }
}
if (http.length > 0) {
  out();
  out(
    `## HTTP: \`GET /api/v1/students?limit=${PAGE}\` against \`haven serve\` (autocannon, 8 connections, ${'seconds' in effort.http ? `${effort.http.seconds} s` : `${effort.http.amount} requests`} per persona)`,
  );
  out();
  out('| Persona | Database | Requests/s | Median | p99 | Errors |');
  out('| --- | --- | --- | --- | --- | --- |');
  for (const { label, rows } of http)
    for (const row of rows)
      out(
        `| ${row.persona} | ${label} | ${row.requestsPerSecond.toFixed(0)} | ${row.latencyMedianMs} ms | ${row.latencyP99Ms} ms | ${row.errors} |`,
      );
}

// Goals (spec of the benchmark): met or missed, never asserted.
const worst = (r: EngineResult, op: Operation) =>
  Math.max(...[...r.ops.get(op)!.values()].map((v) => (typeof v === 'string' ? 0 : v.median)));
const fastestPeerRatio = (op: Operation, engine: EngineResult) => {
  const ratios = plans.flatMap((plan) => {
    const base = engine.ops.get(op)!.get(plan.persona.name);
    if (!base || typeof base === 'string') return [];
    const peerMedians = peers
      .filter((p) => p.status === 'timed')
      .map((p) => p.ops.get(op)!.get(plan.persona.name))
      .flatMap((v) => (v && typeof v !== 'string' ? [v.median] : []));
    return peerMedians.length === 0 ? [] : [Math.min(...peerMedians) / base.median];
  });
  return ratios.length === 0 ? Number.NaN : Math.min(...ratios);
};
const goals: [string, boolean, string][] = [];
const goal = (text: string, met: boolean, actual: string) => goals.push([text, met, actual]);
goal(
  'Check: median ≤ 100 µs on SQLite, every persona',
  worst(haven, 'check') <= 0.1,
  `worst ${formatMs(worst(haven, 'check'))}`,
);
if (havenPg.status === 'timed')
  goal(
    'Check: median ≤ 1 ms on PostgreSQL, every persona',
    worst(havenPg, 'check') <= 1,
    `worst ${formatMs(worst(havenPg, 'check'))}`,
  );
const listWorst = (r: EngineResult) => Math.max(worst(r, 'first page'), worst(r, 'search'));
goal(
  'First page, with or without search: ≤ 10 ms on SQLite',
  listWorst(haven) <= 10,
  `worst ${formatMs(listWorst(haven))}`,
);
if (havenPg.status === 'timed')
  goal(
    'First page, with or without search: ≤ 20 ms on PostgreSQL',
    listWorst(havenPg) <= 20,
    `worst ${formatMs(listWorst(havenPg))}`,
  );
goal(
  'Who can see a student: ≤ 50 ms',
  Math.max(
    worst(haven, 'who can see'),
    havenPg.status === 'timed' ? worst(havenPg, 'who can see') : 0,
  ) <= 50,
  `worst ${formatMs(Math.max(worst(haven, 'who can see'), havenPg.status === 'timed' ? worst(havenPg, 'who can see') : 0))}`,
);
for (const engine of havenPg.status === 'timed' ? [haven, havenPg] : [haven]) {
  const on = engine === haven ? 'SQLite' : 'PostgreSQL';
  for (const op of ['check', 'first page'] as const) {
    const r = fastestPeerRatio(op, engine);
    // The peers answer in memory; a server's answer also crosses the socket and back.
    const floor =
      engine.roundTrip && op === 'check'
        ? `; one \`select 1\` round trip alone: ${formatMs(engine.roundTrip.median)}`
        : '';
    goal(
      `${op === 'check' ? 'Check' : 'First page'} on ${on}: at least 10× faster than the fastest peer, every persona`,
      r >= 10,
      Number.isNaN(r) ? 'no peer timed' : `least margin ×${ratio(r)}${floor}`,
    );
  }
}
const havenOwn = results
  .filter((r) => r.name.startsWith('Haven'))
  .flatMap((r) => [r.ownPeakMb, r.servePeakMb])
  .filter((v) => !Number.isNaN(v));
const havenOwnPeak = havenOwn.length === 0 ? Number.NaN : Math.max(...havenOwn);
goal(
  'Peak memory of Haven with the full fixture < 1.5 GB',
  havenOwnPeak < 1500,
  `${mb(havenOwnPeak)} (Haven’s own processes, worst engine; the benchmark process: ${mb(haven.peakMb)})${scale < 1 ? `; at scale ${scale}` : ''}`,
);
out();
out('## Goals');
out();
out('| Goal | | Measured |');
out('| --- | --- | --- |');
for (const [text, met, actual] of goals)
  out(`| ${text} | ${met ? 'met' : '**missed**'} | ${actual} |`);

const report = `${lines.join('\n')}\n`;
say();
say(report);
const file =
  args.out ?? path.join(here, scale === 1 && !quick ? 'RESULTS.md' : `results-scale-${scale}.md`);
writeFileSync(file, report);
say(`written to ${path.relative(root, file)}`);
const disagreeing = results.filter((r) => r.status === 'disagrees' && r.name.startsWith('Haven'));
process.exit(disagreeing.length > 0 ? 1 : 0);
