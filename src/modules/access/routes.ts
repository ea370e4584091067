import { z } from 'zod';
import { clearances } from '../../access/clearances.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams, isoTime } from '../../lib/schemas.ts';
import { authOf, type HavenApp } from '../../server/http.ts';
import { batchOperation } from '../user-groups/routes.ts';
import { heldGrantSchema } from '../users/routes.ts';
import type { AccessService, WideningChange } from './service.ts';

const pathKind = z.enum(['group_to_student_group', 'group_to_student', 'user_to_student']);
const studentGroupRef = z
  .object({ id, name: z.string(), kind: z.string(), rule: z.unknown() })
  .nullable();
const pathSchema = z.object({
  kind: pathKind,
  summary: z.string(),
  linkId: id,
  userGroup: z.object({ id, name: z.string() }).nullable(),
  studentGroup: studentGroupRef,
  since: z.object({
    membership: z.string().nullable(),
    link: z.string(),
    inStudentGroup: z.string().nullable(),
  }),
});
const denialSchema = z.object({
  kind: z.enum(['block', 'no_role', 'user_inactive', 'student_inactive']),
  summary: z.string(),
  block: z
    .object({
      id,
      reason: z.string(),
      by: z.object({ id, name: z.string() }).nullable(),
      since: z.string(),
    })
    .optional(),
});
const wideningChange = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('incident_assignee'),
      incidentId: id,
      assignee: z.object({ type: z.enum(['user', 'user_group']), id }),
    })
    .strict(),
  z
    .object({
      kind: z.literal('student_link'),
      userGroupId: id,
      studentGroupId: id.optional(),
      studentId: id.optional(),
    })
    .strict()
    .refine((c) => (c.studentId === undefined) !== (c.studentGroupId === undefined), {
      message: 'name either a student or a student group',
      path: ['studentId'],
    }),
  z
    .object({
      kind: z.literal('group_members'),
      userGroupId: id,
      userIds: z.array(id).min(1).max(1000),
    })
    .strict(),
  z
    .object({
      kind: z.literal('user_group_batch'),
      userGroupId: id,
      operations: z.array(batchOperation).min(1).max(100),
    })
    .strict(),
]);
const asOf = isoTime.optional().describe('Answer as of this time (ISO 8601); omitted: now');

export function accessRoutes(app: HavenApp, access: AccessService) {
  app.get('/api/v1/access/explain', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['access'],
      summary: 'Why a user can or cannot see a student, with every path and denial',
      description:
        "Anyone may explain their own access; explaining someone else's takes `reports.access_audit` (Admin). The caller must be able to see the student.",
      querystring: z.object({ userId: id, studentId: id, asOf }),
      response: {
        200: z.object({
          allowed: z.boolean(),
          asOf: z.string().nullable(),
          user: z.object({ id, name: z.string() }),
          student: z.object({ id, name: z.string() }),
          paths: z.array(pathSchema),
          denials: z.array(denialSchema),
        }),
      },
    },
    handler: (request) => access.explain(authOf(request).principal, request.query),
  });

  app.get('/api/v1/students/:id/access', {
    config: { access: { permission: 'reports.access_audit' } },
    schema: {
      tags: ['access'],
      summary: 'Who can see this child, each with their paths, by name (Admin)',
      params: idParams,
      querystring: pageQuery.extend({ asOf }),
      response: {
        200: z.object({
          asOf: z.string().nullable(),
          items: z.array(
            z.object({
              user: z.object({ id, name: z.string(), email: z.string() }),
              paths: z.array(pathSchema),
            }),
          ),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) =>
      access.whoCanSee(authOf(request).principal, request.params.id, request.query),
  });

  app.get('/api/v1/users/:id/effective-permissions', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['access'],
      summary:
        'Roles per scope, clearances, access paths with counts and blocks, each with its source',
      description:
        "Anyone may read their own; reading someone else's takes `reports.access_audit` (Admin).",
      params: idParams,
      querystring: z.object({ asOf }),
      response: {
        200: z.object({
          asOf: z.string().nullable(),
          user: z.object({ id, name: z.string(), email: z.string(), status: z.string() }),
          roles: z.array(heldGrantSchema),
          clearances: z.array(
            z.object({
              clearance: z.enum(clearances),
              source: z.object({
                type: z.literal('user_group'),
                userGroupId: id,
                userGroupName: z.string(),
              }),
              since: z.string(),
            }),
          ),
          memberships: z.array(z.object({ userGroupId: id, name: z.string(), since: z.string() })),
          paths: z.array(
            z.object({
              kind: pathKind,
              linkId: id,
              userGroup: z.object({ id, name: z.string() }).nullable(),
              studentGroup: studentGroupRef,
              studentId: id.nullable(),
              student: z.object({ id, name: z.string() }).nullable(),
              redacted: z.boolean(),
              students: z.number(),
              since: z.string(),
            }),
          ),
          blocks: z.array(
            z.object({
              id,
              student: z.object({ id, name: z.string() }),
              reason: z.string(),
              since: z.string(),
              by: id.nullable(),
            }),
          ),
          hiddenBlocks: z.number(),
          visibleStudents: z.number(),
        }),
      },
    },
    handler: (request) =>
      access.effective(authOf(request).principal, request.params.id, request.query.asOf),
  });

  app.post('/api/v1/access/widening-preview', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['access'],
      summary:
        'How many more people would see child-protection or allegation records after a change',
      description:
        "Asks before assigning an incident, linking a user group to children, adding members, or saving a whole user-group batch (`user_group_batch`: the operations of `POST /user-groups/:id/batch`, tried together, so a link and a clearance added at once are counted together). Nothing is changed. Counts only records the caller can see; the caller needs the permission the change itself takes (`incidents.assign` at the incident's school; `user_groups.manage`, or owning the group for new members).",
      body: wideningChange,
      response: {
        200: z.object({
          sensitiveRecords: z.number(),
          newViewers: z.number(),
          partial: z.boolean(),
          examples: z.array(z.object({ id, name: z.string() })),
        }),
      },
    },
    handler: (request) =>
      access.wideningPreview(authOf(request).principal, request.body as WideningChange),
  });
}
