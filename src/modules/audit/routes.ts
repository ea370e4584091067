import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id } from '../../lib/schemas.ts';
import type { HavenApp } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import type { AuditService } from './service.ts';

const named = z.object({ id: z.string(), name: z.string().nullable() });

/** One audit or access-log row as a reader may see it (hidden records' ids withheld). */
export const auditEvent = z.object({
  id,
  /** The row's place in its chain; chains are numbered apart, so order rows by id, not seq. */
  seq: z.number(),
  /** Its hash chain: the organisation's id (changes), `<organisation>/reads/<k>` (reads), or `installation`. */
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
  /**
   * True when the record the row is about was destroyed (retention): its before, after and meta
   * are gone (shredded), or for rows written before migration 0023, not shown.
   */
  destroyed: z.boolean(),
  /** Access rows: the record read, with a label (a child's name only if the reader sees the child). */
  record: z
    .object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() })
    .nullable()
    .optional(),
  /** Access rows: the way in that allowed the read; a group the reader may not see has no id nor name. */
  allowedBy: z
    .object({
      kind: z.enum(['user_group', 'direct_link', 'reporter', 'assignee', 'assigned_group']),
      userGroup: z.object({ id: z.string().nullable(), name: z.string().nullable() }).nullable(),
      studentGroup: named.nullable(),
      student: named.nullable(),
    })
    .nullable()
    .optional(),
});

const logAnswer = z.object({
  items: z.array(auditEvent),
  nextCursor: z.string().nullable(),
  /** Names of the people, groups, schools, categories and children the rows mention, by id, as far as the reader may name them. */
  names: z.record(z.string(), z.string()),
});

const oversightDoc =
  'Admin or higher at the organisation reads every row; an Admin of some schools (or school groups) reads the rows that belong to those schools: their children, records, categories, student groups, user groups homed there, role grants there, the schools themselves, and people whose every role is there (with their sign-ins, exports and refused requests). `schoolId` narrows to one school the caller oversees (403 otherwise). Rows about records the caller may not read are left out.';

export function auditRoutes(app: HavenApp, audit: AuditService) {
  app.get('/api/v1/audit-log', {
    config: { access: { permission: 'audit_log.view' } },
    schema: {
      tags: ['audit'],
      summary: 'Changes and refused requests, newest first (Admin; of their own schools)',
      description: oversightDoc,
      querystring: pageQuery.extend({
        category: z.enum(['change', 'denied', 'access']).optional(),
        action: z.string().max(100).optional(),
        actorId: id.optional(),
        targetId: id.optional(),
        schoolId: id.optional(),
      }),
      response: { 200: logAnswer },
    },
    handler: (request) => audit.list(callerOf(request), request.query),
  });

  app.get('/api/v1/access-log', {
    config: { access: { permission: 'reports.access_audit' } },
    schema: {
      tags: ['audit'],
      summary:
        'Reads of sensitive records and refused reads, with the record and the way in that allowed each',
      description: oversightDoc,
      querystring: pageQuery.extend({
        recordId: id.optional(),
        userId: id.optional(),
        schoolId: id.optional(),
      }),
      response: { 200: logAnswer },
    },
    handler: (request) =>
      audit.list(
        callerOf(request),
        {
          category: 'access',
          targetId: request.query.recordId,
          actorId: request.query.userId,
          schoolId: request.query.schoolId,
          limit: request.query.limit,
          cursor: request.query.cursor,
        },
        'reports.access_audit',
      ),
  });
}
