import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/database.ts';
import { within } from '../lib/time.ts';
import {
  OUTBOX_DEPTH_CAP,
  OUTBOX_DEPTH_STATUSES,
  outboxDepth,
} from '../modules/notifications/depth.ts';

/**
 * Prometheus metrics (issue 17, item 2): what `/metrics` exposes, in a registry of each app's
 * own, so several apps in one process (the tests) never share or clash over a series. Labels
 * are bounded by the code, never by the data: a route's pattern, a method, a status class, an
 * outbox state. No label names an organisation, school, person or record.
 */

/** The label of a request Fastify matched to no route (its path may hold ids: never a label). */
export const UNMATCHED_ROUTE = 'unmatched';

/** How long a scrape waits for the database before leaving its series out. */
export const METRICS_DATABASE_TIMEOUT_MS = 1000;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Seconds; up to the statement timeout's 30 s, beyond which a request has already failed. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

let processMetrics: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, heap, event loop, GC, handles), made once per
 * process: they describe the process, not an app, and prom-client never stops the GC observer
 * and event-loop monitor it starts for them, so one set per app would pile up in the tests.
 */
function processWide(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, prefix: 'haven_' });
  }
  return processMetrics;
}

/** The route's pattern as Fastify matched it (`/api/v1/students/:studentId`), never the URL. */
export function routeLabel(request: FastifyRequest): string {
  if (request.is404) return UNMATCHED_ROUTE;
  return request.routeOptions.url ?? UNMATCHED_ROUTE;
}

export class HavenMetrics {
  /** The process's default metrics and this app's own series. */
  readonly registry: Registry;
  readonly #requests: Counter<'method' | 'route' | 'status_class'>;
  readonly #durations: Histogram<'method' | 'route'>;
  readonly #outbox: Gauge<'status'>;
  readonly #databaseUp: Gauge;

  constructor(
    private readonly database: Database,
    /** Where a scrape's failed database read is reported (the scrape itself still answers). */
    private readonly onDatabaseError: (error: unknown) => void = () => {},
  ) {
    const own = new Registry();
    const registers = [own];

    this.#requests = new Counter({
      name: 'haven_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status class',
      labelNames: ['method', 'route', 'status_class'],
      registers,
    });
    this.#durations = new Histogram({
      name: 'haven_http_request_duration_seconds',
      help: 'Time from receiving a request to the end of its answer, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: DURATION_BUCKETS,
      registers,
    });

    new Gauge({
      name: 'haven_database_info',
      help: 'The database engine this process uses (always 1)',
      labelNames: ['engine'],
      registers,
    }).set({ engine: database.engine }, 1);

    // pg's pool only: SQLite has one connection, so these series do not exist there.
    if (database.connections()) {
      const pool = () => database.connections()!;
      new Gauge({
        name: 'haven_db_pool_connections',
        help: 'Open PostgreSQL connections of the pool: idle, or lent to a query or transaction',
        labelNames: ['state'],
        registers,
        collect() {
          const { total, idle } = pool();
          this.set({ state: 'idle' }, idle);
          this.set({ state: 'in_use' }, total - idle);
        },
      });
      new Gauge({
        name: 'haven_db_pool_waiting_queries',
        help: 'Queries waiting for a PostgreSQL connection to come free',
        registers,
        collect() {
          this.set(pool().waiting);
        },
      });
      new Gauge({
        name: 'haven_db_pool_max_connections',
        help: 'The most PostgreSQL connections the pool opens',
        registers,
        collect() {
          this.set(pool().max);
        },
      });
    }

    this.#outbox = new Gauge({
      name: 'haven_outbox_emails',
      help: `Emails in the outbox of the whole installation by state (pending, sending, failed: given up after the last attempt), read at scrape time; counts stop at ${OUTBOX_DEPTH_CAP}`,
      labelNames: ['status'],
      registers,
    });
    this.#databaseUp = new Gauge({
      name: 'haven_database_up',
      help: `1 when the scrape's database read answered within ${METRICS_DATABASE_TIMEOUT_MS} ms, else 0 (and the outbox series are left out)`,
      registers,
    });
    this.registry = Registry.merge([processWide(), own]);
  }

  /** Counts one answered request (Fastify's `onResponse`). */
  observe(request: FastifyRequest, reply: FastifyReply): void {
    const method = METHODS.has(request.method) ? request.method : 'other';
    const route = routeLabel(request);
    const statusClass = `${Math.trunc(reply.statusCode / 100)}xx`;
    this.#requests.inc({ method, route, status_class: statusClass });
    this.#durations.observe({ method, route }, reply.elapsedTime / 1000);
  }

  /** The text exposition, with the database's series read now. */
  async exposition(): Promise<string> {
    await this.#readDatabase();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Outbox depth in one bounded query; a database that does not answer leaves it out. */
  async #readDatabase(): Promise<void> {
    let depth: Awaited<ReturnType<typeof outboxDepth>> | null = null;
    try {
      depth = await within(METRICS_DATABASE_TIMEOUT_MS, outboxDepth(this.database.db));
    } catch (error) {
      this.onDatabaseError(error);
    }
    // Set in one go after the read, so scrapes running at once never see the series half made.
    this.#outbox.reset();
    if (depth)
      for (const status of OUTBOX_DEPTH_STATUSES) this.#outbox.set({ status }, depth[status]);
    this.#databaseUp.set(depth ? 1 : 0);
  }
}
