/**
 * The Access Audit Report (issue 14) for the benchmark's whole trust: its million users, 1,000
 * user groups and 100,000 children, on SQLite and on PostgreSQL. The fixture is loaded as
 * `npm run bench` loads it; the report then runs in a child process of its own, which reads every
 * row into a counting, hashing sink and reports its time and its peak memory (VmHWM), so the
 * figure is Haven's alone. The section "Access Audit Report" of bench/RESULTS.md is replaced.
 *
 *   npm run bench:access-audit                     the full trust on both engines
 *   npm run bench:access-audit -- --scale 0.1      a tenth of it
 *   npm run bench:access-audit -- --no-pg --reuse  keep the loaded databases between runs
 *   npm run bench:access-audit -- --no-write       print, leave RESULTS.md alone
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { accessAuditRows } from '../src/access/access-audit.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { peakRssMb } from './stats.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

interface Task {
  databaseUrl?: string;
  dataDir?: string;
  organisationId: string;
  /** `rows`: the report engine into a sink; `saved`: a whole saved run, as the route takes it. */
  mode: 'rows' | 'saved';
}

/** A saved run as `POST /reports/access-audit` takes it: rows, JSON, chunks, SHA-256, audit row. */
interface SavedOutcome {
  rows: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  load: number;
  peakMb: number;
}

