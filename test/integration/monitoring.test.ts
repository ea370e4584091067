import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateTo, migrateToLatest, migrationNames } from '../../src/db/migrate.ts';
import { buildApp, createServices } from '../../src/server/app.ts';
import type { HavenApp } from '../../src/server/http.ts';
import { useHavenWithMail } from '../support/account-links.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testEngine,
  whileNoSchemaIsDropped,
} from '../support/database.ts';
import { createStudent, createUser, setupOrganisation } from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';
import { freePort, HavenProcess } from '../support/processes.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A log destination that keeps each line Fastify's logger writes. */
function logLines() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Haven on `database`, settings from `env` (the test database's data directory included). */
async function havenOn(
  database: Database,
  env: Record<string, string>,
  options: { logStream?: Writable } = {},
): Promise<HavenApp> {
  const config = loadConfig({ HAVEN_LOG_LEVEL: 'silent', HAVEN_WORKER: 'off', ...env });
  const app = await buildApp({ config, database, ...options });
  cleanups.push(() => app.close());
  return app;
}

async function fresh(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const test = await createTestDatabase(options);
  cleanups.push(() => test.dispose());
  return test;
}

/** A second handle on the test's database, which the test may close or starve. */
function secondHandle(test: TestDatabase, poolSize?: number): Database {
  if (test.engine === 'postgres')
    return openDatabase({ databaseUrl: test.env.DATABASE_URL!, poolSize: poolSize ?? 2 });
  return openDatabase({ sqliteFile: path.join(test.env.HAVEN_DATA_DIR!, 'haven.sqlite') });
}

async function get(app: HavenApp, url: string, headers: Record<string, string> = {}) {
  const reply = await app.inject({ method: 'GET', url, headers });
  const json = /json/.test(String(reply.headers['content-type'] ?? ''));
  return {
    status: reply.statusCode,
    headers: reply.headers,
    body: json ? reply.json() : reply.body,
  };
}

describe('health and readiness', () => {
  const haven = useHaven({ HAVEN_WORKER: 'off' });

  it('answers /health and /ready without signing in, and /ready names its checks', async () => {
    const health = await haven().get('/api/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });

    const ready = await haven().get('/api/v1/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: 'ok', migrations: 'current', worker: 'off' },
    });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('declares both in the OpenAPI document as public operations, and 503 as problem+json', async () => {
    const doc = haven().app.swagger() as any;
    const health = doc.paths['/api/v1/health'].get;
    const ready = doc.paths['/api/v1/ready'].get;
    expect(health.security).toEqual([]);
    expect(ready.security).toEqual([]);
    expect(health.operationId).toMatch(/^get\w+$/);
    expect(ready.operationId).toMatch(/^get\w+$/);
    expect(ready.operationId).not.toBe(health.operationId);
    const refused = ready.responses['503'].content['application/problem+json'].schema;
    expect(refused.properties.checks.properties.database.enum).toEqual(['ok', 'unavailable']);
    // The plain answer at `/` is for health checkers, not part of the API.
    expect(doc.paths['/']).toBeUndefined();
  });
});

describe('/ready when something is wrong', () => {
  it('answers 503 naming the database once its handle is closed, while /health still answers', async () => {
    const test = await fresh();
    const database = secondHandle(test);
    const app = await havenOn(database, test.env);
    expect((await get(app, '/api/v1/ready')).status).toBe(200);

    await database.close();
    const ready = await get(app, '/api/v1/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers['content-type']).toContain('application/problem+json');
    expect(ready.headers['retry-after']).toBe('5');
    expect(ready.body).toMatchObject({
      code: 'not_ready',
      status: 503,
      checks: { database: 'unavailable', migrations: 'unknown', worker: 'off' },
    });
    expect(ready.body.detail).toContain('the database does not answer');
    // Nothing of the failure itself (a file name, an address, a driver's message) is sent.
    const text = JSON.stringify(ready.body);
    expect(text).not.toMatch(/sqlite|postgres|127\.0\.0\.1|closed|connection|pool/i);
    expect((await get(app, '/api/v1/health')).status).toBe(200);
  });

  it('gives up on a database that does not answer within a second', async () => {
    const test = await fresh();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let app: HavenApp;
    let holding: Promise<unknown> | undefined;
    if (test.engine === 'postgres') {
      // A server that accepts the connection and never says a word.
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => sockets.push(socket));
      const port = await freePort();
      await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
      const database = openDatabase({ databaseUrl: `postgres://haven@127.0.0.1:${port}/haven` });
      // Run in reverse: the app, then the silent server (failing the connection the pool waits
      // on), then the pool, which waits for that connection before it ends.
      cleanups.push(() => database.close());
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            silent.close(() => resolve());
          }),
      );
      app = await havenOn(database, test.env);
    } else {
      // SQLite has one connection: a transaction holding it keeps every other query waiting.
      const database = secondHandle(test);
      cleanups.push(() => database.close());
      app = await havenOn(database, test.env);
      holding = database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await held;
      });
    }
    const started = Date.now();
    const ready = await get(app, '/api/v1/ready');
    const took = Date.now() - started;
    release();
    await holding;
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe('unavailable');
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
  });

  it.runIf(testEngine() === 'postgres')(
    'answers 503 when PostgreSQL refuses connections (nothing listens on its port)',
    async () => {
      const test = await fresh();
      const port = await freePort();
      const database = openDatabase({ databaseUrl: `postgres://haven@127.0.0.1:${port}/haven` });
      cleanups.push(() => database.close());
      const app = await havenOn(database, test.env);
      const ready = await get(app, '/api/v1/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toEqual({
        database: 'unavailable',
        migrations: 'unknown',
        worker: 'off',
      });
      expect(JSON.stringify(ready.body)).not.toContain(String(port));
    },
  );

  it('answers 503 while a migration is pending, and 200 once it is applied', async () => {
    const test = await fresh({ migrate: false });
    const db = test.database.db;
    await whileNoSchemaIsDropped(() => migrateTo(db, migrationNames.at(-2)!));
    const app = await havenOn(test.database, test.env);

    const pending = await get(app, '/api/v1/ready');
    expect(pending.status).toBe(503);
    expect(pending.body.checks).toEqual({ database: 'ok', migrations: 'pending', worker: 'off' });
    expect(pending.body.detail).toContain('migrations to apply');

    await whileNoSchemaIsDropped(() => migrateToLatest(db));
    expect((await get(app, '/api/v1/ready')).body.checks.migrations).toBe('current');

    // A newer Haven migrated this database: this older one is not ready for it.
    await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2027-01-01T00:00:00.000Z')`.execute(
      db,
    );
    const ahead = await get(app, '/api/v1/ready');
    expect(ahead.status).toBe(503);
    expect(ahead.body.checks.migrations).toBe('ahead');
  });

  it('answers 503 when a database has no migrations at all', async () => {
    const test = await fresh({ migrate: false });
    const app = await havenOn(test.database, test.env);
    const ready = await get(app, '/api/v1/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.migrations).toBe('pending');
  });

  it('checks the notification worker only where this process is meant to run it', async () => {
    const test = await fresh();
    const config = loadConfig({ HAVEN_LOG_LEVEL: 'silent', HAVEN_WORKER: 'on', ...test.env });
    const services = createServices(test.database, config);
    const app = await buildApp({ config, database: test.database, services });
    cleanups.push(() => app.close());

    const stopped = await get(app, '/api/v1/ready');
    expect(stopped.status).toBe(503);
    expect(stopped.body.checks.worker).toBe('stopped');
    expect(stopped.body.detail).toContain('notification worker is not running');

    services.worker.start();
    const running = await get(app, '/api/v1/ready');
    expect(running.status).toBe(200);
    expect(running.body.checks.worker).toBe('running');

    await services.worker.stop();
    expect((await get(app, '/api/v1/ready')).status).toBe(503);
  });
});

