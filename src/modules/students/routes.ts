import { z } from 'zod';
import { importPermissions } from '../../access/imports.ts';
import type { Database } from '../../db/database.ts';
import { HavenError } from '../../lib/errors.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { noContent, rawContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { logRead } from '../audit/access-log.ts';
import { importStatus } from '../imports/problems.ts';
import { csvImportReport, importOptions, importQuery } from '../imports/schema.ts';
import { importStudents } from './import.ts';
import { createStudentBody, studentSchema, updateStudentBody } from './schema.ts';
import type { StudentService } from './service.ts';

export const studentFilterQuery = z.object({
  q: z.string().trim().max(200).optional(),
  schoolId: id.optional(),
  yearGroup: z.coerce.number().int().min(-1).max(14).optional(),
  onRoll: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  studentGroupId: id.optional(),
});

export function studentRoutes(app: HavenApp, students: StudentService, database: Database) {
  app.post('/api/v1/students', {
    config: { access: { permission: 'students.create' } },
    schema: {
      tags: ['students'],
      summary: 'Add a student (Admin at the school)',
      body: createStudentBody,
      response: { 201: studentSchema },
    },
    handler: async (request, reply) => {
      const student = await students.create(
        authOf(request).principal,
        request.body,
        originOf(request),
      );
      return reply.code(201).send(student);
    },
  });

  app.get('/api/v1/students', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['students'],
      summary: 'The students the caller can see, by family name',
      description:
        '`q` matches every word against the names, or a UPN exactly. Only students the caller can see are ever listed (spec section 3).',
      querystring: pageQuery.extend(studentFilterQuery.shape),
      response: {
        200: z.object({ items: z.array(studentSchema), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) => students.list(authOf(request).principal, request.query),
  });

  app.get('/api/v1/students/count', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['students'],
      summary: 'How many students the caller can see, with the same filters as the list',
      querystring: studentFilterQuery,
      response: { 200: z.object({ count: z.number() }) },
    },
    handler: async (request) => ({
      count: await students.count(authOf(request).principal, request.query),
    }),
  });

  app.get('/api/v1/students/export', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['students'],
      summary: 'CSV of the students the caller can see (the export is logged)',
      querystring: studentFilterQuery,
      response: {
        200: rawContent('text/csv', 'One row per student the caller can see, with a header row'),
      },
    },
    handler: async (request, reply) => {
      const csv = await students.exportCsv(
        authOf(request).principal,
        request.query,
        originOf(request),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="students.csv"')
        .send(csv);
    },
  });

  app.post('/api/v1/students/import', {
    config: { access: { permission: importPermissions.students } },
    bodyLimit: 50 * 1024 * 1024,
    schema: {
      tags: ['students'],
      summary: "Import students from CSV as the school's MIS exports it (Admin)",
      description:
        'Send `text/csv`. The headings of SIMS, Arbor and Bromcom exports are read ("Legal Forename", "Preferred Surname", "DOB", "Reg Group"...) as well as Haven\'s own (givenName, familyName, school or schoolId, upn, preferredName, dateOfBirth, yearGroup, house, senStatus, flags, tags, onRoll): docs/imports.md. Dates are UK dates (14/03/2016), year groups "9", "Y9", "Year 9" or "R". Columns not used are listed in `ignoredColumns`. A child whose UPN the organisation holds is updated (a revision, audited as an edit), not refused. `schoolId` is the school of every row without a School column (needed when the organisation has several schools). With `dryRun=true` nothing is written and every problem is listed row by row; without it, any problem means nothing is written (400, the problems in `problems`) unless `onError=skip`, which writes the good rows and lists the rest. `runId` (from `POST /api/v1/imports`) lets a page follow the progress of a large file. Every import is audited (`import.finish`: the run, its kind, status and counts).',
      querystring: importQuery.extend({ schoolId: id.optional() }),
      body: z.string(),
      response: { 200: csvImportReport, 201: csvImportReport },
    },
    handler: async (request, reply) => {
      const report = await importStudents(
        database,
        authOf(request).principal,
        request.body,
        { ...importOptions(request.query), schoolId: request.query.schoolId },
        originOf(request),
      );
      return reply.code(importStatus(report)).send(report);
    },
  });

  app.get('/api/v1/students/:id', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['students'],
      summary: 'One student (404 if the caller cannot see them)',
      params: idParams,
      response: { 200: studentSchema },
    },
    handler: async (request) => {
      const { principal } = authOf(request);
      const target = { action: 'student.read', targetType: 'student', targetId: request.params.id };
      try {
        const { student, path } = await students.read(principal, request.params.id);
        await logRead(database, originOf(request), { ...target, outcome: 'allowed', path });
        return student;
      } catch (error) {
        if (error instanceof HavenError && error.status === 404)
          await logRead(database, originOf(request), { ...target, outcome: 'not_found' });
        throw error;
      }
    },
  });

  app.patch('/api/v1/students/:id', {
    config: { access: { permission: 'students.update' } },
    schema: {
      tags: ['students'],
      summary: 'Edit a student (Admin at the school)',
      params: idParams,
      body: updateStudentBody,
      response: { 200: studentSchema },
    },
    handler: (request) =>
      students.update(
        authOf(request).principal,
        request.params.id,
        request.body,
        originOf(request),
      ),
  });

  app.delete('/api/v1/students/:id', {
    config: { access: { permission: 'students.delete' } },
    schema: {
      tags: ['students'],
      summary: 'Soft-delete a student (Admin at the school)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await students.remove(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });
}
