import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams, name, scope } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { studentSchema } from '../students/schema.ts';
import type { StudentGroupService } from './service.ts';

const kind = z.enum(['all', 'manual', 'rule']);
const ruleDoc =
  'A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has.';
const rule = z.unknown().describe(ruleDoc);

const studentGroupSchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  schoolId: id.nullable(),
  kind,
  // A rule is always an object (a condition or a combination); its grammar is in `ruleDoc`.
  rule: z.record(z.string(), z.unknown()).nullable().describe(ruleDoc),
  memberCount: z.number(),
  system: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function studentGroupRoutes(app: HavenApp, groups: StudentGroupService) {
  app.post('/api/v1/student-groups', {
    config: { access: { permission: 'student_groups.manage' } },
    schema: {
      tags: ['student groups'],
      summary: 'Create a student group (Admin)',
      description:
        '`all`: every student on roll in the school, or in the organisation when `schoolId` is null. `manual`: the `studentIds` given. `rule`: the students the rule matches, kept up to date as students change.',
      body: z
        .object({
          name,
          description: z.string().max(2000).optional(),
          schoolId: id.nullable(),
          kind,
          rule: rule.optional(),
          studentIds: z.array(id).max(10_000).optional(),
        })
        .strict(),
      response: { 201: studentGroupSchema },
    },
    handler: async (request, reply) => {
      const group = await groups.create(authOf(request).principal, request.body, originOf(request));
      return reply.code(201).send(group);
    },
  });

  app.get('/api/v1/student-groups', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['student groups'],
      summary: "The organisation's student groups",
      description: '`memberCount` counts only the members the caller can see.',
      querystring: z.object({ schoolId: id.optional(), kind: kind.optional() }),
      response: { 200: z.object({ items: z.array(studentGroupSchema), nextCursor: z.null() }) },
    },
    handler: async (request) => ({
      items: await groups.list(authOf(request).principal, request.query),
      nextCursor: null,
    }),
  });

  app.post('/api/v1/student-groups/preview', {
    config: { access: { permission: 'student_groups.manage' } },
    schema: {
      tags: ['student groups'],
      summary: 'Who a rule would match: how many of them the caller can see, and the first few',
      body: z.object({ schoolId: id.nullable(), rule }).strict(),
      response: { 200: z.object({ count: z.number(), sample: z.array(studentSchema) }) },
    },
    handler: (request) => groups.preview(authOf(request).principal, request.body),
  });

  app.get('/api/v1/student-groups/:id', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['student groups'],
      summary: 'One student group',
      params: idParams,
      response: { 200: studentGroupSchema },
    },
    handler: (request) => groups.get(authOf(request).principal, request.params.id),
  });

  app.get('/api/v1/student-groups/:id/linked-user-groups', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['student groups'],
      summary: 'The user groups linked to this student group, whose members see its children',
      description:
        "Only the groups the caller may see (the user-group policy), with their home, member count, since when and the link's rationale. `otherGroups`: for an Admin over the student group, how many more are linked from homes they do not administer; null for others.",
      params: idParams,
      response: {
        200: z.object({
          items: z.array(
            z.object({
              id,
              name: z.string(),
              homeScope: scope.extend({ name: z.string() }),
              memberCount: z.number(),
              linkId: id,
              since: z.string(),
              rationale: z.string().nullable(),
            }),
          ),
          otherGroups: z.number().nullable(),
        }),
      },
    },
    handler: (request) => groups.linkedUserGroups(authOf(request).principal, request.params.id),
  });

  app.patch('/api/v1/student-groups/:id', {
    config: { access: { permission: 'student_groups.manage' } },
    schema: {
      tags: ['student groups'],
      summary: 'Rename a student group or change its rule (members follow at once)',
      params: idParams,
      body: z
        .object({
          name: name.optional(),
          description: z.string().max(2000).optional(),
          rule: rule.optional(),
        })
        .strict(),
      response: { 200: studentGroupSchema },
    },
    handler: (request) =>
      groups.update(authOf(request).principal, request.params.id, request.body, originOf(request)),
  });

  app.delete('/api/v1/student-groups/:id', {
    config: { access: { permission: 'student_groups.manage' } },
    schema: {
      tags: ['student groups'],
      summary: 'Delete a student group; links to it end',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await groups.remove(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });

  app.get('/api/v1/student-groups/:id/students', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['student groups'],
      summary: "The group's members that the caller can see",
      params: idParams,
      querystring: pageQuery,
      response: {
        200: z.object({ items: z.array(studentSchema), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) =>
      groups.members(authOf(request).principal, request.params.id, request.query),
  });

  app.post('/api/v1/student-groups/:id/students', {
    config: { access: { permission: 'students.assign_groups' } },
    schema: {
      tags: ['student groups'],
      summary: 'Put students in a manual group (Admin)',
      params: idParams,
      body: z.object({ studentIds: z.array(id).min(1).max(10_000) }).strict(),
      response: { 200: z.object({ added: z.number(), removed: z.number() }) },
    },
    handler: (request) =>
      groups.changeManualMembers(
        authOf(request).principal,
        request.params.id,
        { add: request.body.studentIds },
        originOf(request),
      ),
  });

  app.delete('/api/v1/student-groups/:id/students/:studentId', {
    config: { access: { permission: 'students.assign_groups' } },
    schema: {
      tags: ['student groups'],
      summary: 'Take a student out of a manual group (Admin)',
      params: z.object({ id, studentId: id }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await groups.changeManualMembers(
        authOf(request).principal,
        request.params.id,
        { remove: [request.params.studentId] },
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}
