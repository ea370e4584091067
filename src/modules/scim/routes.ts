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

      const config = { scim: true } as const;
      const tags = ['scim'];
      const security = [{ bearer: [] }];

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

      api.get('/Users', {
        config,
        schema: {
          tags,
          security,
          summary: 'Users of the organisation (SCIM ListResponse)',
          description:
            '`filter` takes `userName`, `emails.value`, `externalId`, `id`, `displayName` with `eq`, `active eq true|false`, `externalId pr`, joined with `and` / `or`; `startIndex` (1-based) and `count` (at most 200) page in SQL.',
          querystring: listQuery,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(reply, 200, await scim.users.list(callerOf(request), request.query as ListQuery)),
      });

      api.post('/Users', {
        config,
        schema: {
          tags,
          security,
          summary: 'Provision a user: a Member of the organisation, without a role',
          response: { 201: scimBody },
        },
        handler: async (request, reply) => {
          const user = await scim.users.create(callerOf(request), request.body);
          reply.header('location', user.meta.location);
          return send(reply, 201, user);
        },
      });

      api.get('/Users/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'One user',
          params: resourceId,
          querystring: attributeQuery,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(
            reply,
            200,
            await scim.users.get(callerOf(request), request.params.id, request.query),
          ),
      });

      api.put('/Users/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'Replace a user',
          params: resourceId,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(
            reply,
            200,
            await scim.users.replace(callerOf(request), request.params.id, request.body),
          ),
      });

      api.patch('/Users/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'Change a user (PatchOp); `active: false` disables them and ends their sessions',
          params: resourceId,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(
            reply,
            200,
            await scim.users.patch(callerOf(request), request.params.id, request.body),
          ),
      });

      api.delete('/Users/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'Deprovision a user: their account is disabled, never deleted',
          params: resourceId,
          response: { 204: noContent },
        },
        handler: async (request, reply) => {
          await scim.users.deactivate(callerOf(request), request.params.id);
          return reply.code(204).send();
        },
      });

      api.get('/Groups', {
        config,
        schema: {
          tags,
          security,
          summary: "The organisation's user groups (not those Haven makes itself)",
          description:
            '`filter` takes `displayName`, `externalId`, `id`, `members.value` with `eq`; `excludedAttributes=members` leaves members out.',
          querystring: listQuery,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(reply, 200, await scim.groups.list(callerOf(request), request.query as ListQuery)),
      });

      api.post('/Groups', {
        config,
        schema: {
          tags,
          security,
          summary: 'Create a user group, homed at the organisation',
          response: { 201: scimBody },
        },
        handler: async (request, reply) => {
          const group = await scim.groups.create(callerOf(request), request.body);
          reply.header('location', group.meta.location);
          return send(reply, 201, group);
        },
      });

      api.get('/Groups/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'One user group',
          params: resourceId,
          querystring: attributeQuery,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(
            reply,
            200,
            await scim.groups.get(callerOf(request), request.params.id, request.query),
          ),
      });

      api.put('/Groups/:id', {
        config,
        schema: {
          tags,
          security,
          summary: "Replace a group's name, externalId and members",
          params: resourceId,
          response: { 200: scimBody },
        },
        handler: async (request, reply) =>
          send(
            reply,
            200,
            await scim.groups.replace(callerOf(request), request.params.id, request.body),
          ),
      });

      api.patch('/Groups/:id', {
        config,
        schema: {
          tags,
          security,
          summary: "Change a group's name or members (PatchOp)",
          description:
            'Refused (403) for a group that confers Owner, DSL, Deputy DSL or a clearance: a person who holds it decides its members, in Haven.',
          params: resourceId,
          response: { 204: noContent },
        },
        handler: async (request, reply) => {
          await scim.groups.patch(callerOf(request), request.params.id, request.body);
          return reply.code(204).send();
        },
      });

      api.delete('/Groups/:id', {
        config,
        schema: {
          tags,
          security,
          summary: 'Delete a user group (its history is kept)',
          params: resourceId,
          response: { 204: noContent },
        },
        handler: async (request, reply) => {
          await scim.groups.remove(callerOf(request), request.params.id);
          return reply.code(204).send();
        },
      });
    },
    { prefix: SCIM_PATH },
  );
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
