import { z } from 'zod';
import { importPermissions } from '../../access/imports.ts';
import { scopeTypes } from '../../access/scopes.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { email, id, idParams, name, roleName, scope } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { TwoFactorService } from '../auth/two-factor.ts';
import { importStatus } from '../imports/problems.ts';
import { csvImportReport, importOptions, importQuery } from '../imports/schema.ts';
import type { UserService } from './service.ts';

export const userSchema = z.object({
  id,
  email: z.string(),
  name: z.string(),
  /** `invited`: has never set a password nor signed in; `disabled` while disabled; else `active`. */
  status: z.enum(['invited', 'active', 'disabled']),
  createdAt: z.string(),
  updatedAt: z.string(),
  disabledAt: z.string().nullable(),
  /** When their latest session began (null: never signed in). */
  lastSignInAt: z.string().nullable(),
});

/** A user's outstanding invitation: queued at `sentAt`, its link dead after `expiresAt`. */
export const invitationSchema = z.object({ sentAt: z.string(), expiresAt: z.string() });

/** A user as the users list and Admins see them, with their outstanding invitation (or null). */
export const staffSchema = userSchema.extend({ invitation: invitationSchema.nullable() });

export const heldGrantSchema = z.object({
  /** Null with a group the caller may not see: the grant's id would show who else is in it. */
  grantId: id.nullable(),
  role: roleName,
  scope: scope.extend({ name: z.string() }),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('direct') }),
    // Null id and name: a group the caller may not see (homed where they administer nothing).
    z.object({
      type: z.literal('user_group'),
      userGroupId: id.nullable(),
      userGroupName: z.string().nullable(),
    }),
  ]),
  since: z.string(),
});

const staffImportReport = csvImportReport.extend({
  invited: z.number(),
  /** The new people's ids (none on a dry run). */
  createdIds: z.array(z.string()),
});

