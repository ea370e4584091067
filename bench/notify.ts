/**
 * How fast a new concern finds the people to tell (issue 12, item 4): a child-protection concern
 * about a child that the million-member "All staff" group reaches, on the benchmark trust.
 *
 *   node --expose-gc --import tsx bench/notify.ts                     full trust, SQLite and PostgreSQL
 *   node --expose-gc --import tsx bench/notify.ts --quick             scale 0.02, in about a minute
 *   node --expose-gc --import tsx bench/notify.ts --engine sqlite --scale 0.2 --naive-cap 2000
 *   ... --explain                                                     also prints the query plans
 *
 * PostgreSQL: BENCH_DATABASE_URL names the database (default postgres://postgres@127.0.0.1:5432/
 * postgres); the trust is loaded into a schema of its own, dropped at the end.
 *
 * Measured, each on the same loaded trust, with the school's default notification rules
 * (child protection: an alert and an immediate email to its Safeguarding Team):
 *  (a) `recipientsReading` for the rule's party, the Safeguarding Team: who is told;
 *  (b) one pass of the notification worker that turns one new concern's notice into outbox rows
 *      and hands them to a mailer that accepts at once (a fresh concern before each pass, untimed);
 *  (c) for comparison: every possible reader of the record asked of the policy one by one
 *      (`possibleReaders` + `incidentReaders`, capped), and `recipientsReading` with All staff
 *      itself as the rule's party, the worst a school could configure.
 * Nothing here asserts a time: the 50 ms goal is printed as met or missed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CompiledQuery,
  type DatabaseConnection,
  Kysely,
  type KyselyProps,
  type QueryResult,
  sql,
} from 'kysely';
import pg from 'pg';
import { incidentReaders, possibleReaders } from '../src/access/incidents.ts';
import { type NotifiedParty, recipientsReading } from '../src/access/notifications.ts';
import { loadPrincipal } from '../src/access/principal.ts';
import { type AccessTime, accessPaths, planWhoCanSee } from '../src/access/visibility.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { DB } from '../src/db/tables.ts';
import { newId } from '../src/lib/ids.ts';
import { type ChangeOrigin, runChange } from '../src/modules/audit/change.ts';
import { createDefaultCategories } from '../src/modules/incidents/categories.ts';
import { type Caller, IncidentService } from '../src/modules/incidents/service.ts';
import type { Mailer } from '../src/modules/notifications/mailer.ts';
import { createDefaultNotificationRules } from '../src/modules/notifications/service.ts';
import { NotificationWorker } from '../src/modules/notifications/worker.ts';
import { generateFixture } from './fixture.ts';
import { type Loaded, loadHaven } from './load-haven.ts';
import { formatMs, measure, type Summary, summarise } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string', default: 'both' },
    /** Samples of (a) and of (b); the comparisons take fewer. */
    samples: { type: 'string' },
    /** Most possible readers the naive comparison asks the policy about. */
    'naive-cap': { type: 'string' },
    explain: { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const scale = Number(args.scale ?? (quick ? 0.02 : 1));
const seed = args.seed === undefined ? undefined : Number(args.seed);
if (!(scale > 0 && scale <= 1)) throw new Error('--scale takes a number in (0, 1]');
const engines = args.engine === 'both' ? ['sqlite', 'postgres'] : [args.engine];
if (!engines.every((e) => e === 'sqlite' || e === 'postgres'))
  throw new Error('--engine takes sqlite, postgres or both');
const samples = Number(args.samples ?? (quick ? 100 : 300));
const naiveCap = Number(args['naive-cap'] ?? (quick ? 1_000 : 10_000));
const GOAL_MS = 50;
/** Milliseconds as `formatMs` gives them, and seconds or minutes past ten seconds. */
const duration = (ms: number) =>
  ms >= 120_000
    ? `${(ms / 60_000).toFixed(1)} min`
    : ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : formatMs(ms);

const started = performance.now();
const say = (line = '') => console.log(line);
const progress = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

// ---------------------------------------------------------------------------------------------
// The trust, and the concern

const command = `node --expose-gc --import tsx bench/notify.ts ${process.argv.slice(2).join(' ')}`;
say(
  `Notification benchmark: scale ${scale}${quick ? ' (quick)' : ''}, ${new Date().toISOString()}`,
);
const generated = generateFixture({ scale, ...(seed === undefined ? {} : { seed }) });

// The loader deletes each school's Allegations group again (the fixture models none).
const fixture = generated;
const allStaff = fixture.userGroups.find((g) => g.key === 'trust/all-staff')!;
// The persona the main benchmark asks as "member of All staff": a member of staff in no team but
// All staff, and a child of their school that only All staff's link (medical alerts) reaches.
const persona = fixture.personas.find((p) => p.name === 'member of All staff')!;
const reporterKey = persona.user;
const childKey = persona.student;
const childSchool = fixture.students.find((s) => s.key === childKey)!.school;
progress(
  `fixture: ${fixture.schools.length} schools, ${fixture.students.length.toLocaleString('en-GB')} students, ${fixture.users.length.toLocaleString('en-GB')} users, All staff ${allStaff.members.length.toLocaleString('en-GB')} members (seed ${fixture.seed})`,
);

/** An SMTP server that accepts every email at once: the worker's own work is what is timed. */
const instantMailer: Mailer = {
  send: async () => ({ messageId: 'bench' }),
  close() {},
};
const silent = { info() {}, error() {} };

interface Row {
  engine: string;
  what: string;
  summary: Summary | undefined;
  note: string;
  goal: boolean;
}
const rows: Row[] = [];
const notes: string[] = [];

/**
 * The school's notification set-up as Haven's own school creation leaves it. The loader creates
 * schools with their default groups only, so categories and default rules are made here, by the
 * very functions `haven serve` registers for every new school.
 */
async function ensureNotificationDefaults(database: Database, loaded: Loaded) {
  const db = database.db;
  const origin: ChangeOrigin = {
    organisationId: loaded.organisationId,
    userId: null,
    via: 'cli',
  };
  const made = { categories: 0, rules: 0 };
  await runChange(database, origin, async (change) => {
    for (const schoolId of loaded.school.values()) {
      const school = { id: schoolId, organisationId: loaded.organisationId };
      const categories = await change.db
        .selectFrom('categories')
        .select(sql<number>`count(*)`.as('n'))
        .where('school_id', '=', schoolId)
        .executeTakeFirstOrThrow();
      if (Number(categories.n) === 0) {
        await createDefaultCategories(change, school);
        made.categories += 1;
      }
      const rules = await change.db
        .selectFrom('notification_rules as r')
        .innerJoin('categories as c', 'c.id', 'r.category_id')
        .select(sql<number>`count(*)`.as('n'))
        .where('c.school_id', '=', schoolId)
        .executeTakeFirstOrThrow();
      if (Number(rules.n) === 0) {
        await createDefaultNotificationRules(change, school);
        made.rules += 1;
      }
    }
  });
  // The Safeguarding Team each school is created with: the rules' party.
  const schoolId = loaded.school.get(childSchool)!;
  const team = await db
    .selectFrom('user_groups as g')
    .select(['g.id', 'g.name', 'g.member_count'])
    .where('g.organisation_id', '=', loaded.organisationId)
    .where('g.system_key', '=', `safeguarding_team:${schoolId}`)
    .where('g.deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  const cleared = await db
    .selectFrom('user_group_clearances')
    .select('clearance')
    .where('user_group_id', '=', team.id)
    .where('valid_to', 'is', null)
    .execute();
  const linked = await db
    .selectFrom('student_links as l')
    .innerJoin('student_groups as sg', 'sg.id', 'l.student_group_id')
    .select('sg.system_key')
    .where('l.user_group_id', '=', team.id)
    .where('l.valid_to', 'is', null)
    .execute();
  if (!cleared.some((c) => c.clearance === 'child_protection'))
    throw new Error(`${team.name} holds no child_protection clearance`);
  if (!linked.some((l) => l.system_key === `all_students:${schoolId}`))
    throw new Error(`${team.name} is not linked to the school's children`);
  const category = await db
    .selectFrom('categories')
    .select('id')
    .where('school_id', '=', schoolId)
    .where('sensitivity', '=', 'child_protection')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  const rules = await db
    .selectFrom('notification_rules')
    .select(['recipient_type', 'recipient_id', 'channel'])
    .where('category_id', '=', category.id)
    .orderBy('channel')
    .execute();
  if (!rules.every((r) => r.recipient_type === 'user_group' && r.recipient_id === team.id))
    throw new Error('the child-protection rules name someone other than the Safeguarding Team');
  // Statistics for the planner, as after any bulk change (the server's autovacuum would do it).
  await database.analyze();
  return { schoolId, team, categoryId: category.id, rules, made };
}

/**
 * The same handle with a connection that runs nothing and records what it is sent: the SQL of a
 * call, built by Haven's own code, without waiting for it (`--explain`).
 */
function recording(db: Kysely<DB>): { db: Kysely<DB>; sent: CompiledQuery[] } {
  const sent: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      sent.push(query);
      return { rows: [] };
    },
    async *streamQuery() {},
  };
  const executor = db.getExecutor().withConnectionProvider({
    provideConnection: (consume) => consume(connection),
  });
  // Only the executor is used; Kysely asks for the rest to tell these props from a config.
  const props = { config: {}, driver: {}, dialect: {}, executor } as unknown as KyselyProps;
  return { db: new Kysely<DB>(props), sent };
}

