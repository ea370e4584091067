import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { HavenError, unauthorized } from '../../lib/errors.ts';
import { idParams, name } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { toHavenError } from '../../server/errors.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { RefusalAudit } from '../../server/refusals.ts';
import { runChange } from '../audit/change.ts';
import {
  listResourceTypes,
  listSchemas,
  resourceType,
  schema,
  serviceProviderConfig,
} from './discovery.ts';
import {
  errorBody,
  fromHavenError,
  isScimError,
  type ListQuery,
  SCIM_MEDIA_TYPE,
  type ScimType,
} from './protocol.ts';
import { SCIM_PATH, type ScimService } from './service.ts';
import type { ScimCaller } from './tokens.ts';

const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.object({ id: z.string(), name: z.string() }).nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/** The Owners' SCIM tokens, under the organisation's settings. */
export function scimTokenRoutes(app: HavenApp, scim: ScimService) {
  app.post('/api/v1/organisation/scim-tokens', {
    config: { access: { permission: 'organisation.update' } },
    schema: {
      tags: ['organisation'],
      summary: 'Create a SCIM provisioning token (Owner)',
      description:
        'The token is in this answer only (Haven keeps its hash). Give it to Microsoft Entra ID or Google as the secret token of `/scim/v2`: it provisions accounts and groups across the organisation, with the authority docs/decisions.md describes.',
      body: z.object({ name }).strict(),
      response: { 201: z.object({ id: z.string(), token: z.string() }) },
    },
    handler: async (request, reply) => {
      const created = await scim.tokens.create(
        authOf(request).principal,
        request.body,
        originOf(request),
      );
      return reply.code(201).send(created);
    },
  });

  app.get('/api/v1/organisation/scim-tokens', {
    config: { access: { permission: 'organisation.update' } },
    schema: {
      tags: ['organisation'],
      summary: "The organisation's SCIM tokens, revoked ones too, newest first (Owner)",
      description: 'Never the token itself.',
      response: { 200: z.object({ items: z.array(tokenSchema) }) },
    },
    handler: async (request) => ({ items: await scim.tokens.list(authOf(request).principal) }),
  });

  app.delete('/api/v1/organisation/scim-tokens/:id', {
    config: { access: { permission: 'organisation.update' } },
    schema: {
      tags: ['organisation'],
      summary: 'Revoke a SCIM token (Owner); its next request is refused',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await scim.tokens.revoke(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });
}

/** Every SCIM route: answered with the SCIM token alone, documented as bearer-authenticated. */
const config = { scim: true } as const;
const tags = ['scim'];
const security = [{ bearer: [] }];

/** A SCIM answer: the resource, list or error as RFC 7643 and 7644 shape it. */
const scimBody = z.record(z.string(), z.unknown()).describe('application/scim+json');
const resourceId = z.object({ id: z.string().min(1).max(200) });
const listQuery = z.object({
  filter: z.string().max(2000).optional(),
  startIndex: z.string().max(20).optional(),
  count: z.string().max(20).optional(),
  attributes: z.string().max(2000).optional(),
  excludedAttributes: z.string().max(2000).optional(),
});
const attributeQuery = listQuery.pick({ attributes: true, excludedAttributes: true });

function callerOf(request: FastifyRequest): ScimCaller {
  if (!request.scim) throw unauthorized('Send the SCIM token as Authorization: Bearer <token>');
  return request.scim;
}

function send(reply: FastifyReply, status: number, body: object) {
  return reply.code(status).type(SCIM_MEDIA_TYPE).send(body);
}

/** What an error answers in SCIM's words, and the HavenError behind it, if any. */
function classify(error: unknown): {
  status: number;
  scimType?: ScimType | undefined;
  detail: string;
  haven?: HavenError;
} {
  if (isScimError(error))
    return {
      status: error.status,
      scimType: (error.scimType || undefined) as ScimType | undefined,
      detail: error.message,
    };
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    return { status: 400, scimType: 'invalidSyntax', detail: 'The request body is not valid JSON' };
  const haven = toHavenError(error as Error);
  return { ...fromHavenError(haven), detail: haven.detail, haven };
}

export interface ScimRouteOptions {
  database: Database;
  refusals: RefusalAudit;
}

/**
 * The SCIM 2.0 service at `/scim/v2`, outside `/api/v1`: every route declares `config.scim`,
 * which `src/server/authenticate.ts` requires of every route under `/scim/` and answers with
 * the SCIM token alone (deny by default). Bodies arrive as `application/scim+json` (or JSON);
 * answers and errors leave as `application/scim+json`.
 */
export async function scimRoutes(app: HavenApp, scim: ScimService, options: ScimRouteOptions) {
  await app.register(
    async (scope) => {
      const api = scope.withTypeProvider<ZodTypeProvider>();
      api.addContentTypeParser(
        SCIM_MEDIA_TYPE,
        { parseAs: 'string' },
        api.getDefaultJsonParser('error', 'error'),
      );

      api.addHook('onSend', async (_request, reply, payload) => {
        reply.header('cache-control', 'no-store');
        return payload;
      });

      api.setErrorHandler(async (error, request, reply) => {
        const { status, scimType, detail, haven } = classify(error);
        if (status >= 500) request.log.error({ err: error }, 'SCIM request failed');
        try {
          await auditRefusal(options, request, status, detail, haven);
        } catch (auditError) {
          request.log.error({ err: auditError }, 'could not write refusal to the audit log');
        }
        if (status === 503) reply.header('retry-after', '5');
        return send(reply, status, errorBody(status, scimType, detail));
      });

      api.setNotFoundHandler(async (request, reply) =>
        send(
          reply,
          404,
          errorBody(404, undefined, `${request.method} ${request.url.split('?')[0]} not found`),
        ),
      );

      api.get('/ServiceProviderConfig', {
        config,
        schema: {
          tags,
          security,
          summary: 'What the SCIM service supports (RFC 7644 section 5)',
          response: { 200: scimBody },
        },
        handler: async (_request, reply) => send(reply, 200, serviceProviderConfig(scim.base)),
      });

      api.get('/ResourceTypes', {
        config,
        schema: { tags, security, summary: 'The SCIM resource types', response: { 200: scimBody } },
        handler: async (_request, reply) => send(reply, 200, listResourceTypes(scim.base)),
      });

      api.get('/ResourceTypes/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'One SCIM resource type',
          params: resourceId,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(reply, 200, resourceType(scim.base, request.params.id)),
      });

      api.get('/Schemas', {
        config,
        schema: { tags, security, summary: 'The SCIM schemas', response: { 200: scimBody } },
        handler: async (_request, reply) => send(reply, 200, listSchemas(scim.base)),
      });

      api.get('/Schemas/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'One SCIM schema',
          params: resourceId,
          response: { 200: scimBody },
        },
        handler: async (request, reply) => send(reply, 200, schema(scim.base, request.params.id)),
      });

      resourceRoutes(api, '/Users', scim.users, {
        list: 'Users of the organisation (SCIM ListResponse)',
        listFilters:
          '`filter` takes `userName`, `emails.value`, `externalId`, `id`, `displayName` with `eq`, `active eq true|false`, `externalId pr`, joined with `and` / `or`; `startIndex` (1-based) and `count` (at most 200) page in SQL.',
        create: 'Provision a user: a Member of the organisation, without a role',
        get: 'One user',
        replace: 'Replace a user',
        patch: 'Change a user (PatchOp); `active: false` disables them and ends their sessions',
        remove: 'Deprovision a user: their account is disabled, never deleted',
      });
      resourceRoutes(api, '/Groups', scim.groups, {
        list: "The organisation's user groups (not those Haven makes itself)",
        listFilters:
          '`filter` takes `displayName`, `externalId`, `id`, `members.value` with `eq`; `excludedAttributes=members` leaves members out.',
        create: 'Create a user group, homed at the organisation',
        get: 'One user group',
        replace: "Replace a group's name, externalId and members",
        patch: "Change a group's name or members (PatchOp)",
        patchRefusals:
          'Refused (403) for a group that confers Owner, DSL, Deputy DSL or a clearance: a person who holds it decides its members, in Haven.',
        remove: 'Delete a user group (its history is kept)',
      });
    },
    { prefix: SCIM_PATH },
  );
}

