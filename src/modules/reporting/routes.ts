import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id } from '../../lib/schemas.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { sensitivities, statuses } from '../incidents/schema.ts';
import type { ReportingService } from './service.ts';

const search = z.string().trim().max(200).optional();

const reportableStudent = z.object({
  id: z.string(),
  givenName: z.string(),
  familyName: z.string(),
  yearGroup: z.number().nullable(),
  schoolId: z.string(),
});

const myReport = z.object({
  id: z.string(),
  categoryName: z.string(),
  sensitivity: z.enum(sensitivities),
  createdAt: z.string(),
  status: z.enum(statuses),
  /** The children the reporter named (and the child not on roll they named). */
  studentNames: z.array(z.string()),
});

export function reportingRoutes(app: HavenApp, reporting: ReportingService) {
  app.get('/api/v1/reportable-students', {
    config: { access: { permission: 'incidents.create' } },
    schema: {
      tags: ['incidents'],
      summary: 'Children the caller may report a concern about, by family name',
      description:
        'Any child on roll at a school where the caller holds a role, except those they are blocked from: names, year group and school only. Reporting about a child does not make the child visible. `q` matches every word against the start of the names; `schoolId` (403 where the caller holds no role) narrows to one school. Each search is written to the access log.',
      querystring: pageQuery.extend({ q: search, schoolId: id.optional() }),
      response: {
        200: z.object({ items: z.array(reportableStudent), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) =>
      reporting.students(authOf(request).principal, request.query, originOf(request)),
  });

  app.get('/api/v1/reportable-staff', {
    config: { access: { permission: 'incidents.create' } },
    schema: {
      tags: ['incidents'],
      summary: 'Staff an allegation at the school may name (names only)',
      description:
        'Live users holding a role at the school (or at a scope covering it), the caller left out, by name; at most 50, `q` narrows by any part of the name. 403 where the caller holds no role at the school.',
      querystring: z.object({ q: search, schoolId: id }),
      response: {
        200: z.object({ items: z.array(z.object({ id: z.string(), name: z.string() })) }),
      },
    },
    handler: (request) => reporting.staff(authOf(request).principal, request.query),
  });

  app.get('/api/v1/me/reports', {
    config: { access: { permission: 'incidents.create' } },
    schema: {
      tags: ['incidents'],
      summary: 'The concerns I reported, newest first (no two-factor check needed)',
      description:
        'No account of what happened: open a report (`GET /incidents/:id`) to read it, as its reporter.',
      querystring: pageQuery,
      response: {
        200: z.object({ items: z.array(myReport), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) => reporting.mine(callerOf(request), request.query),
  });
}
