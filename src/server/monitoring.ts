import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { z } from 'zod';
import type { Database } from '../db/database.ts';
import { migrationState } from '../db/migrate.ts';
import { HavenError, unauthorized } from '../lib/errors.ts';
import { problem } from '../lib/schemas.ts';
import { within } from '../lib/time.ts';
import { sendProblem } from './errors.ts';
import type { HavenApp } from './http.ts';
import { HavenMetrics } from './metrics.ts';

/**
 * Monitoring (issue 17, item 2): request ids, `/api/v1/health` (the process answers),
 * `/api/v1/ready` (it can do its work), a plain answer at `/` for health checkers, and
 * Prometheus metrics at `/metrics` behind a bearer token of their own (`HAVEN_METRICS_TOKEN`).
 * None of them needs a session, and none says more than which check failed.
 */

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming id Haven takes as its own: up to 128 characters a log line or a header cannot be
 * broken by (no spaces, quotes, commas or control characters). UUIDs, ULIDs and the ids proxies
 * and load balancers make all fit. A repeated header arrives joined with ", " and is replaced.
 */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/;

/**
 * Fastify's `genReqId`: the caller's `X-Request-Id` when it is well formed, else a new UUID.
 * (Fastify's own `requestIdHeader` takes any value the header holds, so it stays off.)
 */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Every answer, errors and pages included, carries the request's id. Register it first. */
export function registerRequestIds(app: HavenApp) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}

/**
 * Fastify's request lines, one per request: nothing as it arrives, and when it is answered the
 * request, its status and its duration (Fastify would write a line at each).
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest() {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** How long `/ready` waits for the database before calling it down, in milliseconds. */
export const READY_DATABASE_TIMEOUT_MS = 1000;

const readinessChecks = z.object({
  database: z
    .enum(['ok', 'unavailable'])
    .describe(`Whether the database answered within ${READY_DATABASE_TIMEOUT_MS} ms`),
  migrations: z
    .enum(['current', 'pending', 'ahead', 'unknown'])
    .describe(
      '`pending`: migrations of this version are not applied (run `haven migrate`); `ahead`: the database has migrations this version does not know; `unknown`: the database did not answer',
    ),
  worker: z
    .enum(['running', 'stopped', 'off'])
    .describe(
      'The notification worker in this process; `off`: this process does not run it (`HAVEN_WORKER=off`)',
    ),
});

export type ReadinessChecks = z.infer<typeof readinessChecks>;

export interface ReadinessSources {
  database: Database;
  /** Whether this process is meant to run the notification worker (`HAVEN_WORKER`). */
  runsWorker: boolean;
  worker: { readonly running: boolean };
}

/** What `/ready` checks. Reading the applied migrations is also the proof the database answers. */
export async function checkReadiness(sources: ReadinessSources): Promise<ReadinessChecks> {
  let database: ReadinessChecks['database'] = 'ok';
  let migrations: ReadinessChecks['migrations'] = 'unknown';
  try {
    const state = await within(READY_DATABASE_TIMEOUT_MS, migrationState(sources.database.db));
    if (state.unknown.length > 0) migrations = 'ahead';
    else if (state.pending.length > 0) migrations = 'pending';
    else migrations = 'current';
  } catch {
    database = 'unavailable';
  }
  const worker = !sources.runsWorker ? 'off' : sources.worker.running ? 'running' : 'stopped';
  return { database, migrations, worker };
}

const NOT_READY_REASONS: [(checks: ReadinessChecks) => boolean, string][] = [
  [(c) => c.database !== 'ok', 'the database does not answer'],
  [(c) => c.migrations === 'pending', 'the database has migrations to apply (run haven migrate)'],
  [(c) => c.migrations === 'ahead', 'the database was migrated by a newer version of Haven'],
  [(c) => c.worker === 'stopped', 'the notification worker is not running'],
];

/** Null when every check passed; otherwise the 503 naming what failed. */
export function notReady(checks: ReadinessChecks): HavenError | null {
  const reasons = NOT_READY_REASONS.filter(([failed]) => failed(checks)).map(([, why]) => why);
  if (reasons.length === 0) return null;
  return new HavenError(503, 'not_ready', 'Not ready', `Not ready: ${reasons.join('; ')}`, {
    checks,
  });
}

