import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams, isoTime } from '../../lib/schemas.ts';
import { noContent, rawContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { CategoryService } from './categories.ts';
import {
  assignee,
  assignmentWarnings,
  categoryBody,
  categoryListItem,
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

/** How many records matching the request only a two-factor step-up would add (0 once passed). */
const stepUpNeeded = z
  .number()
  .int()
  .describe(
    'How many more records match that this session may read only after a two-factor step-up (POST /auth/step-up); 0 when none or once passed',
  );

const page = z.object({
  items: z.array(incidentSchema),
  nextCursor: z.string().nullable(),
  stepUpNeeded,
});

export function incidentRoutes(
  app: HavenApp,
  incidents: IncidentService,
  categories: CategoryService,
) {
  app.get('/api/v1/categories', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary: "Incident categories: the organisation's and its schools'",
      querystring: z.object({
        schoolId: id.optional(),
        /** Retired categories too (the settings page); otherwise those offered for new concerns. */
        includeRetired: z.enum(['true', 'false']).optional(),
      }),
      response: { 200: z.object({ items: z.array(categoryListItem) }) },
    },
    handler: (request) =>
      categories.list(
        authOf(request).principal,
        request.query.schoolId,
        request.query.includeRetired === 'true',
      ),
  });

  app.patch('/api/v1/categories/:id', {
    config: { access: { permission: 'categories.manage' } },
    schema: {
      tags: ['incidents'],
      summary: 'Rename a category, or retire it (its records keep it; new concerns cannot use it)',
      params: idParams,
      body: z
        .object({
          name: z.string().trim().min(1).max(100).optional(),
          retired: z.boolean().optional(),
        })
        .strict()
        .refine((b) => b.name !== undefined || b.retired !== undefined, {
          message: 'Change the name or whether it is retired',
        }),
      response: { 200: categoryListItem },
    },
    handler: (request) =>
      categories.update(
        authOf(request).principal,
        request.params.id,
        request.body,
        originOf(request),
      ),
  });

  app.post('/api/v1/categories', {
    config: { access: { permission: 'categories.manage' } },
    schema: {
      tags: ['incidents'],
      summary: 'Add a category (Admin), with its sensitivity',
      body: categoryBody,
      response: { 201: categoryListItem },
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
      response: {
        201: incidentSchema.extend({
          /** For the reporter: when it was saved, and whether it was passed on at once or in the day's digest. */
          receipt: z.object({
            savedAt: isoTime,
            delivery: z.enum(['immediate', 'digest', 'none']),
          }),
          warnings: assignmentWarnings,
        }),
      },
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
      response: { 200: z.object({ count: z.number(), stepUpNeeded }) },
    },
    handler: (request) => incidents.count(callerOf(request), request.query),
  });

  app.get('/api/v1/incidents/export', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['incidents'],
      summary:
        'CSV of the incidents the caller may see, with the list’s filters (the export is logged)',
      description:
        'The header `X-Haven-Step-Up-Needed` says how many more records match that this session may read only after a two-factor step-up: they are not in the file.',
      querystring: incidentListQuery,
      response: { 200: rawContent('text/csv', 'The incidents, children redacted as on screen') },
    },
    handler: async (request, reply) => {
      const { csv, stepUpNeeded } = await incidents.exportCsv(
        callerOf(request),
        request.query,
        originOf(request),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('x-haven-step-up-needed', String(stepUpNeeded))
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
      description:
        'Refused with 409 `assignee_blocked` for a person blocked from a child on the record (nothing changes). Answers the incident with `warnings`: `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read it even so (an exclusion, being an allegation\'s subject, no role). `POST /access/widening-preview` with `kind: "incident_assignee"` gives the same warnings before saving.',
      params: idParams,
      body: assignee,
      response: { 200: incidentSchema.extend({ warnings: assignmentWarnings }) },
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
          stepUpNeeded,
        }),
      },
    },
    handler: (request) => incidents.chronology(callerOf(request), request.params.id, request.query),
  });
}
