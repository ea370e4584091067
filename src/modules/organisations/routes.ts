import { z } from 'zod';
import { email, id, idParams, name } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { OrganisationService } from './service.ts';
import {
  organisationSettingsSchema,
  retirementAge,
  schoolSettingsPatch,
  schoolSettingsSchema,
} from './settings.ts';

const organisation = z.object({
  id,
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  settings: organisationSettingsSchema,
});
const school = z.object({
  id,
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  settings: schoolSettingsSchema,
});
const schoolGroup = z.object({
  id,
  name: z.string(),
  schoolIds: z.array(id),
  createdAt: z.string(),
});

const setupBody = z.object({
  organisationName: name,
  schoolName: name,
  owner: z.object({ email, name, password: z.string().max(256) }),
});

export function organisationRoutes(app: HavenApp, organisations: OrganisationService) {
  app.get('/api/v1/setup', {
    config: { access: { public: true } },
    schema: {
      tags: ['setup'],
      summary: 'Whether first-run setup is still open',
      description: 'The web app shows its setup page while `needed` is true.',
      response: { 200: z.object({ needed: z.boolean() }) },
    },
    handler: async () => ({ needed: await organisations.setupNeeded() }),
  });

  app.post('/api/v1/setup', {
    config: { access: { public: true } },
    schema: {
      tags: ['setup'],
      summary: 'Create the first organisation, its first school and its first Owner',
      description: 'Refused with 409 once any organisation exists on this installation.',
      body: setupBody,
      response: { 201: z.object({ organisationId: id, schoolId: id, ownerId: id }) },
    },
    handler: async (request, reply) => {
      const created = await organisations.setup(request.body, originOf(request));
      return reply.code(201).send(created);
    },
  });

  app.get('/api/v1/organisation', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['organisation'],
      summary: "The caller's organisation",
      response: { 200: organisation },
    },
    handler: (request) => organisations.getOrganisation(authOf(request).principal),
  });

  app.patch('/api/v1/organisation', {
    config: { access: { permission: 'organisation.update' } },
    schema: {
      tags: ['organisation'],
      summary: 'Rename the organisation or change its settings (Owner)',
      description:
        '`retirementAge`: the normal retirement age of its staff, a whole number 55 to 75 (default 67); an allegation is kept until its subject reaches it, or ten years, whichever is later. Fields not named are kept.',
      body: z.object({ name: name.optional(), retirementAge: retirementAge.optional() }).strict(),
      response: { 200: organisation },
    },
    handler: (request) =>
      organisations.updateOrganisation(authOf(request).principal, request.body, originOf(request)),
  });

  app.post('/api/v1/schools', {
    config: { access: { permission: 'schools.manage' } },
    schema: {
      tags: ['schools'],
      summary: 'Add a school (Owner)',
      description:
        'The school starts with its "All students" group, a Safeguarding Team and an "Allegations" group whose one member, the allegations manager, is `allegationsManagerId` (a live user of the organisation; 404 naming the field otherwise) or else the organisation\'s first Owner.',
      body: z.object({ name, allegationsManagerId: id.optional() }).strict(),
      response: { 201: school },
    },
    handler: async (request, reply) => {
      const created = await organisations.createSchool(
        authOf(request).principal,
        request.body,
        originOf(request),
      );
      return reply.code(201).send(created);
    },
  });

  app.get('/api/v1/schools', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['schools'],
      summary: "The organisation's schools",
      response: { 200: z.object({ items: z.array(school), nextCursor: z.null() }) },
    },
    handler: async (request) => ({
      items: await organisations.listSchools(authOf(request).principal),
      nextCursor: null,
    }),
  });

  app.get('/api/v1/schools/:id', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['schools'],
      summary: 'One school',
      params: idParams,
      response: { 200: school },
    },
    handler: (request) => organisations.getSchool(authOf(request).principal, request.params.id),
  });

  app.patch('/api/v1/schools/:id', {
    config: { access: { permission: 'schools.manage' } },
    schema: {
      tags: ['schools'],
      summary: 'Rename a school (Owner)',
      params: idParams,
      body: z.object({ name: name.optional() }).strict(),
      response: { 200: school },
    },
    handler: (request) =>
      organisations.updateSchool(
        authOf(request).principal,
        request.params.id,
        request.body,
        originOf(request),
      ),
  });

  app.get('/api/v1/schools/:id/settings', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['schools'],
      summary: "A school's settings, each with its default where never set",
      params: idParams,
      response: { 200: schoolSettingsSchema },
    },
    handler: async (request) =>
      (await organisations.getSchool(authOf(request).principal, request.params.id)).settings,
  });

  app.patch('/api/v1/schools/:id/settings', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['schools'],
      summary: 'Change school settings (Admin at the school)',
      description:
        'Any of: `requireMfaForSensitive` (reading child-protection and allegation records needs a recent two-factor step-up; default on), `requireMfaEnrolment` (whoever holds a clearance, or Deputy DSL or higher, where this school is concerned must enrol two-factor sign-in before using Haven; default on; applies to open sessions from their next request), `digestTime` (when the daily digest email goes out, "HH:MM" 24-hour, Europe/London; default "16:00"). Settings not named are kept. Answers every setting.',
      params: idParams,
      body: schoolSettingsPatch,
      response: { 200: schoolSettingsSchema },
    },
    handler: (request) =>
      organisations.updateSchoolSettings(
        authOf(request).principal,
        request.params.id,
        request.body,
        originOf(request),
      ),
  });

  app.post('/api/v1/school-groups', {
    config: { access: { permission: 'schools.manage' } },
    schema: {
      tags: ['schools'],
      summary: 'Create a school group (Owner)',
      body: z.object({ name, schoolIds: z.array(id).max(1000) }).strict(),
      response: { 201: schoolGroup },
    },
    handler: async (request, reply) => {
      const created = await organisations.createSchoolGroup(
        authOf(request).principal,
        request.body,
        originOf(request),
      );
      return reply.code(201).send(created);
    },
  });

  app.get('/api/v1/school-groups', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['schools'],
      summary: "The organisation's school groups",
      response: { 200: z.object({ items: z.array(schoolGroup), nextCursor: z.null() }) },
    },
    handler: async (request) => ({
      items: await organisations.listSchoolGroups(authOf(request).principal),
      nextCursor: null,
    }),
  });

  app.get('/api/v1/school-groups/:id', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['schools'],
      summary: 'One school group',
      params: idParams,
      response: { 200: schoolGroup },
    },
    handler: (request) =>
      organisations.getSchoolGroup(authOf(request).principal, request.params.id),
  });

  app.patch('/api/v1/school-groups/:id', {
    config: { access: { permission: 'schools.manage' } },
    schema: {
      tags: ['schools'],
      summary: 'Rename a school group or change its schools (Owner)',
      params: idParams,
      body: z
        .object({ name: name.optional(), schoolIds: z.array(id).max(1000).optional() })
        .strict(),
      response: { 200: schoolGroup },
    },
    handler: (request) =>
      organisations.updateSchoolGroup(
        authOf(request).principal,
        request.params.id,
        request.body,
        originOf(request),
      ),
  });

  app.delete('/api/v1/school-groups/:id', {
    config: { access: { permission: 'schools.manage' } },
    schema: {
      tags: ['schools'],
      summary: 'Delete a school group (Owner)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await organisations.deleteSchoolGroup(
        authOf(request).principal,
        request.params.id,
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}
