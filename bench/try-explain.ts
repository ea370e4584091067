import { CompiledQuery, type Kysely } from 'kysely';
import { viewerOf } from '../src/access/decide.ts';
import type { DB } from '../src/db/tables.ts';
import { type PageShape, pageOfVisibleStudents } from '../src/modules/students/repository.ts';
import { openLoadedTrial } from './trial.ts';

/**
 * The plan of one persona's first page, on a trust `try-haven.ts` loaded:
 * `npx tsx bench/try-explain.ts <scale> "<persona>" <shape> [search]` (BENCH_PG for PostgreSQL,
 * where it is EXPLAIN ANALYZE; SQLite gives its query plan).
 */
const [scaleArg, personaName, shape, q] = process.argv.slice(2);
const scale = Number(scaleArg ?? 1);
const { database, fixture, loaded, ops } = await openLoadedTrial(scale);
const persona = fixture.personas.find((p) => p.name === personaName);
if (!persona) throw new Error(`No persona ${personaName}`);
const viewer = viewerOf(await ops.principal(persona.user));

// The page's query, as it reaches the database.
const db: Kysely<DB> = database.db;
const execute = db.executeQuery.bind(db);
let last: CompiledQuery | undefined;
db.executeQuery = ((query: CompiledQuery) => {
  last = query;
  return execute(query);
}) as typeof db.executeQuery;
await pageOfVisibleStudents(db, { organisationId: loaded.organisationId }, viewer, {
  limit: 50,
  shape: shape as PageShape,
  q,
});
if (!last) throw new Error('The page ran no query');
if (process.env.SHOW_SQL) console.log(last.sql, JSON.stringify(last.parameters));
const explain =
  database.engine === 'postgres' ? 'explain (analyze, buffers)' : 'explain query plan';
const plan = await execute(CompiledQuery.raw(`${explain} ${last.sql}`, [...last.parameters]));
for (const row of plan.rows as Record<string, unknown>[])
  console.log(Object.values(row).join(' | '));
await database.close();
