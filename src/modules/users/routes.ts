import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { email, id, idParams, name, roleName, scope } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { UserService } from './service.ts';

export const userSchema = z.object({
  id,
  email: z.string(),
  name: z.string(),
  status: z.enum(['active', 'disabled']),
  createdAt: z.string(),
  updatedAt: z.string(),
  disabledAt: z.string().nullable(),
});

export const heldGrantSchema = z.object({
  grantId: id,
  role: roleName,
  scope: scope.extend({ name: z.string() }),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('direct') }),
    // Null id and name: a group the caller may not see (homed where they administer nothing).
    z.object({
      type: z.literal('user_group'),
      userGroupId: id.nullable(),
      userGroupName: z.string().nullable(),
    }),
  ]),
  since: z.string(),
});

export function userRoutes(app: HavenApp, users: UserService) {
  app.post('/api/v1/users', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'Add a user (Admin); new users hold only Member until given a role',
      body: z.object({ email, name, password: z.string().max(256).optional() }).strict(),
      response: { 201: userSchema },
    },
    handler: async (request, reply) => {
      const user = await users.create(authOf(request).principal, request.body, originOf(request));
      return reply.code(201).send(user);
    },
  });

  app.get('/api/v1/users', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'List users (Admin)',
      description:
        '`q` searches names and emails; `inGroup=none` lists users in no user group (orphaned); `inGroup=<id>` the members of one group.',
      querystring: pageQuery.extend({
        q: z.string().trim().max(200).optional(),
        inGroup: z.string().min(1).max(64).optional(),
        status: z.enum(['active', 'disabled', 'all']).optional(),
      }),
      response: {
        200: z.object({ items: z.array(userSchema), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) => users.list(authOf(request).principal, request.query),
  });

  app.get('/api/v1/users/:id', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'One user, with the roles they hold and where each comes from (Admin)',
      params: idParams,
      response: { 200: userSchema.extend({ roles: z.array(heldGrantSchema) }) },
    },
    handler: (request) => users.get(authOf(request).principal, request.params.id),
  });

  app.patch('/api/v1/users/:id', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'Rename, disable or re-enable a user (Admin); disabling ends their sessions',
      params: idParams,
      body: z.object({ name: name.optional(), disabled: z.boolean().optional() }).strict(),
      response: { 200: userSchema },
    },
    handler: (request) =>
      users.update(authOf(request).principal, request.params.id, request.body, originOf(request)),
  });

  app.delete('/api/v1/users/:id', {
    config: { access: { permission: 'organisation.members.remove' } },
    schema: {
      tags: ['users'],
      summary: 'Remove a user from the organisation (Owner)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await users.remove(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/me/password', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['me'],
      summary: 'Change my password; my other sessions end',
      body: z
        .object({ currentPassword: z.string().max(256), newPassword: z.string().max(256) })
        .strict(),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const auth = authOf(request);
      await users.changeOwnPassword(
        auth.principal,
        auth.session.sessionId,
        request.body,
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}
