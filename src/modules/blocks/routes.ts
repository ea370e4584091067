import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { BlockService } from './service.ts';

const blockSchema = z.object({
  id,
  userId: id,
  studentId: id,
  reason: z.string(),
  createdBy: id.nullable(),
  since: z.string(),
  until: z.string().nullable(),
});

export function blockRoutes(app: HavenApp, blocks: BlockService) {
  app.post('/api/v1/blocks', {
    config: { access: { permission: 'blocks.manage' } },
    schema: {
      tags: ['blocks'],
      summary:
        'Hide a child from a member of staff, whatever else grants access (Deputy DSL or higher)',
      body: z
        .object({ userId: id, studentId: id, reason: z.string().trim().min(1).max(1000) })
        .strict(),
      response: { 201: blockSchema },
    },
    handler: async (request, reply) => {
      const block = await blocks.create(authOf(request).principal, request.body, originOf(request));
      return reply.code(201).send(block);
    },
  });

  app.get('/api/v1/blocks', {
    config: { access: { permission: 'blocks.manage' } },
    schema: {
      tags: ['blocks'],
      summary: 'Current blocks on children the caller can see',
      querystring: pageQuery.extend({ userId: id.optional(), studentId: id.optional() }),
      response: {
        200: z.object({
          items: z.array(blockSchema.extend({ userName: z.string(), studentName: z.string() })),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) => blocks.list(authOf(request).principal, request.query),
  });

  app.delete('/api/v1/blocks/:id', {
    config: { access: { permission: 'blocks.manage' } },
    schema: {
      tags: ['blocks'],
      summary: 'Lift a block (it stays in the history)',
      params: idParams,
      querystring: z.object({ reason: z.string().trim().min(1).max(1000).optional() }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await blocks.remove(
        authOf(request).principal,
        request.params.id,
        request.query.reason,
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}