describe('request ids', () => {
  const haven = useHaven({ HAVEN_WORKER: 'off' });

  it('echoes a well-formed X-Request-Id on every answer, errors and pages included', async () => {
    for (const [url, id] of [
      ['/api/v1/health', 'edge-7f3a9c.0001'],
      ['/api/v1/me', 'Root=1-5759e988-bd862e3fe1be46a9'],
      ['/api/v1/nothing-here', '01JDXKQ8ZP4Y3TB5V6W7X8Y9ZA'],
      ['/', 'a'.repeat(128)],
    ] as const) {
      const reply = await haven().request('GET', url, { headers: { 'x-request-id': id } });
      expect(reply.headers['x-request-id'], url).toBe(id);
    }
    expect((await haven().get('/api/v1/me')).status).toBe(401);
  });

  it('replaces a missing or malformed one with a new UUID', async () => {
    const seen = new Set<string>();
    for (const id of [
      undefined,
      '',
      'two words',
      'a,b',
      'quote"d',
      'naïve',
      '<script>',
      'a'.repeat(129),
    ]) {
      const reply = await haven().request('GET', '/api/v1/health', {
        headers: id === undefined ? {} : { 'x-request-id': id },
      });
      const echoed = String(reply.headers['x-request-id']);
      expect(echoed).toMatch(UUID);
      expect(echoed).not.toBe(id);
      seen.add(echoed);
    }
    expect(seen.size).toBe(8);
  });
});

