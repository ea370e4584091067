import type { FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import { HavenError } from '../lib/errors.ts';
import type { HavenApp } from './http.ts';

/**
 * Response contracts: what an /api/v1 route answers passes through a declared response schema,
 * which strips every field the schema does not name (issue 11, finding 7). Without one, Fastify
 * sends whatever the service built.
 */

/** A 204 answer: no body (fastify-type-provider-zod's idiom; OpenAPI shows no content). */
export const noContent = z.undefined().describe('No content');

/**
 * A success answer that is not JSON (a CSV export, a document's bytes), declared by its media
 * type as OpenAPI's content map. Fastify serialises only JSON, so the schema documents the body.
 */
export function rawContent<S extends z.ZodType = z.ZodString>(
  mediaType: string,
  description: string,
  schema?: S,
) {
  return { description, content: { [mediaType]: { schema: schema ?? z.string() } } };
}

export type ContractMode = 'strict' | 'report';

export interface ResponseContracts {
  mode: ContractMode;
  /** Routes that break the contract, as "METHOD /url: what is missing" (report mode). */
  offenders: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    responseContracts: ResponseContracts;
  }
}

// A redirect is an answer too: single sign-on's routes answer only 302 (to the provider, or back).
const SUCCESS_STATUS = /^[23](\d\d|xx)$/i;

function responseSchemas(schema: unknown): Record<string, unknown> | null {
  const response = (schema as { response?: unknown } | undefined)?.response;
  return response && typeof response === 'object' ? (response as Record<string, unknown>) : null;
}

function isZod(value: unknown): boolean {
  return value instanceof z.ZodType;
}

/** Whether one declared success answer is a zod schema or a content map of zod schemas. */
function declaresBody(entry: unknown): boolean {
  if (isZod(entry)) return true;
  const content = (entry as { content?: unknown } | null)?.content;
  if (!content || typeof content !== 'object') return false;
  const media = Object.values(content as Record<string, { schema?: unknown }>);
  return media.length > 0 && media.every((m) => isZod(m?.schema));
}

/** What is wrong with a route's response contract, or null when it has one. */
export function responseContractProblem(route: Pick<RouteOptions, 'url' | 'schema'>) {
  if (!route.url.startsWith('/api/v1/')) return null;
  const response = responseSchemas(route.schema);
  if (!response) return 'declares no response schema';
  const success = Object.keys(response).filter((status) => SUCCESS_STATUS.test(status));
  if (success.length === 0) return 'declares no response schema for its success status';
  const bad = success.filter((status) => !declaresBody(response[status]));
  if (bad.length > 0) return `declares no zod schema for ${bad.join(', ')}`;
  return null;
}

/** Whether the route declared this status; null when it declared no answers at all. */
function declaresStatus(request: FastifyRequest, status: number): boolean | null {
  const response = responseSchemas(request.routeOptions.schema);
  if (!response) return null;
  return String(status) in response || `${String(status)[0]}xx` in response;
}

/**
 * Checks every /api/v1 route as it is added: in `strict` mode a route without a response schema
 * for its success status stops the app from starting (like a route that declares no access);
 * in `report` mode it is listed in `app.responseContracts.offenders` and logged once the app is
 * ready. At run time a JSON answer with a 2xx status the route did not declare is refused with a
 * 500 in strict mode (it would leave unfiltered), and listed in report mode.
 */
export function registerResponseContracts(
  app: HavenApp,
  { mode }: { mode: ContractMode },
): ResponseContracts {
  const contracts: ResponseContracts = { mode, offenders: [] };
  app.decorate('responseContracts', contracts);

  app.addHook('onRoute', (route: RouteOptions) => {
    // Fastify adds a HEAD twin for every GET with the same schema; it never has a body.
    if (route.method === 'HEAD') return;
    const problem = responseContractProblem(route);
    if (!problem) return;
    const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
    const offender = `${methods} ${route.url}: ${problem}`;
    if (mode === 'strict') throw new Error(`Route ${offender}`);
    contracts.offenders.push(offender);
  });

  app.addHook('preSerialization', async (request, reply, payload) => {
    const status = reply.statusCode;
    if (status < 200 || status >= 300 || !request.url.startsWith('/api/v1/')) return payload;
    const declared = declaresStatus(request, status);
    if (declared) return payload;
    // A route that declares no answers at all was refused (strict) or listed (report) at start.
    if (declared === null && mode === 'report') return payload;
    const route = `${request.method} ${request.routeOptions.url}`;
    const offender = `${route}: answered ${status}, which it declares no schema for`;
    if (mode === 'strict') {
      request.log.error({ route, status }, 'answer without a response schema refused');
      throw new HavenError(500, 'internal_error', 'Internal error', 'The server made a bad answer');
    }
    if (!contracts.offenders.includes(offender)) {
      contracts.offenders.push(offender);
      request.log.warn({ route, status }, 'answer without a response schema');
    }
    return payload;
  });

  app.addHook('onReady', async () => {
    if (contracts.offenders.length > 0) {
      app.log.warn(
        { routes: contracts.offenders },
        `${contracts.offenders.length} API routes have no response schema`,
      );
    }
  });

  return contracts;
}
