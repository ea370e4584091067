import { z } from 'zod';
import { clearances } from '../../access/clearances.ts';
import { assigneesPerSet, groupPermissions, setsPerGroup } from '../../access/permission-sets.ts';
import { notFound } from '../../lib/errors.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams, name, roleName, scope } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { limits } from './editor.ts';
import type { UserGroupService } from './service.ts';

const userIds = z.array(id).min(1).max(limits.idsPerCall);
const text = (max: number) => z.string().max(max);
/** Linking to an "All students" group asks `confirm: true` and a `rationale` (409 otherwise). */
const linkConfirmation = {
  confirm: z.boolean().optional(),
  rationale: z.string().max(2000).optional(),
};
const linkTarget = z.union([
  z.object({ studentGroupId: id, ...linkConfirmation }).strict(),
  z.object({ studentId: id, ...linkConfirmation }).strict(),
]);
const clearanceList = z.array(z.enum(clearances)).max(clearances.length);

const groupSchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  rationale: z.string(),
  memberCount: z.number(),
  system: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  homeScope: scope.extend({ name: z.string() }),
  owners: z.array(z.object({ id, name: z.string(), email: z.string() })),
  clearances: z.array(z.enum(clearances)),
  roleGrants: z.array(z.object({ id, role: roleName, scope, reason: z.string().nullable() })),
  /** When the group was last reviewed (the close of the review that decided it), and that review. */
  lastReviewedAt: z.string().nullable(),
  lastReviewId: z.string().nullable(),
  studentLinks: z.array(
    z.object({
      id,
      since: z.string(),
      studentGroup: z
        .object({ id, name: z.string(), kind: z.string(), size: z.number() })
        .nullable(),
      student: z.object({ id, name: z.string() }).nullable(),
      redacted: z.boolean(),
    }),
  ),
  abilities: z.object({
    view: z.boolean(),
    viewMembers: z.boolean(),
    /** The same as `editDetails`. */
    edit: z.boolean(),
    editDetails: z.boolean(),
    delete: z.boolean(),
    manageMembers: z.boolean(),
    manageOwners: z.boolean(),
    managePermissionSets: z.boolean(),
    manageLinks: z.boolean(),
    manageClearances: z.boolean(),
    manageRoles: z.boolean(),
  }),
});

/** Group permissions, as a set holds them (any of them implies `view`). */
const permissionList = z.array(z.enum(groupPermissions)).max(groupPermissions.length);
const setName = z.string().trim().min(1).max(100);
/** A whole new list of assignees; past 1,000 the answer is 422 `limit_exceeded`. */
const assigneeList = z
  .array(z.object({ type: z.enum(['user', 'user_group']), id }).strict())
  .max(limits.idsPerCall);
const newPermissionSet = { name: setName, permissions: permissionList, assignees: assigneeList };
const permissionSetPatch = {
  name: setName.optional(),
  permissions: permissionList.optional(),
  assignees: assigneeList.optional(),
};

const permissionSetSchema = z.object({
  id,
  kind: z.enum(['owners', 'members', 'everyone', 'custom']),
  name: z.string(),
  permissions: z.array(z.enum(groupPermissions)),
  fixed: z.boolean(),
  assignees: z.array(
    z.union([
      z.object({ type: z.literal('user'), id, name: z.string(), email: z.string() }),
      z.object({ type: z.literal('user_group'), id, name: z.string(), memberCount: z.number() }),
      // A group the reader may not see.
      z.object({
        type: z.literal('user_group'),
        id: z.null(),
        name: z.null(),
        memberCount: z.null(),
        withheld: z.literal(true),
      }),
    ]),
  ),
});
const setParams = z.object({ id, setId: id });

export const batchOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('addMembers'), userIds }).strict(),
  z.object({ op: z.literal('removeMembers'), userIds }).strict(),
  z
    .object({ op: z.literal('addOwners'), userIds: z.array(id).min(1).max(limits.ownersPerGroup) })
    .strict(),
  z
    .object({
      op: z.literal('removeOwners'),
      userIds: z.array(id).min(1).max(limits.ownersPerGroup),
    })
    .strict(),
  z
    .object({
      op: z.literal('addStudentLink'),
      studentGroupId: id.optional(),
      studentId: id.optional(),
      ...linkConfirmation,
    })
    .strict(),
  z.object({ op: z.literal('removeStudentLink'), linkId: id }).strict(),
  z.object({ op: z.literal('setClearances'), clearances: clearanceList }).strict(),
  z.object({ op: z.literal('createPermissionSet'), ...newPermissionSet }).strict(),
  z.object({ op: z.literal('updatePermissionSet'), setId: id, ...permissionSetPatch }).strict(),
  z.object({ op: z.literal('deletePermissionSet'), setId: id }).strict(),
  z
    .object({
      op: z.literal('update'),
      name: name.optional(),
      description: text(2000).optional(),
      rationale: text(4000).optional(),
    })
    .strict(),
]);

const groupParams = z.object({ id });