describe('logs', () => {
  const haven = useHaven({ HAVEN_WORKER: 'off' });

  it('are JSON lines carrying the request id', async () => {
    const test = await fresh();
    const { lines, stream } = logLines();
    const app = await havenOn(
      test.database,
      { ...test.env, HAVEN_LOG_LEVEL: 'info' },
      { logStream: stream },
    );
    await get(app, '/api/v1/health', { 'x-request-id': 'probe-42' });
    await get(app, '/api/v1/me');
    await get(app, '/api/v1/nothing-here');
    expect((await get(app, '/api/v1/ready')).status).toBe(200);

    expect(lines.length).toBeGreaterThanOrEqual(4);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) {
      expect(typeof entry.level).toBe('number');
      expect(typeof entry.time).toBe('number');
      expect(typeof entry.msg).toBe('string');
    }
    const probe = entries.filter((e) => e.reqId === 'probe-42');
    // One line per request, written when it is answered.
    expect(probe.map((e) => e.msg)).toEqual(['request completed']);
    expect(probe[0]).toMatchObject({
      req: { method: 'GET', url: '/api/v1/health' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    const completed = entries.filter((e) => e.msg === 'request completed');
    expect(completed.map((e) => (e.res as { statusCode: number }).statusCode)).toEqual([
      200, 401, 404, 200,
    ]);
  });

  it('a server that cannot start says why in a JSON line', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['serve'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: { HAVEN_DATA_DIR: '/nonexistent', PORT: 'not-a-port' },
    });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    const entry = JSON.parse(err[0]!);
    expect(entry.level).toBe(60);
    expect(entry.msg).toContain('PORT');
  });

  it('haven serve writes nothing but JSON lines, and is ready with its worker running', {
    timeout: 90_000,
  }, async () => {
    const port = await freePort();
    const server = await new HavenProcess(haven(), ['serve'], {
      PORT: String(port),
      HAVEN_WORKER_POLL_MS: '200',
    }).start(/Haven is serving/);
    cleanups.push(() => server.kill('SIGTERM'));
    const base = `http://127.0.0.1:${port}`;
    const ready = await fetch(`${base}/api/v1/ready`, { headers: { 'x-request-id': 'cli-1' } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBe('cli-1');
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', migrations: 'current', worker: 'running' },
    });
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(await root.json()).toMatchObject({ status: 'ok' });
    await server.kill('SIGTERM');

    const lines = server.output.split('\n').filter(Boolean);
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
    const msgs = entries.map((e) => e.msg);
    expect(msgs.some((m) => String(m).startsWith('Haven is serving'))).toBe(true);
    expect(entries.some((e) => e.reqId === 'cli-1')).toBe(true);
    expect(msgs).toContain('shutting down');
  });
});

