import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requirePermission } from '../../access/decide.ts';
import type { Database } from '../../db/database.ts';
import { notFound } from '../../lib/errors.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { noContent, rawContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { runChange } from '../audit/change.ts';
import { auditEvent } from '../audit/routes.ts';
import type { AuditService } from '../audit/service.ts';
import type { CategoryService } from './categories.ts';
import {
  assignee,
  categoryBody,
  categorySchema,
  createIncidentBody,
  incidentListQuery,
  incidentSchema,
  revisionSchema,
  updateIncidentBody,
} from './schema.ts';
import type { Caller, IncidentService } from './service.ts';

export function callerOf(request: FastifyRequest): Caller {
  const auth = authOf(request);
  return { principal: auth.principal, mfaAt: auth.session.mfaAt };
}

const page = z.object({ items: z.array(incidentSchema), nextCursor: z.string().nullable() });

export function incidentRoutes(
  app: HavenApp,
  incidents: IncidentService,
  categories: CategoryService,
  audit: AuditService,
  database: Database,
) {
  app.get('/api/v1/categories', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary: "Incident categories: the organisation's and its schools'",
      querystring: z.object({ schoolId: id.optional() }),
      response: { 200: z.object({ items: z.array(categorySchema) }) },
    },
    handler: (request) => categories.list(authOf(request).principal, request.query.schoolId),
  });

  app.post('/api/v1/categories', {
    config: { access: { permission: 'categories.manage' } },
    schema: {
      tags: ['incidents'],
      summary: 'Add a category (Admin), with its sensitivity',
      body: categoryBody,
      response: { 201: categorySchema },
    },
    handler: async (request, reply) =>
      reply
        .code(201)
        .send(await categories.create(authOf(request).principal, request.body, originOf(request))),
  });

  app.post('/api/v1/incidents', {
    config: { access: { permission: 'incidents.create' } },
    schema: {
      tags: ['incidents'],
      summary: 'Log a concern about one or more students',
      body: createIncidentBody,
      response: { 201: incidentSchema },
    },
    handler: async (request, reply) =>
      reply
        .code(201)
        .send(await incidents.create(callerOf(request), request.body, originOf(request))),
  });

  app.get('/api/v1/incidents', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary: 'The incidents the caller may see, newest first (spec section 4)',
      description:
        '`q` searches the account and the location. Children the caller cannot see are redacted.',
      querystring: pageQuery.extend(incidentListQuery.shape),
      response: { 200: page },
    },
    handler: (request) => incidents.list(callerOf(request), request.query),
  });

  app.get('/api/v1/incidents/count', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary: 'How many incidents the caller may see, with the list’s filters',
      querystring: incidentListQuery,
      response: { 200: z.object({ count: z.number() }) },
    },
    handler: async (request) => ({
      count: await incidents.count(callerOf(request), request.query),
    }),
  });

  app.get('/api/v1/incidents/export', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary:
        'CSV of the incidents the caller may see, with the list’s filters (the export is logged)',
      querystring: incidentListQuery,
      response: { 200: rawContent('text/csv', 'The incidents, children redacted as on screen') },
    },
    handler: async (request, reply) => {
      const csv = await incidents.exportCsv(callerOf(request), request.query, originOf(request));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="incidents.csv"')
        .send(csv);
    },
  });

  app.get('/api/v1/incidents/:id', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary: 'One incident (the read is written to the access log)',
      params: idParams,
      response: { 200: incidentSchema },
    },
    handler: (request) => incidents.read(callerOf(request), request.params.id, originOf(request)),
  });

  app.patch('/api/v1/incidents/:id', {
    config: { access: { permission: 'incidents.update' } },
    schema: {
      tags: ['incidents'],
      summary: 'Edit an incident; the previous version is kept as a revision',
      description:
        'Answers the incident as the caller now reads it, or `{ id, revision, withheld: true }` when the edit took it out of their reach (for instance a concern handed over as an allegation they are not cleared to read): the edit was saved.',
      params: idParams,
      body: updateIncidentBody,
      response: {
        200: z.union([
          incidentSchema,
          z.object({ id: z.string(), revision: z.number(), withheld: z.literal(true) }),
        ]),
      },
    },
    handler: (request) =>
      incidents.update(callerOf(request), request.params.id, request.body, originOf(request)),
  });

  app.delete('/api/v1/incidents/:id', {
    config: { access: { permission: 'incidents.delete' } },
    schema: {
      tags: ['incidents'],
      summary: 'Soft-delete an incident (Deputy DSL)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await incidents.remove(callerOf(request), request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });

  app.get('/api/v1/incidents/:id/revisions', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary: 'Earlier versions of an incident, newest first',
      description:
        'Each version is shown only as the caller could read a record with that version’s category, school and children; otherwise it is `withheld`, with no content. Children the caller cannot see are redacted.',
      params: idParams,
      response: { 200: z.object({ items: z.array(revisionSchema) }) },
    },
    handler: (request) =>
      incidents.revisions(callerOf(request), request.params.id, originOf(request)),
  });

  app.get('/api/v1/incidents/:id/exclusions', {
    config: { access: { permission: 'incidents.exclusions.manage' } },
    schema: {
      tags: ['incidents'],
      summary: 'Who is excluded from an incident',
      params: idParams,
      response: {
        200: z.object({ items: z.array(z.object({ id: z.string(), name: z.string() })) }),
      },
    },
    handler: (request) => incidents.exclusions(callerOf(request), request.params.id),
  });

  app.put('/api/v1/incidents/:id/exclusions', {
    config: { access: { permission: 'incidents.exclusions.manage' } },
    schema: {
      tags: ['incidents'],
      summary: 'Replace the exclusion list (Deputy DSL): those named never see the incident',
      params: idParams,
      body: z.object({ userIds: z.array(id).max(1000) }),
      response: { 200: z.object({ userIds: z.array(z.string()) }) },
    },
    handler: (request) =>
      incidents.setExclusions(
        callerOf(request),
        request.params.id,
        request.body.userIds,
        originOf(request),
      ),
  });

  app.post('/api/v1/incidents/:id/assignees', {
    config: { access: { permission: 'incidents.assign' } },
    schema: {
      tags: ['incidents'],
      summary: 'Assign the incident to a user or a user group (Deputy DSL)',
      params: idParams,
      body: assignee,
      response: { 200: incidentSchema },
    },
    handler: (request) =>
      incidents.addAssignee(callerOf(request), request.params.id, request.body, originOf(request)),
  });

  app.get('/api/v1/students/:id/chronology', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['incidents'],
      summary: "A child's chronology: the incidents and actions the caller may see, newest first",
      params: idParams,
      querystring: pageQuery,
      response: {
        200: z.object({
          items: z.array(
            z.object({
              type: z.enum(['incident', 'action']),
              at: z.string(),
              id: z.string(),
              incidentId: z.string(),
              title: z.string(),
              detail: z.string(),
            }),
          ),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) => incidents.chronology(callerOf(request), request.params.id, request.query),
  });

  app.get('/api/v1/access-log', {
    config: { access: { permission: 'reports.access_audit' } },
    schema: {
      tags: ['audit'],
      summary: 'Reads of sensitive records and refused reads, with the path that allowed each',
      querystring: pageQuery.extend({ recordId: id.optional(), userId: id.optional() }),
      response: {
        200: z.object({ items: z.array(auditEvent), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) =>
      audit.list(
        callerOf(request),
        {
          category: 'access',
          targetId: request.query.recordId,
          actorId: request.query.userId,
          limit: request.query.limit,
          cursor: request.query.cursor,
        },
        'reports.access_audit',
      ),
  });

  app.patch('/api/v1/schools/:id/settings', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['organisation'],
      summary: 'School settings (Admin): whether sensitive records need the TOTP step-up',
      params: idParams,
      body: z.object({ requireMfaForSensitive: z.boolean() }),
      response: { 200: z.object({ requireMfaForSensitive: z.boolean() }) },
    },
    handler: async (request) => {
      const { principal } = authOf(request);
      return runChange(database, originOf(request), async (change) => {
        const school = await change.db
          .selectFrom('schools')
          .select(['id', 'settings'])
          .where('id', '=', request.params.id)
          .where('organisation_id', '=', principal.organisationId)
          .executeTakeFirst();
        if (!school) throw notFound('School');
        requirePermission(principal, 'settings.manage', { type: 'school', id: school.id });
        const before = JSON.parse(school.settings) as Record<string, unknown>;
        const after = { ...before, requireMfaForSensitive: request.body.requireMfaForSensitive };
        await change.db
          .updateTable('schools')
          .set({ settings: JSON.stringify(after), updated_at: change.now })
          .where('id', '=', school.id)
          .execute();
        change.record({
          action: 'school.settings',
          targetType: 'school',
          targetId: school.id,
          before,
          after,
        });
        return { requireMfaForSensitive: request.body.requireMfaForSensitive };
      });
    },
  });
}