export function userGroupRoutes(app: HavenApp, groups: UserGroupService) {
  app.post('/api/v1/user-groups', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['user groups'],
      summary: 'Create a user group (Admin at its home scope)',
      description:
        'The group is administered from `homeScope` (organisation, school group or school), where the caller must be Admin or higher. Omitted: the organisation for an Admin there, otherwise the one broadest scope the caller administers; when there is no single one, 400 naming `homeScope`.',
      body: z
        .object({
          name,
          description: text(2000).optional(),
          rationale: text(4000).optional(),
          homeScope: scope.optional(),
        })
        .strict(),
      response: { 201: groupSchema },
    },
    handler: async (request, reply) => {
      const group = await groups.create(authOf(request).principal, request.body, originOf(request));
      return reply.code(201).send(group);
    },
  });

  app.get('/api/v1/user-groups', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary:
        'User groups the caller may see: those homed where they are Admin, and those they own or belong to',
      querystring: pageQuery.extend({ q: z.string().trim().max(200).optional() }),
      response: {
        200: z.object({
          items: z.array(
            z.object({
              id,
              name: z.string(),
              description: z.string(),
              memberCount: z.number(),
              system: z.boolean(),
              homeScope: scope,
              lastReviewedAt: z.string().nullable(),
              lastReviewId: z.string().nullable(),
            }),
          ),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) => groups.list(authOf(request).principal, request.query),
  });

  app.get('/api/v1/user-groups/homes', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['user groups'],
      summary:
        'Where the caller may home a new group (scopes where they are Admin), and the default',
      response: {
        200: z.object({
          items: z.array(scope.extend({ name: z.string() })),
          default: scope.nullable(),
        }),
      },
    },
    handler: (request) => groups.homes(authOf(request).principal),
  });

  app.get('/api/v1/user-groups/:id', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'A user group with its owners, grants, links, clearances and what the caller may do',
      params: idParams,
      response: { 200: groupSchema },
    },
    handler: (request) => groups.get(authOf(request).principal, request.params.id),
  });

  app.patch('/api/v1/user-groups/:id', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'Rename a group or change its description and rationale (Admin or owner)',
      params: idParams,
      body: z
        .object({
          name: name.optional(),
          description: text(2000).optional(),
          rationale: text(4000).optional(),
        })
        .strict(),
      response: { 200: groupSchema },
    },
    handler: async (request) => {
      const { principal } = authOf(request);
      await groups.edit(principal, request.params.id, originOf(request), (e) =>
        e.update(request.body),
      );
      return groups.get(principal, request.params.id);
    },
  });

  app.delete('/api/v1/user-groups/:id', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'Delete a group: everything it conferred ends (Admin or owner)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.delete(),
      );
      return reply.code(204).send();
    },
  });

  app.get('/api/v1/user-groups/:id/members', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: "A group's members by name, searchable",
      params: idParams,
      querystring: pageQuery.extend({ q: z.string().trim().max(200).optional() }),
      response: {
        200: z.object({
          items: z.array(z.object({ id, name: z.string(), email: z.string(), status: z.string() })),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) =>
      groups.members(authOf(request).principal, request.params.id, request.query),
  });

  app.get('/api/v1/user-groups/:id/candidates', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'Staff who could be added to the group or named in its permission sets (names only)',
      description:
        "For those who may manage the group's members, owners or permission sets, whatever their role (a set holder need not be able to list users): live users of the organisation by name, at most 20, `q` narrowing by name or email. 403 for anyone else who sees the group, 404 for those who do not.",
      params: idParams,
      querystring: z.object({ q: z.string().trim().max(200).optional() }),
      response: {
        200: z.object({
          items: z.array(z.object({ id, name: z.string(), email: z.string() })),
        }),
      },
    },
    handler: (request) =>
      groups.candidates(authOf(request).principal, request.params.id, request.query),
  });

  app.post('/api/v1/user-groups/:id/members', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: `Add up to ${limits.idsPerCall} members (Admin or owner; no one passes on a role or clearance they could not grant)`,
      params: groupParams,
      body: z.object({ userIds }).strict(),
      response: { 200: z.object({ added: z.number(), alreadyMembers: z.number() }) },
    },
    handler: (request) =>
      groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.addMembers(request.body.userIds),
      ),
  });

  app.delete('/api/v1/user-groups/:id/members/:userId', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'Remove a member: their access through the group ends on their next request',
      params: z.object({ id, userId: id }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const result = await groups.edit(
        authOf(request).principal,
        request.params.id,
        originOf(request),
        (e) => e.removeMembers([request.params.userId]),
      );
      if (result.removed === 0) throw notFound('Membership');
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/user-groups/:id/owners', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: `Add owners (at most ${limits.ownersPerGroup})`,
      params: groupParams,
      body: z.object({ userIds: z.array(id).min(1).max(limits.ownersPerGroup) }).strict(),
      response: { 200: z.object({ added: z.number() }) },
    },
    handler: (request) =>
      groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.addOwners(request.body.userIds),
      ),
  });

  app.delete('/api/v1/user-groups/:id/owners/:userId', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'Remove an owner',
      params: z.object({ id, userId: id }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.removeOwners([request.params.userId]),
      );
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/user-groups/:id/student-links', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['user groups'],
      summary: 'Link the group to a student group or a student (Admin where the students are)',
      description:
        'A link to an "All students" group needs `confirm: true` and a non-empty `rationale`, kept with the link and in the audit log; without them 409 `all_students_confirmation_required` and nothing is linked.',
      params: groupParams,
      body: linkTarget,
      response: { 201: z.object({ id }) },
    },
    handler: async (request, reply) => {
      const linkId = await groups.edit(
        authOf(request).principal,
        request.params.id,
        originOf(request),
        (e) => e.addStudentLink(request.body),
      );
      return reply.code(201).send({ id: linkId });
    },
  });

  app.delete('/api/v1/user-groups/:id/student-links/:linkId', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'End a link',
      params: z.object({ id, linkId: id }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.removeStudentLink(request.params.linkId),
      );
      return reply.code(204).send();
    },
  });

  app.put('/api/v1/user-groups/:id/clearances', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['user groups'],
      summary:
        "Set the group's clearances (only a holder of a clearance, or an Owner, confers or removes it)",
      params: groupParams,
      body: z.object({ clearances: clearanceList }).strict(),
      response: { 200: z.object({ clearances: clearanceList }) },
    },
    handler: async (request) => ({
      clearances: await groups.edit(
        authOf(request).principal,
        request.params.id,
        originOf(request),
        (e) => e.setClearances(request.body.clearances),
      ),
    }),
  });

  app.get('/api/v1/user-groups/:id/permission-sets', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary:
        "The group's permission sets: Owners, Members, Everyone, then custom sets by name, with their assignees",
      description:
        'Members and Everyone list no assignees (they are implicit). A user group assignee the caller may not see is answered withheld (no id, name or count). `abilities.manage`: whether the caller may change the sets.',
      params: idParams,
      response: {
        200: z.object({
          items: z.array(permissionSetSchema),
          abilities: z.object({ manage: z.boolean() }),
        }),
      },
    },
    handler: (request) => groups.permissionSets(authOf(request).principal, request.params.id),
  });

  app.post('/api/v1/user-groups/:id/permission-sets', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: `Add a custom permission set (Admin or owner; at most ${setsPerGroup} sets per group, Owners, Members and Everyone included)`,
      description: `Assignees are users, or user groups whose members hold the set while they are members (at most ${assigneesPerSet}). On a group that holds a role or a clearance, a set with \`manage_members\` or \`delete\` needs the writer to be able to pass them on (403), and each user assignee too (409 \`permission_set_escalation\`).`,
      params: groupParams,
      body: z.object(newPermissionSet).strict(),
      response: { 201: permissionSetSchema },
    },
    handler: async (request, reply) => {
      const set = await groups.edit(
        authOf(request).principal,
        request.params.id,
        originOf(request),
        (e) => e.createPermissionSet(request.body),
      );
      return reply.code(201).send(set);
    },
  });

  app.patch('/api/v1/user-groups/:id/permission-sets/:setId', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: "Change a permission set: a custom set's name, permissions or whole assignee list",
      description:
        'Owners is fixed (409 `permission_set_fixed`); of Members and Everyone only `permissions` may change (422 for `name` or `assignees`). Assigned groups the caller may not see are kept.',
      params: setParams,
      body: z.object(permissionSetPatch).strict(),
      response: { 200: permissionSetSchema },
    },
    handler: (request) =>
      groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.updatePermissionSet(request.params.setId, request.body),
      ),
  });

  app.delete('/api/v1/user-groups/:id/permission-sets/:setId', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary:
        'Delete a custom permission set: its assignees lose it on their next request (Owners, Members and Everyone stay: 409)',
      params: setParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await groups.edit(authOf(request).principal, request.params.id, originOf(request), (e) =>
        e.deletePermissionSet(request.params.setId),
      );
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/user-groups/:id/batch', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['user groups'],
      summary: 'Apply a list of edits atomically: all of them, or none',
      description:
        'If any operation fails, the answer is the error of the first failing one (with `operationIndex`), and no operation is applied. With `accessReviewId` and `accessReviewItemId` the edits are made through that item of an open access review, by one who may decide it; every audit row of the change carries both ids.',
      params: groupParams,
      body: z
        .object({
          operations: z.array(batchOperation).min(1).max(100),
          // Made through an access review's item: checked, and written on every audit row.
          accessReviewId: id.optional(),
          accessReviewItemId: id.optional(),
        })
        .strict()
        .refine((b) => (b.accessReviewId === undefined) === (b.accessReviewItemId === undefined), {
          message: 'give accessReviewId and accessReviewItemId together',
          path: ['accessReviewItemId'],
        }),
      response: { 200: z.object({ applied: z.number(), results: z.array(z.unknown()) }) },
    },
    handler: (request) => {
      const { operations, accessReviewId, accessReviewItemId } = request.body;
      return groups.batch(
        authOf(request).principal,
        request.params.id,
        operations,
        originOf(request),
        accessReviewId && accessReviewItemId ? { accessReviewId, accessReviewItemId } : undefined,
      );
    },
  });
}