describe('GET /', () => {
  const haven = useHaven({ HAVEN_WORKER: 'off' });

  it('answers a health checker with JSON and a browser with the web app', async () => {
    for (const headers of [{}, { accept: '*/*' }, { accept: 'application/json' }] as Record<
      string,
      string
    >[]) {
      const plain = await haven().request('GET', '/', { headers });
      expect(plain.status).toBe(200);
      expect(plain.headers.location).toBeUndefined();
      expect(plain.body).toEqual({
        status: 'ok',
        name: 'Haven',
        health: '/api/v1/health',
        ready: '/api/v1/ready',
      });
    }
    const page = await haven().request('GET', '/', {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<html');

    const head = await haven().request('HEAD', '/');
    expect(head.status).toBe(200);
  });
});

const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef-0123456789';

/** One sample of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format (version 0.0.4) into samples; comment lines are left out. */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    ))
      labels[key!] = value!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

/** The value of the sample with exactly these labels, or undefined when there is none. */
function sampleValue(all: Sample[], name: string, labels: Record<string, string> = {}) {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return all.find(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  )?.value;
}

async function scrape(app: HavenApp, token = METRICS_TOKEN) {
  const reply = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(reply.statusCode, reply.body).toBe(200);
  return { text: reply.body, all: samples(reply.body), headers: reply.headers };
}

