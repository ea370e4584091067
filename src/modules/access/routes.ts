import { z } from 'zod';
import { clearances } from '../../access/clearances.ts';
import { groupPermissions } from '../../access/permission-sets.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams, isoTime, roleName, scope } from '../../lib/schemas.ts';
import { authOf, type HavenApp } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { assignmentWarnings, updateIncidentBody } from '../incidents/schema.ts';
import { batchOperation } from '../user-groups/routes.ts';
import { heldGrantSchema } from '../users/routes.ts';
import type { AccessService } from './service.ts';
import type { WideningChange, WideningPreviewService } from './widening.ts';

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
/** A permission set held on a user group, and through which assignment (spec section 5). */
const groupPermissionSchema = z.object({
  userGroup: z.object({ id, name: z.string() }),
  set: z.object({
    id: z.string().describe('"owners", "members", "everyone", or a custom set\'s id'),
    kind: z.enum(['owners', 'members', 'everyone', 'custom']),
    name: z.string(),
  }),
  permissions: z.array(z.enum(groupPermissions)),
  via: z.discriminatedUnion('type', [
    z.object({ type: z.literal('owner') }),
    z.object({ type: z.literal('member') }),
    z.object({ type: z.literal('everyone') }),
    z.object({ type: z.literal('direct') }),
    // Null id and name: an assignee group the caller may not see.
    z.object({
      type: z.literal('user_group'),
      userGroupId: id.nullable(),
      userGroupName: z.string().nullable(),
    }),
  ]),
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
      // As the link itself asks for a link to "All students" (409 without them).
      confirm: z.boolean().optional(),
      rationale: z.string().max(2000).optional(),
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
  z
    .object({ kind: z.literal('incident_update'), incidentId: id, patch: updateIncidentBody })
    .strict(),
  z
    .object({
      kind: z.literal('role_grant'),
      subject: z.object({ type: z.enum(['user', 'user_group']), id }),
      role: roleName,
      scope,
      reason: z.string().max(500).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('block_removal'), blockId: id }).strict(),
  z.object({ kind: z.literal('direct_link'), userId: id, studentId: id }).strict(),
]);
const asOf = isoTime.optional().describe('Answer as of this time (ISO 8601); omitted: now');

export function accessRoutes(
  app: HavenApp,
  access: AccessService,
  widening: WideningPreviewService,
) {
  app.get('/api/v1/access/explain', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['access'],
      summary:
        'Why a user can or cannot see a student, or read an incident, with every path and denial',
      description:
        "Give `studentId` (with `asOf` if wanted) or `incidentId`. Anyone may explain their own access; explaining someone else's takes `reports.access_audit` (Admin). The caller must be able to see the student, or read the incident; children the caller cannot see are redacted. An incident's explanation comes from the incident policy itself (ways in: reporter, assignee, assigned group, a child seen with the clearance the category needs; denials: exclusion, being an allegation's subject, blocks, missing clearance); a two-factor step-up belongs to a session and is not part of it.",
      querystring: z
        .object({ userId: id, studentId: id.optional(), incidentId: id.optional(), asOf })
        .refine((q) => (q.studentId === undefined) !== (q.incidentId === undefined), {
          message: 'give either studentId or incidentId',
          path: ['studentId'],
        })
        .refine((q) => q.incidentId === undefined || q.asOf === undefined, {
          message: 'asOf applies to children only',
          path: ['asOf'],
        }),
      response: {
        200: z.union([
          z.object({
            allowed: z.boolean(),
            asOf: z.string().nullable(),
            user: z.object({ id, name: z.string() }),
            student: z.object({ id, name: z.string() }),
            paths: z.array(pathSchema),
            denials: z.array(denialSchema),
          }),
          z.object({
            allowed: z.boolean(),
            asOf: z.null(),
            user: z.object({ id, name: z.string() }),
            incident: z.object({
              id,
              sensitivity: z.enum(['standard', 'child_protection', 'allegation']),
            }),
            paths: z.array(
              z.object({
                kind: z.enum(['reporter', 'assignee', 'assigned_group', 'student']),
                summary: z.string(),
                userGroup: z.object({ id, name: z.string() }).nullable(),
                student: z.object({ id, name: z.string() }).nullable(),
                via: z.array(pathSchema),
              }),
            ),
            denials: z.array(
              z.object({
                kind: z.enum([
                  'user_inactive',
                  'no_role',
                  'excluded',
                  'allegation_subject',
                  'blocked',
                  'no_clearance',
                ]),
                summary: z.string(),
              }),
            ),
          }),
        ]),
      },
    },
    handler: (request) => {
      const { userId, studentId, incidentId, asOf: at } = request.query;
      if (incidentId !== undefined)
        return access.explainIncident(callerOf(request), { userId, incidentId });
      return access.explain(authOf(request).principal, { userId, studentId: studentId!, asOf: at });
    },
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
        'Roles per scope, clearances, access paths with counts and blocks, and permission sets on user groups, each with its source',
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
              // Null: a group the caller may not see (homed where they administer nothing).
              source: z.object({
                type: z.literal('user_group'),
                userGroupId: id.nullable(),
                userGroupName: z.string().nullable(),
              }),
              since: z.string(),
            }),
          ),
          memberships: z.array(
            z.object({
              userGroupId: id.nullable(),
              name: z.string().nullable(),
              since: z.string(),
            }),
          ),
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
          // Sets on groups the caller may not see are left out.
          groupPermissions: z.array(groupPermissionSchema),
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
        'Runs the change itself (an assignment, an edit of a concern such as lowering its sensitivity, removing a child or moving it, a link, new members, a whole user-group batch, a role grant, lifting a block, a direct link) inside a transaction that is always rolled back, and counts with the record policy who would newly read child-protection or allegation records. Nothing is changed. Counts only records the caller can read; a change the caller may not make answers the error the change itself would.',
      body: wideningChange,
      response: {
        200: z.object({
          sensitiveRecords: z.number(),
          newViewers: z.number(),
          partial: z.boolean(),
          examples: z.array(z.object({ id, name: z.string() })),
          /** For `incident_assignee`: who would still not read it, as the save answers. */
          warnings: assignmentWarnings,
        }),
      },
    },
    handler: (request) => widening.preview(callerOf(request), request.body as WideningChange),
  });
}
