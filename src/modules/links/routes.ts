import { z } from 'zod';
import { id } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { DirectLinkService } from './service.ts';

export function directLinkRoutes(app: HavenApp, links: DirectLinkService) {
  app.post('/api/v1/users/:id/student-links', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['users'],
      summary: 'Link a user directly to one student (external partners; Admin at the school)',
      params: z.object({ id }),
      body: z.object({ studentId: id }).strict(),
      response: { 201: z.object({ id }) },
    },
    handler: async (request, reply) => {
      const link = await links.link(
        authOf(request).principal,
        request.params.id,
        request.body.studentId,
        originOf(request),
      );
      return reply.code(201).send(link);
    },
  });

  app.get('/api/v1/users/:id/student-links', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: "A user's direct links (children the caller cannot see are redacted)",
      params: z.object({ id }),
      response: {
        200: z.object({
          items: z.array(
            z.object({
              id,
              since: z.string(),
              student: z.object({ id, name: z.string() }).nullable(),
              redacted: z.boolean(),
            }),
          ),
          nextCursor: z.null(),
        }),
      },
    },
    handler: async (request) => ({
      items: await links.list(authOf(request).principal, request.params.id),
      nextCursor: null,
    }),
  });

  app.delete('/api/v1/users/:id/student-links/:linkId', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['users'],
      summary: 'End a direct link',
      params: z.object({ id, linkId: id }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await links.unlink(
        authOf(request).principal,
        request.params.id,
        request.params.linkId,
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}