describe('/metrics without HAVEN_METRICS_TOKEN', () => {
  const haven = useHaven({ HAVEN_WORKER: 'off' });

  it('is not there (404, whatever the request bears)', async () => {
    for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}` }]) {
      const reply = await haven().app.inject({ method: 'GET', url: '/metrics', headers });
      expect(reply.statusCode).toBe(404);
      expect(reply.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('refuses a token too short to guess at', () => {
    expect(() => loadConfig({ HAVEN_METRICS_TOKEN: 'short' })).toThrow(/HAVEN_METRICS_TOKEN/);
    expect(() => loadConfig({ HAVEN_METRICS_TOKEN: `${'a'.repeat(31)} b` })).toThrow(
      /HAVEN_METRICS_TOKEN/,
    );
    expect(loadConfig({ HAVEN_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
  });
});

describe('/metrics with HAVEN_METRICS_TOKEN', () => {
  const mailed = useHavenWithMail({ HAVEN_WORKER: 'off', HAVEN_METRICS_TOKEN: METRICS_TOKEN });

  it('answers 401 without the token, and the text exposition with it', async () => {
    const { app } = mailed().h;
    for (const authorization of [
      undefined,
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.toUpperCase()}`,
      `Basic ${Buffer.from(`prometheus:${METRICS_TOKEN}`).toString('base64')}`,
      METRICS_TOKEN,
      'Bearer ',
    ]) {
      const reply = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(reply.statusCode, String(authorization)).toBe(401);
      expect(reply.headers['content-type']).toContain('application/problem+json');
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="haven-metrics"');
      expect(reply.json().code).toBe('unauthorized');
      expect(reply.body).not.toContain('haven_');
    }
    // The first refusal is in the audit log (the rest of the window is counted into one row).
    const refused = await mailed()
      .h.database.db.selectFrom('audit_events')
      .select('meta_json')
      .where('category', '=', 'denied')
      .where('action', '=', 'request.unauthorized')
      .execute();
    expect(refused.map((r) => JSON.parse(r.meta_json ?? '{}').route)).toContain('/metrics');

    const { text, all, headers } = await scrape(app);
    expect(headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(headers['cache-control']).toBe('no-store');
    expect(text).toContain('# TYPE haven_http_requests_total counter');
    expect(text).toContain('# TYPE haven_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE haven_outbox_emails gauge');
    // prom-client's default process metrics, with Haven's prefix.
    expect(sampleValue(all, 'haven_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(all, 'haven_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    // The refused scrapes were counted, as 4xx of the route.
    expect(
      sampleValue(all, 'haven_http_requests_total', {
        method: 'GET',
        route: '/metrics',
        status_class: '4xx',
      }),
    ).toBe(7);
    expect(sampleValue(all, 'haven_database_up')).toBe(1);

    const engine = mailed().h.db.engine;
    expect(sampleValue(all, 'haven_database_info', { engine })).toBe(1);
    if (engine === 'postgres') {
      const idle = sampleValue(all, 'haven_db_pool_connections', { state: 'idle' })!;
      const inUse = sampleValue(all, 'haven_db_pool_connections', { state: 'in_use' })!;
      const max = sampleValue(all, 'haven_db_pool_max_connections')!;
      expect(max).toBe(4); // the test database's pool
      expect(idle + inUse).toBeGreaterThan(0);
      expect(idle + inUse).toBeLessThanOrEqual(max);
      expect(sampleValue(all, 'haven_db_pool_waiting_queries')).toBe(0);
    } else {
      // SQLite has one connection and no pool: the series are not there at all.
      expect(text).not.toContain('haven_db_pool_');
    }
  });

  it('is hidden from the API document', async () => {
    const doc = mailed().h.app.swagger() as any;
    expect(Object.keys(doc.paths).filter((p) => p.includes('metrics'))).toEqual([]);
  });

  it('counts a request under its route pattern, once', async () => {
    const { h } = mailed();
    const org = await setupOrganisation(h);
    const studentId = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
    const students = { method: 'GET', route: '/api/v1/students', status_class: '2xx' };
    const scrapes = { method: 'GET', route: '/metrics', status_class: '2xx' };

    const before = (await scrape(h.app)).all;
    expect((await h.get('/api/v1/students', org.ownerToken)).status).toBe(200);
    const after = (await scrape(h.app)).all;
    expect(sampleValue(after, 'haven_http_requests_total', students)).toBe(
      (sampleValue(before, 'haven_http_requests_total', students) ?? 0) + 1,
    );
    const durations = { method: 'GET', route: '/api/v1/students' };
    expect(sampleValue(after, 'haven_http_request_duration_seconds_count', durations)).toBe(
      (sampleValue(before, 'haven_http_request_duration_seconds_count', durations) ?? 0) + 1,
    );
    // A scrape is counted once it has answered: the second one sees the first.
    expect(sampleValue(before, 'haven_http_requests_total', scrapes)).toBeUndefined();
    expect(sampleValue(after, 'haven_http_requests_total', scrapes)).toBe(1);
    expect(sampleValue((await scrape(h.app)).all, 'haven_http_requests_total', scrapes)).toBe(2);

    // A record's route is counted by its pattern, and a path no route matches as "unmatched".
    expect((await h.get(`/api/v1/students/${studentId}`, org.ownerToken)).status).toBe(200);
    expect((await h.get(`/api/v1/nothing-here/${studentId}`, org.ownerToken)).status).toBe(404);
    const last = (await scrape(h.app)).all;
    expect(
      sampleValue(last, 'haven_http_requests_total', {
        method: 'GET',
        route: '/api/v1/students/:id',
        status_class: '2xx',
      }),
    ).toBe(1);
    expect(
      sampleValue(last, 'haven_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status_class: '4xx',
      }),
    ).toBe(1);
  });

  it('reads the outbox at scrape time: pending, then sent, then failed', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    // Whatever setting up queued (security emails) is sent first.
    await work();
    const outbox = async () => {
      const { all } = await scrape(h.app);
      return {
        pending: sampleValue(all, 'haven_outbox_emails', { status: 'pending' }),
        sending: sampleValue(all, 'haven_outbox_emails', { status: 'sending' }),
        failed: sampleValue(all, 'haven_outbox_emails', { status: 'failed' }),
      };
    };
    expect(await outbox()).toEqual({ pending: 0, sending: 0, failed: 0 });

    const invited = await h.post('/api/v1/users', org.ownerToken, {
      email: 'ivy.invited@school.test',
      name: 'Ivy Invited',
      invite: true,
    });
    expect(invited.status).toBe(201);
    expect(await outbox()).toEqual({ pending: 1, sending: 0, failed: 0 });
    expect((await work()).sent).toBe(1);
    expect(await outbox()).toEqual({ pending: 0, sending: 0, failed: 0 });

    // The mail server refuses: a retry stays pending, the last attempt (of two) fails.
    smtp.refuse = true;
    const again = await h.post('/api/v1/users', org.ownerToken, {
      email: 'ian.invited@school.test',
      name: 'Ian Invited',
      invite: true,
    });
    expect(again.status).toBe(201);
    expect((await work()).retrying).toBe(1);
    expect(await outbox()).toEqual({ pending: 1, sending: 0, failed: 0 });
    expect((await work(new Date(Date.now() + 60_000))).failed).toBe(1);
    expect(await outbox()).toEqual({ pending: 0, sending: 0, failed: 1 });
  });

  it('names no organisation, school, person or record in any series', async () => {
    const { h } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await createUser(h, org.ownerToken, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    const studentId = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
    const ids = [org.organisationId, org.schoolId, org.ownerId, teacher.id, studentId];
    // Requests whose paths and queries carry every id, matched by a route or not, pages too.
    for (const id of ids) {
      await h.get(`/api/v1/students/${id}`, org.ownerToken);
      await h.get(`/api/v1/users/${id}`, org.ownerToken);
      await h.get(`/api/v1/no-such-route/${id}`, org.ownerToken);
      await h.get('/api/v1/students', org.ownerToken, { q: id });
      await h.request('GET', `/students/${id}`, { headers: { accept: 'text/html' } });
      await h.request('GET', `/metrics?id=${id}`);
    }
    const { text, all } = await scrape(h.app);
    for (const secret of [...ids, org.ownerEmail, teacher.email, 'Oak Trust', 'Oak Primary'])
      expect(text, secret).not.toContain(secret);
    // No label value looks like an id: a UUID, or a run of 20 or more letters and digits.
    const values = all.flatMap((s) => Object.values(s.labels));
    expect(values.length).toBeGreaterThan(50);
    const idLike = values.filter(
      (v) =>
        /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(v) ||
        /[0-9a-z]{20,}/i.test(v),
    );
    expect(idLike).toEqual([]);
    const routes = new Set(all.map((s) => s.labels.route).filter(Boolean));
    expect(routes).toContain('unmatched');
    expect(routes).toContain('/api/v1/students/:id');
    expect(routes).toContain('/api/v1/users/:id');
    for (const route of routes) expect(route).toMatch(/^(unmatched|\/[a-z0-9/:._-]*)$/);
  });
});

describe('/metrics when the database does not answer', () => {
  it('still answers, with haven_database_up 0 and no outbox series', async () => {
    const test = await fresh();
    const database = secondHandle(test);
    const app = await havenOn(database, { ...test.env, HAVEN_METRICS_TOKEN: METRICS_TOKEN });
    expect(sampleValue((await scrape(app)).all, 'haven_database_up')).toBe(1);

    await database.close();
    const { text, all } = await scrape(app);
    expect(sampleValue(all, 'haven_database_up')).toBe(0);
    expect(all.filter((s) => s.name === 'haven_outbox_emails')).toEqual([]);
    expect(text).toContain('haven_http_requests_total');
  });
});
