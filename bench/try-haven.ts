import { rmSync } from 'node:fs';
import { migrateToLatest } from '../src/db/migrate.ts';
import { generateFixture } from './fixture.ts';
import { HavenOperations } from './haven-ops.ts';
import { findLoaded, loadHaven } from './load-haven.ts';
import { ReferenceModel } from './reference.ts';
import { openTrialDatabase, trialDir } from './trial.ts';

const scale = Number(process.argv[2] ?? 0.02);
const fresh = process.argv[3] !== 'reuse';
if (fresh) rmSync(trialDir(scale), { recursive: true, force: true });
const pgUrl = process.env.BENCH_PG;
if (pgUrl && fresh) {
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: pgUrl.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  await admin.query('drop database if exists haven_bench');
  await admin.query('create database haven_bench');
  await admin.end();
}
const database = openTrialDatabase(scale);
await migrateToLatest(database.db);
const fixture = generateFixture({ scale });
const t = performance.now();
const loaded = fresh
  ? await loadHaven(database, fixture, console.log)
  : await findLoaded(database, fixture);
console.log(
  'load s',
  ((performance.now() - t) / 1000).toFixed(1),
  'rss MB',
  (process.memoryUsage().rss / 1e6).toFixed(0),
);
const ops = new HavenOperations(database, loaded);
const ref = new ReferenceModel(fixture);
for (const p of fixture.personas) {
  const principal = await ops.principal(p.user);
  const expected = ref.visible(p.user);
  const got: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ops.page(principal, { limit: 200, cursor });
    got.push(...page.keys);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const same = got.length === expected.size && got.every((k) => expected.has(k));
  const check = await ops.check(principal, p.student);
  const times: Record<string, string> = {};
  for (const [name, fn] of Object.entries({
    check: () => ops.check(principal, p.student),
    first: () => ops.page(principal, { limit: 50 }),
    search: () => ops.page(principal, { limit: 50, q: p.search }),
  })) {
    for (let i = 0; i < 3; i++) await fn();
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await fn();
    times[name] = ((performance.now() - t0) / 20).toFixed(2);
  }
  console.log(
    p.name.padEnd(26),
    'sees',
    String(expected.size).padStart(6),
    'agree',
    same,
    'check',
    check,
    ref.check(p.user, p.student),
    times,
  );
}
await database.close();