/** What `GET /` answers a client that does not ask for a page: enough for a health checker. */
const rootAnswer = z.object({
  status: z.literal('ok'),
  name: z.literal('Haven'),
  health: z.string(),
  ready: z.string(),
});

export function monitoringRoutes(
  app: HavenApp,
  sources: ReadinessSources,
  sendPage: (request: FastifyRequest, reply: FastifyReply) => boolean,
  metrics: MetricsEndpoint | null = null,
) {
  if (metrics) metricsRoute(app, metrics);

  app.get('/api/v1/health', {
    config: { access: { public: true } },
    schema: {
      tags: ['health'],
      summary: 'Whether the Haven process answers',
      description:
        'Liveness: answers 200 while the process can answer HTTP at all, without touching the database (use `/api/v1/ready` for that).',
      security: [],
      response: { 200: z.object({ status: z.literal('ok') }) },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/api/v1/ready', {
    config: { access: { public: true } },
    schema: {
      tags: ['health'],
      summary: 'Whether this Haven process can serve requests',
      description: `Readiness: the database answers within ${READY_DATABASE_TIMEOUT_MS} ms, its migrations are this version's, and the notification worker runs where this process is meant to run it. 503 \`not_ready\` names the checks that failed.`,
      security: [],
      response: {
        200: z.object({ status: z.literal('ready'), checks: readinessChecks }),
        503: {
          description: 'Not ready; `checks` says which check failed',
          content: {
            'application/problem+json': {
              schema: problem.extend({ checks: readinessChecks }),
            },
          },
        },
      },
    },
    handler: async (request, reply) => {
      const checks = await checkReadiness(sources);
      const refusal = notReady(checks);
      if (!refusal) return { status: 'ready' as const, checks };
      request.log.warn({ checks }, 'not ready');
      return sendProblem(reply, refusal);
    },
  });

  // Browsers asking for a page get the web app; anything else a small JSON answer, so a load
  // balancer's default check of `/` passes without following a redirect or parsing HTML.
  app.get('/', {
    schema: { hide: true, response: { 200: rootAnswer } },
    handler: async (request, reply) => {
      if (sendPage(request, reply)) return reply;
      return {
        status: 'ok' as const,
        name: 'Haven' as const,
        health: '/api/v1/health',
        ready: '/api/v1/ready',
      };
    },
  });
}

/** Where Prometheus scrapes; outside `/api/v1` (not part of the API) and out of its document. */
export const METRICS_PATH = '/metrics';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether `header` is `Bearer <token>`. Both sides are hashed first, so the comparison is in
 * constant time over equal lengths and says nothing of the token's length either.
 */
export function bearsToken(header: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+)$/i.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(token));
}

/** What `/metrics` serves and the token it asks for; null where `HAVEN_METRICS_TOKEN` is unset. */
export interface MetricsEndpoint {
  metrics: HavenMetrics;
  token: string;
}

/**
 * The hook that counts every answer, only when `token` is set: otherwise nothing is counted and
 * `/metrics` is an unknown path (404). Register it before any route, so it sees every request,
 * refusals, pages and 404s included; `monitoringRoutes` then serves what it counted.
 */
export function registerMetrics(
  app: HavenApp,
  options: { token: string | undefined; database: Database },
): MetricsEndpoint | null {
  const { token, database } = options;
  if (!token) return null;
  const metrics = new HavenMetrics(database, (err) =>
    app.log.warn({ err }, 'metrics: the database did not answer; outbox series left out'),
  );
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request, reply);
    done();
  });
  return { metrics, token };
}

/** `GET /metrics`: the text exposition for a bearer of the metrics token; 401 for anyone else. */
function metricsRoute(app: HavenApp, { metrics, token }: MetricsEndpoint) {
  app.get(METRICS_PATH, {
    schema: { hide: true },
    // Refused before anything else of the route runs; the refusal is audited like any 401.
    onRequest: async (request, reply) => {
      if (bearsToken(request.headers.authorization, token)) return;
      reply.header('www-authenticate', 'Bearer realm="haven-metrics"');
      throw unauthorized('Send the metrics token as Authorization: Bearer <token>');
    },
    handler: async (_request, reply) => {
      const text = await metrics.exposition();
      return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
    },
  });
}