/** The plan of the query `run` makes; on PostgreSQL with its actual times when `analyze`. */
async function explain(
  database: Database,
  label: string,
  analyze: boolean,
  run: (db: Kysely<DB>) => Promise<unknown>,
) {
  const dry = recording(database.db);
  await run(dry.db);
  const compiled = dry.sent.at(-1)!;
  const prefix =
    database.engine === 'sqlite'
      ? 'explain query plan '
      : analyze
        ? 'explain (analyze, buffers, costs off) '
        : 'explain ';
  const plan = await database.db.executeQuery<Record<string, unknown>>({
    ...compiled,
    sql: prefix + compiled.sql,
  });
  say();
  say(`EXPLAIN ${label} (${database.engine}):`);
  for (const r of plan.rows)
    say(
      database.engine === 'postgres'
        ? String(r['QUERY PLAN'])
        : `${' '.repeat(Number(r.parent) === 0 ? 0 : 2)}${r.id}<-${r.parent} ${r.detail}`,
    );
}

// ---------------------------------------------------------------------------------------------
// One engine

async function benchEngine(label: string, database: Database) {
  await migrateToLatest(database.db);
  const t0 = performance.now();
  const loaded = await loadHaven(database, fixture, (line) => progress(`${label}:${line}`));
  progress(`${label}: loaded in ${duration(performance.now() - t0)}`);
  const setup = await ensureNotificationDefaults(database, loaded);
  progress(
    `${label}: categories made for ${setup.made.categories} schools, default rules for ${setup.made.rules}; ${setup.team.name} (${setup.team.member_count} members) gets ${setup.rules.map((r) => r.channel).join(' + ')} for child protection`,
  );
  const db = database.db;
  const organisationId = loaded.organisationId;
  const t: AccessTime = { organisationId };
  const reporterId = loaded.user.get(reporterKey)!;
  const childId = loaded.student.get(childKey)!;
  const allStaffId = loaded.userGroup.get('trust/all-staff')!;

  // The reporter reaches the child through All staff.
  const paths = await db
    .selectFrom(accessPaths(db, t, { user: reporterId, student: childId }).as('p'))
    .select(['p.user_group_id'])
    .execute();
  if (!paths.some((p) => p.user_group_id === allStaffId))
    throw new Error('the chosen child is not reached through All staff');
  const allStaffRow = await db
    .selectFrom('user_groups')
    .select('member_count')
    .where('id', '=', allStaffId)
    .executeTakeFirstOrThrow();
  const reach = await planWhoCanSee(db, t, { id: childId, schoolId: setup.schoolId });

  const incidents = new IncidentService(database, { mfaWindowMs: 15 * 60_000 });
  const caller: Caller = {
    principal: await loadPrincipal(db, organisationId, reporterId),
    mfaAt: null,
  };
  const origin: ChangeOrigin = { organisationId, userId: reporterId, via: 'api' };
  let logged = 0;
  const logConcern = async () => {
    logged += 1;
    const view = await incidents.create(
      caller,
      {
        schoolId: setup.schoolId,
        studentIds: [childId],
        categoryId: setup.categoryId,
        occurredAt: new Date().toISOString(),
        description: `Benchmark concern ${logged}: a disclosure in the lunch queue.`,
      },
      origin,
    );
    if (view.receipt.delivery !== 'immediate')
      throw new Error(`the concern was passed on as ${view.receipt.delivery}, not at once`);
    return view.id;
  };
  const incidentId = await logConcern();
  progress(
    `${label}: concern logged by a member of staff (${reporterKey}) about ${childKey}, reached through All staff (${allStaffRow.member_count.toLocaleString('en-GB')} members); about ${reach.reachers.toLocaleString('en-GB')} users reach the child`,
  );

  const team: NotifiedParty = { type: 'user_group', id: setup.team.id };
  const everyone: NotifiedParty = { type: 'user_group', id: allStaffId };
  const record = (what: string, summary: Summary | undefined, note = '', goal = false) => {
    rows.push({ engine: label, what, summary, note, goal });
    progress(
      `${label}: ${what}: ${summary ? `${duration(summary.median)} (p95 ${duration(summary.p95)}, p99 ${duration(summary.p99)}, ${summary.samples} samples)` : ''} ${note}`,
    );
  };

  // Who is told, cross-checked with the policy asked of each team member in turn.
  const told = await recipientsReading(db, t, [incidentId], team);
  const members = (
    await db
      .selectFrom('user_group_members')
      .select('user_id')
      .where('user_group_id', '=', setup.team.id)
      .where('valid_to', 'is', null)
      .execute()
  ).map((m) => m.user_id);
  const byPolicy = await incidentReaders(db, t, [incidentId], members);
  const same =
    told.length === byPolicy.length &&
    byPolicy.every((r) => told.some((x) => x.user_id === r.user_id));
  if (!same || told.length === 0)
    throw new Error(
      `recipientsReading names ${told.length} of the team, the policy ${byPolicy.length}`,
    );

  // (a) The rule's party.
  record(
    '(a) `recipientsReading`, the Safeguarding Team',
    await measure(() => recipientsReading(db, t, [incidentId], team), {
      iterations: samples,
      warmup: 5,
    }),
    `${told.length} of ${members.length} members told`,
    true,
  );

  // What the worker asks again of each email as it sends it (`renderEmail`): one recipient.
  const one: NotifiedParty = { type: 'user', id: told[0]!.user_id };
  record(
    'for reference: `recipientsReading` for one recipient (asked per email when it is sent)',
    await measure(() => recipientsReading(db, t, [incidentId], one), {
      iterations: samples,
      warmup: 5,
    }),
  );

  // (b) The worker, one concern's notice per pass. The pass before the first sample clears what
  // is pending and makes today's digests; `now` stays fixed so no digest falls due mid-run.
  const worker = new NotificationWorker(database, {
    mailer: instantMailer,
    mail: {
      publicUrl: 'https://haven.bench',
      maxAttempts: 5,
      retryBaseMs: 60_000,
      leaseMs: 5 * 60_000,
    },
    pollMs: 60_000,
    log: silent,
  });
  const now = new Date();
  await worker.runOnce(now);
  const passes: number[] = [];
  const creates: number[] = [];
  let emailed = 0;
  for (let i = 0; i < samples + 5; i++) {
    const c0 = performance.now();
    const id = await logConcern();
    const created = performance.now() - c0;
    const w0 = performance.now();
    const pass = await worker.runOnce(now);
    const took = performance.now() - w0;
    if (pass.notices !== 1 || pass.sent !== told.length)
      throw new Error(`a pass handled ${pass.notices} notices and sent ${pass.sent} emails`);
    if (i === 0) {
      const outbox = await db
        .selectFrom('outbox as o')
        .innerJoin('notices as n', 'n.id', 'o.notice_id')
        .select(['o.to_user_id', 'o.status'])
        .where('n.incident_id', '=', id)
        .execute();
      if (outbox.length !== told.length || outbox.some((o) => o.status !== 'sent'))
        throw new Error(`the concern's outbox holds ${outbox.length} rows`);
      emailed = outbox.length;
    }
    // The first five are the warm-up.
    if (i < 5) continue;
    passes.push(took);
    creates.push(created);
  }
  record(
    '(b) worker pass: one concern’s notice → outbox rows → mailer',
    summarise(passes),
    `${emailed} emails per concern`,
    true,
  );
  record(
    'for reference: an idle worker pass (nothing to do)',
    await measure(() => worker.runOnce(now), { iterations: samples, warmup: 5 }),
  );
  record(
    'for reference: logging the concern (`IncidentService.create`, queueing included)',
    summarise(creates),
  );

  // (c) The naive way: everyone a path reaches the child from, each asked of the policy.
  let naiveFound = 0;
  let partial = false;
  const naive = await measure(
    async () => {
      const possible = await possibleReaders(db, t, [incidentId], naiveCap);
      partial = possible.partial;
      const readers = await incidentReaders(db, t, [incidentId], possible.userIds);
      const inTeam = new Set(members);
      naiveFound = readers.filter((r) => inTeam.has(r.user_id)).length;
    },
    { iterations: quick ? 5 : 3, warmup: 1, slowMs: 120_000 },
  );
  record(
    `(c) naive: \`possibleReaders\` (cap ${naiveCap.toLocaleString('en-GB')}) + \`incidentReaders\``,
    naive,
    `${partial ? `cut at the cap, of about ${reach.reachers.toLocaleString('en-GB')} possible readers` : 'every possible reader'}; ${naiveFound} of the team's ${told.length} recipients found${partial ? `; at this rate all of them would take about ${duration((naive.median * reach.reachers) / naiveCap)}` : ''}`,
  );
  // Once at full scale: a call slower than `slowMs` is the only sample.
  let worst = 0;
  progress(`${label}: (c) recipientsReading with All staff as the party, under way`);
  record(
    '(c) `recipientsReading`, All staff as the party',
    await measure(
      async () => {
        worst = (await recipientsReading(db, t, [incidentId], everyone)).length;
      },
      { iterations: quick ? 20 : 5, warmup: 1, budgetMs: 60_000, slowMs: 30_000 },
    ),
    `${worst} of ${allStaffRow.member_count.toLocaleString('en-GB')} members told`,
  );

  if (args.explain) {
    await explain(database, '(a) recipientsReading, Safeguarding Team', true, (d) =>
      recipientsReading(d, t, [incidentId], team),
    );
    await explain(database, '(c) recipientsReading, All staff', quick, (d) =>
      recipientsReading(d, t, [incidentId], everyone),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite, then PostgreSQL in a schema of its own

/** What a run stopped half-way leaves behind: the SQLite directory is removed, a schema named. */
const leftovers = { dir: '', schema: '' };
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    if (leftovers.dir) rmSync(leftovers.dir, { recursive: true, force: true });
    if (leftovers.schema)
      console.error(
        `stopped: the schema is left behind; drop schema "${leftovers.schema}" cascade`,
      );
    process.exit(130);
  });

const loadAtStart = loadAverage();
if (engines.includes('sqlite')) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'haven-notify-'));
  leftovers.dir = dir;
  const database = openDatabase({ dataDir: dir });
  try {
    await benchEngine('SQLite', database);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
    leftovers.dir = '';
  }
}
if (engines.includes('postgres')) {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const schema = `haven_notify_${newId()}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  let created = false;
  try {
    await admin(`create schema "${schema}"`);
    created = true;
    leftovers.schema = schema;
  } catch (error) {
    notes.push(`PostgreSQL skipped: ${(error as Error).message} (${url})`);
    progress(notes.at(-1)!);
  }
  if (created) {
    const database = openDatabase({ databaseUrl: url, searchPath: schema, poolSize: 4 });
    try {
      await benchEngine('PostgreSQL', database);
    } finally {
      await database.close();
      await admin(`drop schema "${schema}" cascade`);
      leftovers.schema = '';
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const cpus = os.cpus();
const lines: string[] = [];
const out = (line = '') => lines.push(line);
out(
  `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`${command.trim()}\`, in ${((performance.now() - started) / 1000).toFixed(0)} s.`,
);
out(
  `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}; load average ${loadAtStart} at the start, ${loadAverage()} at the end.`,
);
out(
  `Fixture: scale ${scale}, ${fixture.schools.length} schools, ${fixture.students.length.toLocaleString('en-GB')} students, ${fixture.users.length.toLocaleString('en-GB')} users, All staff ${allStaff.members.length.toLocaleString('en-GB')} members (seed ${fixture.seed}). The concern: child protection, about ${childKey} (reached through All staff's link to the medical-alerts group), logged by ${reporterKey}, a Viewer at the child's school in no team but All staff.`,
);
out();
out('| Engine | Measured | Median | p95 | p99 | Samples | Goal: under 50 ms | Note |');
out('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const s = r.summary;
  const goal = !r.goal ? '' : s && s.median < GOAL_MS ? 'met' : '**missed**';
  out(
    `| ${r.engine} | ${r.what} | ${s ? duration(s.median) : '–'} | ${s ? duration(s.p95) : '–'} | ${s ? duration(s.p99) : '–'} | ${s?.samples ?? '–'} | ${goal} | ${r.note} |`,
  );
}
for (const note of notes) {
  out();
  out(note);
}
say();
say(lines.join('\n'));
process.exit(0);