export function userRoutes(app: HavenApp, users: UserService) {
  app.post('/api/v1/users', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'Add a user (Admin); new users hold only Member until given a role',
      description:
        'Give a `password`, or `invite: true` to email the person a link to choose their own (valid 7 days, once; `invitation` in the answer), or neither (they cannot sign in until invited or given single sign-on). Without email set up (`HAVEN_SMTP_URL`), `invite` answers 409 `email_off` and adds nobody.',
      body: z
        .object({
          email,
          name,
          password: z.string().max(256).optional(),
          invite: z.boolean().optional(),
        })
        .strict(),
      response: { 201: staffSchema },
    },
    handler: async (request, reply) => {
      const user = await users.create(authOf(request).principal, request.body, originOf(request));
      return reply.code(201).send(user);
    },
  });

  app.post('/api/v1/users/import', {
    config: { access: { permission: importPermissions.staff } },
    bodyLimit: 20 * 1024 * 1024,
    schema: {
      tags: ['users'],
      summary: 'Import staff from CSV as the MIS exports it (Admin); new people hold only Member',
      description:
        'Send `text/csv` with an email column ("Work Email", "Email"...) and a name ("Name", or "Forename" and "Surname", preferred names first): docs/imports.md. A person whose email the organisation holds keeps their account and has their name updated (an edit, audited); the others are added holding only Member. Columns not used ("Title", "Staff Code"...) are listed in `ignoredColumns`. `dryRun`, `onError` and `runId` work as for the students import; `invite=true` emails each new person an invitation (409 `email_off` without email set up). Every import is audited (`import.finish`: the run, its kind, status and counts).',
      querystring: importQuery.extend({
        invite: z
          .enum(['true', 'false'])
          .transform((v) => v === 'true')
          .optional(),
      }),
      body: z.string(),
      response: { 200: staffImportReport, 201: staffImportReport },
    },
    handler: async (request, reply) => {
      const report = await users.importStaff(
        authOf(request).principal,
        request.body,
        { ...importOptions(request.query), invite: request.query.invite },
        originOf(request),
      );
      return reply.code(importStatus(report)).send(report);
    },
  });

  app.get('/api/v1/users', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'List users (Admin), each with the roles they hold and where each comes from',
      description:
        '`q` searches names and emails; `inGroup=none` lists users in no user group (orphaned); `inGroup=<id>` the members of one group. `status`: `invited` (never signed in nor set a password), `active`, `disabled`, `enabled` (invited or active) or `all` (the default). `role` lists those holding exactly that role now (directly or through a group; a Deputy DSL is not listed under `dsl`); `scopeType` with `scopeId` those holding it (or, without `role`, any role) at a scope covering that one: the organisation, a school group holding the school, or the scope itself.',
      querystring: pageQuery
        .extend({
          q: z.string().trim().max(200).optional(),
          inGroup: z.string().min(1).max(64).optional(),
          status: z.enum(['invited', 'active', 'disabled', 'enabled', 'all']).optional(),
          role: roleName.optional(),
          scopeType: z.enum(scopeTypes).optional(),
          scopeId: id.optional(),
        })
        .refine((q) => (q.scopeType === undefined) === (q.scopeId === undefined), {
          message: 'give scopeType and scopeId together',
          path: ['scopeId'],
        }),
      response: {
        200: z.object({
          items: z.array(staffSchema.extend({ roles: z.array(heldGrantSchema) })),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) => {
      const { scopeType, scopeId, ...query } = request.query;
      return users.list(authOf(request).principal, {
        ...query,
        scope: scopeType && scopeId ? { type: scopeType, id: scopeId } : undefined,
      });
    },
  });

  app.get('/api/v1/users/:id', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'One user, with the roles they hold and where each comes from (Admin)',
      params: idParams,
      response: { 200: staffSchema.extend({ roles: z.array(heldGrantSchema) }) },
    },
    handler: (request) => users.get(authOf(request).principal, request.params.id),
  });

  app.patch('/api/v1/users/:id', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'Rename, disable or re-enable a user (Admin); disabling ends their sessions',
      params: idParams,
      body: z.object({ name: name.optional(), disabled: z.boolean().optional() }).strict(),
      response: { 200: userSchema },
    },
    handler: (request) =>
      users.update(authOf(request).principal, request.params.id, request.body, originOf(request)),
  });

  app.delete('/api/v1/users/:id', {
    config: { access: { permission: 'organisation.members.remove' } },
    schema: {
      tags: ['users'],
      summary: 'Remove a user from the organisation (Owner)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await users.remove(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/me/password', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['me'],
      summary: 'Change my password; my other sessions end',
      body: z
        .object({ currentPassword: z.string().max(256), newPassword: z.string().max(256) })
        .strict(),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const auth = authOf(request);
      await users.changeOwnPassword(
        auth.principal,
        auth.session.sessionId,
        request.body,
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}

/** Another person's two-factor sign-in: who may reset it is `src/access/accounts.ts`. */
export function userTwoFactorRoutes(app: HavenApp, twoFactor: TwoFactorService) {
  app.get('/api/v1/users/:id/totp', {
    config: { access: { permission: 'users.mfa.reset' } },
    schema: {
      tags: ['users'],
      summary: 'Whether a user has two-factor sign-in on, and whether I may reset it (DSL)',
      params: idParams,
      response: {
        200: z.object({
          status: z.enum(['off', 'pending', 'active']),
          abilities: z.object({ reset: z.boolean() }),
        }),
      },
    },
    handler: (request) => twoFactor.standingOf(authOf(request).principal, request.params.id),
  });

  app.delete('/api/v1/users/:id/totp', {
    config: { access: { permission: 'users.mfa.reset' } },
    schema: {
      tags: ['users'],
      summary: 'Reset another person’s two-factor sign-in (Owner; DSL for staff of their schools)',
      description:
        'For a lost or stolen phone: deletes their enrolment and recovery codes and ends every session of theirs; audited, and raised as a security alert to the Owners and DSLs over where they hold roles. They sign in with their password alone, and set two-factor up again where their school asks. An Owner resets anyone’s; a DSL that of people holding roles only at scopes where the DSL holds DSL or Owner, and none above their own (403 `forbidden`). Never one’s own (403 `totp_reset_own`: use `DELETE /api/v1/me/totp` with a code). 409 `totp_not_enabled` when it is not on.',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await twoFactor.resetFor(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });
}