/** One SCIM resource type's service: Users and Groups answer the same six requests. */
interface ScimResourceService {
  list(caller: ScimCaller, query: ListQuery): Promise<object>;
  create(caller: ScimCaller, body: unknown): Promise<{ meta: { location: string } }>;
  get(caller: ScimCaller, id: string, query: ListQuery): Promise<object>;
  replace(caller: ScimCaller, id: string, body: unknown): Promise<object>;
  /** The changed resource, or nothing (answered 204, as a group's PATCH is). */
  patch(caller: ScimCaller, id: string, body: unknown): Promise<object | undefined>;
  remove(caller: ScimCaller, id: string): Promise<void>;
}

/** The routes of one resource type (RFC 7644 section 3): list, create, get, replace, patch, delete. */
function resourceRoutes(
  api: HavenApp,
  path: string,
  resource: ScimResourceService,
  summaries: {
    list: string;
    listFilters: string;
    create: string;
    get: string;
    replace: string;
    patch: string;
    patchRefusals?: string;
    remove: string;
  },
) {
  const one = `${path}/:id`;

  api.get(path, {
    config,
    schema: {
      tags,
      security,
      summary: summaries.list,
      description: summaries.listFilters,
      querystring: listQuery,
      response: { 200: scimBody },
    },
    handler: async (request, reply) =>
      send(reply, 200, await resource.list(callerOf(request), request.query as ListQuery)),
  });

  api.post(path, {
    config,
    schema: { tags, security, summary: summaries.create, response: { 201: scimBody } },
    handler: async (request, reply) => {
      const created = await resource.create(callerOf(request), request.body);
      reply.header('location', created.meta.location);
      return send(reply, 201, created);
    },
  });

  api.get(one, {
    config,
    schema: {
      tags,
      security,
      summary: summaries.get,
      params: resourceId,
      querystring: attributeQuery,
      response: { 200: scimBody },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      return send(
        reply,
        200,
        await resource.get(callerOf(request), id, request.query as ListQuery),
      );
    },
  });

  api.put(one, {
    config,
    schema: {
      tags,
      security,
      summary: summaries.replace,
      params: resourceId,
      response: { 200: scimBody },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      return send(reply, 200, await resource.replace(callerOf(request), id, request.body));
    },
  });

  api.patch(one, {
    config,
    schema: {
      tags,
      security,
      summary: summaries.patch,
      ...(summaries.patchRefusals ? { description: summaries.patchRefusals } : {}),
      params: resourceId,
      response: { 200: scimBody, 204: noContent },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      const changed = await resource.patch(callerOf(request), id, request.body);
      return changed ? send(reply, 200, changed) : reply.code(204).send();
    },
  });

  api.delete(one, {
    config,
    schema: {
      tags,
      security,
      summary: summaries.remove,
      params: resourceId,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: string };
      await resource.remove(callerOf(request), id);
      return reply.code(204).send();
    },
  });
}

/**
 * Refusals go to the audit log as the API's do: a missing or unknown token through the refusal
 * counter (once per client and window), a revoked one in its organisation's log, and a token's
 * forbidden change (a safeguarding group, an Owner's account) one row each, with the token.
 */
async function auditRefusal(
  options: ScimRouteOptions,
  request: FastifyRequest,
  status: number,
  detail: string,
  haven: HavenError | undefined,
) {
  if (status !== 401 && status !== 403) return;
  const caller = request.scim;
  if (!caller) {
    const error = haven ?? new HavenError(status, 'unauthorized', 'Unauthorized', detail);
    await options.refusals.record(request, error);
    return;
  }
  await runChange(options.database, caller.origin, async (change) => {
    change.record({
      action: `request.${haven?.code ?? 'forbidden'}`,
      category: 'denied',
      meta: {
        method: request.method,
        route: request.routeOptions.url ?? request.url.split('?')[0],
        path: request.url.split('?')[0],
        status,
        detail,
      },
    });
  });
}
