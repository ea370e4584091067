import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { runChange } from '../../src/modules/audit/change.ts';
import { buildApp, createServices } from '../../src/server/app.ts';
import { createTestDatabase, testEngine } from '../support/database.ts';
import { setupOrganisation } from '../support/factories.ts';
import { TestHaven } from '../support/haven.ts';

/** A Haven whose database has the server's time limits, as `haven serve` opens it. */
async function startTimedHaven(env: Record<string, string>, poolSize = 3): Promise<TestHaven> {
  const base = await createTestDatabase();
  const config = loadConfig({ HAVEN_LOG_LEVEL: 'silent', ...base.env, ...env });
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    timeouts: config.databaseTimeouts,
    poolSize,
  });
  const services = createServices(database, config);
  const app = await buildApp({ config, database, services });
  const db = {
    ...base,
    database,
    async dispose() {
      await database.close();
      await base.dispose();
    },
  };
  return new TestHaven(app, db, config, services);
}

/** A second PostgreSQL session on the test's schema, as another Haven process would be. */
async function otherSession(h: TestHaven): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: h.db.env.DATABASE_URL });
  await client.connect();
  return client;
}

async function timed<T>(work: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work;
  return { result, ms: Date.now() - started };
}

function expectUnavailable(reply: { status: number; body: any; headers: Record<string, unknown> }) {
  expect(reply.status).toBe(503);
  expect(reply.body.code).toBe('unavailable');
  expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
}

const onPostgres = testEngine() === 'postgres';

describe('time limits: one stuck request cannot stall the others', () => {
  let haven: TestHaven | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  async function start(env: Record<string, string>, poolSize?: number) {
    haven = await startTimedHaven(env, poolSize);
    return haven;
  }
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await haven?.close();
    haven = undefined;
  });

  it.runIf(onPostgres)(
    'a change waiting on the audit chain held by another session answers 503 within the lock timeout',
    async () => {
      const h = await start({ HAVEN_DB_LOCK_TIMEOUT_MS: '300' });
      const org = await setupOrganisation(h);
      const other = await otherSession(h);
      cleanups.push(() => other.end());
      await other.query('begin');
      await other.query('select * from audit_chains where chain_id = $1 for update', [
        org.organisationId,
      ]);

      const { result, ms } = await timed(
        h.post('/api/v1/user-groups', org.ownerToken, { name: 'Year 9 team' }),
      );
      expectUnavailable(result);
      expect(ms).toBeLessThan(3000);
      // Reads take no chain lock and still answer.
      expect((await h.get('/api/v1/users', org.ownerToken)).status).toBe(200);

      await other.query('rollback');
      const created = await h.post('/api/v1/user-groups', org.ownerToken, { name: 'Year 9 team' });
      expect(created.status).toBe(201);
    },
  );

  it.runIf(onPostgres)(
    'a statement blocked by a table lock is cancelled by the statement timeout with 503',
    async () => {
      const h = await start({
        HAVEN_DB_STATEMENT_TIMEOUT_MS: '300',
        HAVEN_DB_LOCK_TIMEOUT_MS: '0',
      });
      const org = await setupOrganisation(h);
      const other = await otherSession(h);
      cleanups.push(() => other.end());
      await other.query('begin');
      await other.query('lock table users in access exclusive mode');

      const { result, ms } = await timed(h.get('/api/v1/users', org.ownerToken));
      expectUnavailable(result);
      expect(ms).toBeLessThan(3000);

      await other.query('rollback');
      expect((await h.get('/api/v1/users', org.ownerToken)).status).toBe(200);
    },
  );

  it.runIf(onPostgres)(
    'a change left idle in its transaction is ended by the server, and the next change goes through',
    async () => {
      const h = await start({
        HAVEN_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '400',
        HAVEN_DB_LOCK_TIMEOUT_MS: '5000',
      });
      const org = await setupOrganisation(h);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // Holds the organisation's chain lock and then waits on something that never comes.
      const stuck = runChange(
        h.database,
        { organisationId: org.organisationId, userId: org.ownerId },
        async (change) => {
          change.record({ action: 'test.stuck' });
          await gate;
          await change.db.selectFrom('users').select('id').execute();
        },
      );
      const settled = stuck.then(
        () => 'committed',
        () => 'failed',
      );
      const { result, ms } = await timed(
        h.post('/api/v1/user-groups', org.ownerToken, { name: 'Year 9 team' }),
      );
      expect(result.status).toBe(201);
      expect(ms).toBeLessThan(4000);
      release();
      expect(await settled).toBe('failed');
      expect((await h.get('/api/v1/users', org.ownerToken)).status).toBe(200);
    },
  );

  it('a request that cannot get a database connection in time answers 503, and the next one works', async () => {
    const h = await start({ HAVEN_DB_ACQUIRE_TIMEOUT_MS: '300' }, 1);
    const org = await setupOrganisation(h);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Something holds the only connection (SQLite has one; the pool here has one too).
    const holding = h.database.db.transaction().execute(() => gate);
    cleanups.push(async () => {
      release();
      await holding;
    });
    const { result, ms } = await timed(h.get('/api/v1/users', org.ownerToken));
    expectUnavailable(result);
    expect(ms).toBeLessThan(3000);

    release();
    await holding;
    expect((await h.get('/api/v1/users', org.ownerToken)).status).toBe(200);
  });

  it.runIf(!onPostgres)(
    "a write waiting on another process's SQLite write answers 503 after the busy timeout",
    async () => {
      const h = await start({ HAVEN_DB_BUSY_TIMEOUT_MS: '300' });
      const org = await setupOrganisation(h);
      const other = new BetterSqlite3(`${h.config.dataDir}/haven.sqlite`);
      cleanups.push(async () => other.close());
      other.exec('begin immediate');

      const { result, ms } = await timed(
        h.post('/api/v1/user-groups', org.ownerToken, { name: 'Year 9 team' }),
      );
      expectUnavailable(result);
      expect(ms).toBeLessThan(3000);

      other.exec('rollback');
      const created = await h.post('/api/v1/user-groups', org.ownerToken, { name: 'Year 9 team' });
      expect(created.status).toBe(201);
    },
  );
});