interface Outcome {
  rows: number;
  seconds: number;
  /** The report process's own CPU time (user + system): the wall time less the waits. */
  cpuSeconds: number;
  /** The machine's one-minute load average when the report ended (other work slows it). */
  load: number;
  firstRowMs: number;
  peakMb: number;
  digest: string;
  reachable: number;
  flags: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// The child: the report alone.

async function child(): Promise<void> {
  const task = JSON.parse(readFileSync(0, 'utf8')) as Task;
  const database = openDatabase(
    task.databaseUrl ? { databaseUrl: task.databaseUrl } : { dataDir: task.dataDir! },
  );
  if (task.mode === 'saved') return savedRun(database, task);
  let digest = 0n;
  const flags: Record<string, number> = {};
  let rows = 0;
  let reachable = 0;
  let firstRowMs = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for await (const row of accessAuditRows(database.db, {
    organisationId: task.organisationId,
    scope: { type: 'organisation', id: task.organisationId },
    now: new Date().toISOString(),
  })) {
    if (rows === 0) firstRowMs = performance.now() - started;
    rows += 1;
    reachable += row.reachableStudents;
    for (const flag of row.flags) flags[flag] = (flags[flag] ?? 0) + 1;
    // A cheap digest of what each row holds, summed so that the order rows come in (the
    // engines collate names differently) does not count; ids differ from load to load.
    let h = fnv(row.name, 0x811c9dc5);
    h = fnv(row.status, h);
    for (const r of row.roles) h = fnv(`${r.role}@${r.scope.name}<${r.via?.name ?? ''}`, h);
    for (const g of row.userGroups) h = fnv(g.name, h);
    for (const g of row.studentGroups) h = fnv(g.name, h);
    for (const c of row.clearances) h = fnv(`${c.clearance}<${c.via.name}`, h);
    h = Math.imul(h ^ row.reachableStudents, 0x01000193) >>> 0;
    h = Math.imul(h ^ row.directStudentLinks, 0x01000193) >>> 0;
    h = Math.imul(h ^ row.blocks, 0x01000193) >>> 0;
    digest = (digest + BigInt(h)) & 0xffffffffffffn;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await database.close();
  const outcome: Outcome = {
    rows,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    load: os.loadavg()[0]!,
    firstRowMs,
    peakMb: peakRssMb(),
    digest: digest.toString(16).padStart(12, '0'),
    reachable,
    flags,
  };
  console.log(JSON.stringify(outcome));
}

/** The child's other task: one saved run through the service the route calls, by an Owner. */
async function savedRun(database: Database, task: Task): Promise<void> {
  const { AccessAuditRunService } = await import('../src/modules/compliance/runs.ts');
  const { loadPrincipal } = await import('../src/access/principal.ts');
  const owner = await database.db
    .selectFrom('role_grants')
    .select('user_id')
    .where('organisation_id', '=', task.organisationId)
    .where('role', '=', 'owner')
    .where('scope_type', '=', 'organisation')
    .where('user_id', 'is not', null)
    .where('valid_to', 'is', null)
    .executeTakeFirstOrThrow();
  const principal = await loadPrincipal(database.db, task.organisationId, owner.user_id!);
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const run = await new AccessAuditRunService(database).create(
    { principal, mfaAt: null },
    {},
    { organisationId: task.organisationId, userId: principal.userId, via: 'cli' },
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await database.close();
  const outcome: SavedOutcome = {
    rows: run.rowCount,
    bytes: run.byteLength,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    load: os.loadavg()[0]!,
    peakMb: peakRssMb(),
  };
  console.log(JSON.stringify(outcome));
}

// ---------------------------------------------------------------------------------------------
// The parent: load, run the child, write the section.

async function parent(): Promise<void> {
  // Imported here, not above: the report's own process holds no fixture, loader or migrations.
  const { migrateToLatest } = await import('../src/db/migrate.ts');
  const { generateFixture } = await import('./fixture.ts');
  const { loadHaven } = await import('./load-haven.ts');
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
  const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  say(`Access Audit Report benchmark: scale ${scale}`);
  const fixture = generateFixture({ scale });
  say(
    `fixture: ${fixture.users.length} users, ${fixture.userGroups.length} user groups, ${fixture.students.length} students, ${fixture.schools.length} schools`,
  );
  const memberships = fixture.userGroups.reduce((n, g) => n + g.members.length, 0);
  const tag = String(scale).replace('.', '_');

  /** Loads the fixture (or finds it loaded, with --reuse) and gives its organisation. */
  async function prepare(database: Database, label: string): Promise<string> {
    if (args.reuse) {
      try {
        const found = await database.db
          .selectFrom('organisations')
          .select('id')
          .where('name', '=', fixture.organisationName)
          .executeTakeFirst();
        if (found) {
          say(`${label}: reusing the loaded trust`);
          return found.id;
        }
      } catch {
        // Not migrated yet: load it.
      }
    }
    await migrateToLatest(database.db);
    const started = performance.now();
    const loaded = await loadHaven(database, fixture, () => {});
    say(`${label}: loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return loaded.organisationId;
  }

  function runChild<T = Outcome>(task: Task): T {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'access-audit.ts'), '--child'],
      { input: JSON.stringify(task), cwd: root, maxBuffer: 1 << 20 },
    );
    return JSON.parse(output.toString().trim().split('\n').pop()!) as T;
  }

  const results: { engine: string; outcome: Outcome | null; note: string }[] = [];
  const saved: { engine: string; outcome: SavedOutcome }[] = [];
  if (!args['no-sqlite']) {
    const dataDir = path.join(os.tmpdir(), `haven-audit-bench-${tag}`);
    if (!args.reuse) rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const database = openDatabase({ dataDir });
    const organisationId = await prepare(database, 'SQLite');
    await database.close();
    const outcome = runChild({ dataDir, organisationId, mode: 'rows' });
    say(`SQLite: ${describe(outcome)}`);
    results.push({ engine: 'SQLite', outcome, note: '' });
    const run = runChild<SavedOutcome>({ dataDir, organisationId, mode: 'saved' });
    say(`SQLite, saved run: ${describeSaved(run)}`);
    saved.push({ engine: 'SQLite', outcome: run });
    if (!args.reuse) rmSync(dataDir, { recursive: true, force: true });
  }
  if (!args['no-pg']) {
    const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `haven_audit_bench_${tag}`;
    const url = server.replace(/\/[^/]*$/, `/${name}`);
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 3000 });
    let reachable = true;
    try {
      await admin.connect();
      const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (!args.reuse || exists.rowCount === 0) {
        await admin.query(`drop database if exists ${name}`);
        await admin.query(`create database ${name}`);
      }
    } catch (error) {
      reachable = false;
      results.push({ engine: 'PostgreSQL', outcome: null, note: `no PostgreSQL: ${error}` });
    } finally {
      await admin.end().catch(() => {});
    }
    if (reachable) {
      const database = openDatabase({ databaseUrl: url });
      const organisationId = await prepare(database, 'PostgreSQL');
      await database.close();
      const outcome = runChild({ databaseUrl: url, organisationId, mode: 'rows' });
      say(`PostgreSQL: ${describe(outcome)}`);
      results.push({ engine: 'PostgreSQL', outcome, note: '' });
      const run = runChild<SavedOutcome>({ databaseUrl: url, organisationId, mode: 'saved' });
      say(`PostgreSQL, saved run: ${describeSaved(run)}`);
      saved.push({ engine: 'PostgreSQL', outcome: run });
    }
  }

  const agree =
    results.filter((r) => r.outcome).length < 2 ||
    results[0]!.outcome!.digest === results[1]!.outcome!.digest;
  if (!agree) say('the two engines produced different reports');
  const section = [
    '<!-- access-audit:start (bench/access-audit.ts replaces this section) -->',
    '## Access Audit Report',
    '',
    `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:access-audit${scale === 1 ? '' : ` -- --scale ${scale}`}\` on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}. ` +
      `The whole trust's report (scale ${scale}: ${fixture.users.length.toLocaleString('en-GB')} users, ${fixture.userGroups.length.toLocaleString('en-GB')} user groups with ${memberships.toLocaleString('en-GB')} memberships, ${fixture.students.length.toLocaleString('en-GB')} students, ${fixture.schools.length} schools), ` +
      'read row by row into a counting, hashing sink by a process of its own; memory is that process’s peak resident set (VmHWM). Goal: under 60 s, under 500 MB, on each engine.',
    '',
    '| Engine | Rows | Time | First row | Report process CPU | Load average | Peak memory | Goal | Children counted | Flags |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => {
      if (!r.outcome) return `| ${r.engine} | | | | | | | skipped | | ${r.note} |`;
      const o = r.outcome;
      const met = o.seconds < 60 && o.peakMb < 500 ? 'met' : 'missed';
      const flags = Object.entries(o.flags)
        .sort()
        .map(([k, v]) => `${k} ${v.toLocaleString('en-GB')}`)
        .join(', ');
      return `| ${r.engine} | ${o.rows.toLocaleString('en-GB')} | ${o.seconds.toFixed(1)} s | ${o.firstRowMs.toFixed(0)} ms | ${o.cpuSeconds.toFixed(1)} s | ${o.load.toFixed(1)} on ${os.cpus().length} CPUs | ${o.peakMb.toFixed(0)} MB | ${met} | ${o.reachable.toLocaleString('en-GB')} | ${flags} |`;
    }),
    '',
    results.filter((r) => r.outcome).length === 2
      ? `Both engines produced the same report: ${agree ? 'equal' : 'DIFFERENT'} digests (the sum of a 32-bit FNV-1a hash of each row’s names and counts, order aside, as the engines collate names differently).`
      : '',
    '',
    'The same report taken as a saved run, in a second process of its own, through the service `POST /api/v1/reports/access-audit` calls: the rows written as the JSON document into the database in 1 MB chunks, hashed (SHA-256) as they are written, then the run and its audit row committed.',
    '',
    '| Engine | Rows | Saved JSON | Time | Process CPU | Load average | Peak memory | Goal |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...saved.map(({ engine, outcome: o }) => {
      const met = o.seconds < 60 && o.peakMb < 500 ? 'met' : 'missed';
      return `| ${engine} | ${o.rows.toLocaleString('en-GB')} | ${(o.bytes / 1e6).toFixed(0)} MB | ${o.seconds.toFixed(1)} s | ${o.cpuSeconds.toFixed(1)} s | ${o.load.toFixed(1)} on ${os.cpus().length} CPUs | ${o.peakMb.toFixed(0)} MB | ${met} |`;
    }),
    '<!-- access-audit:end -->',
  ].join('\n');
  console.log(`\n${section}`);
  if (!args['no-write']) {
    const file = path.join(here, 'RESULTS.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const pattern = /<!-- access-audit:start[\s\S]*?<!-- access-audit:end -->/;
    writeFileSync(
      file,
      pattern.test(current)
        ? current.replace(pattern, section)
        : `${current.trimEnd()}\n\n${section}\n`,
    );
    say(`wrote ${path.relative(root, file)}`);
  }
}

/** 32-bit FNV-1a over a string's UTF-16 code units, continuing from `h`. */
function fnv(text: string, h: number): number {
  let x = h;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return x;
}

function describeSaved(o: SavedOutcome): string {
  return `${o.rows} rows, ${(o.bytes / 1e6).toFixed(0)} MB saved in ${o.seconds.toFixed(1)} s (${o.cpuSeconds.toFixed(1)} s CPU; load ${o.load.toFixed(1)}), peak ${o.peakMb.toFixed(0)} MB`;
}

function describe(o: Outcome): string {
  return `${o.rows} rows in ${o.seconds.toFixed(1)} s (first after ${o.firstRowMs.toFixed(0)} ms; ${o.cpuSeconds.toFixed(1)} s CPU; load ${o.load.toFixed(1)}), peak ${o.peakMb.toFixed(0)} MB, digest ${o.digest}`;
}

if (process.argv.includes('--child')) await child();
else await parent();
