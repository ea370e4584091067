import { z } from 'zod';
import { id, idParams, roleName, scope } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { RoleGrantService } from './service.ts';

const subject = z.object({ type: z.enum(['user', 'user_group']), id });
const grantSchema = z.object({
  id,
  subject,
  role: roleName,
  scope,
  grantedBy: id.nullable(),
  reason: z.string().nullable(),
  validFrom: z.string(),
});

export function roleGrantRoutes(app: HavenApp, grants: RoleGrantService) {
  app.post('/api/v1/role-grants', {
    config: { access: { permission: 'roles.assign' } },
    schema: {
      tags: ['roles'],
      summary: 'Grant a role at a scope to a user or user group',
      description:
        'Owner can only be granted by an Owner whose scope covers the target; other roles by an Admin or higher there, and to a user group only by an Admin at its home. Nobody grants a role to themselves or to a group they are in (403 `self_grant`), an Owner at the organisation aside. `member` is not grantable. `reason` is kept with the grant and in the audit log.',
      body: z
        .object({ subject, role: roleName, scope, reason: z.string().max(500).optional() })
        .strict(),
      response: { 201: grantSchema },
    },
    handler: async (request, reply) => {
      const grant = await grants.grant(authOf(request).principal, request.body, originOf(request));
      return reply.code(201).send(grant);
    },
  });

  app.get('/api/v1/role-grants', {
    config: { access: { permission: 'roles.assign' } },
    schema: {
      tags: ['roles'],
      summary: 'Current role grants, optionally of one user or user group (Admin)',
      querystring: z.object({ userId: id.optional(), userGroupId: id.optional() }),
      response: { 200: z.object({ items: z.array(grantSchema), nextCursor: z.null() }) },
    },
    handler: async (request) => ({
      items: await grants.list(authOf(request).principal, request.query),
      nextCursor: null,
    }),
  });

  app.delete('/api/v1/role-grants/:id', {
    config: { access: { permission: 'roles.assign' } },
    schema: {
      tags: ['roles'],
      summary: 'Revoke a role grant',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await grants.revoke(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });
}
