import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id } from '../../lib/schemas.ts';
import type { HavenApp } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import type { AuditService } from './service.ts';

/** One audit or access-log row as a reader may see it (hidden records' ids withheld). */
export const auditEvent = z.object({
  id,
  seq: z.number(),
  chain: z.string(),
  at: z.string(),
  category: z.string(),
  action: z.string(),
  actor: z.object({ id, name: z.string() }).nullable(),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  before: z.unknown(),
  after: z.unknown(),
  meta: z.unknown(),
  /** True when the row describes a version of a record the reader could not read: no before or after. */
  withheld: z.boolean(),
});

export function auditRoutes(app: HavenApp, audit: AuditService) {
  app.get('/api/v1/audit-log', {
    config: { access: { permission: 'audit_log.view' } },
    schema: {
      tags: ['audit'],
      summary: 'Changes and refused requests, newest first (Admin at organisation scope)',
      querystring: pageQuery.extend({
        category: z.enum(['change', 'denied', 'access']).optional(),
        action: z.string().max(100).optional(),
        actorId: id.optional(),
        targetId: id.optional(),
      }),
      response: {
        200: z.object({ items: z.array(auditEvent), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) => audit.list(callerOf(request), request.query),
  });
}
