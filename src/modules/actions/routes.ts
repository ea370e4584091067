import { z } from 'zod';
import { idParams, isoTime } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import {
  actionBody,
  actionPatch,
  actionSchema,
  assignee,
  assignmentWarnings,
} from '../incidents/schema.ts';
import type { ActionService } from './service.ts';

const alertSchema = z.object({
  id: z.string(),
  kind: z.enum([
    'incident_assigned',
    'action_assigned',
    'action_due',
    'incident_logged',
    'security',
    'access_review',
    'transfer_overdue',
  ]),
  /** Null for a security alert, which is about the organisation. */
  incidentId: z.string().nullable(),
  actionId: z.string().nullable(),
  /** An action's title; null until a step-up where the record needs one. */
  title: z.string().nullable(),
  /** A security alert's text. */
  message: z.string().nullable(),
  /** The record needs a two-factor step-up before it can be opened. */
  stepUpNeeded: z.boolean(),
  createdAt: isoTime,
  read: z.boolean(),
});

const assignmentDescription =
  'An assignee who is a person blocked from a child on the record is refused with 409 `assignee_blocked` (nothing changes). Otherwise the action is saved, and `warnings` holds `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read its incident: they would not see the action. `POST /incidents/:id/actions/assignee-check` gives the same answer before saving.';

export function actionRoutes(app: HavenApp, actions: ActionService) {
  app.get('/api/v1/incidents/:id/actions', {
    config: { access: { permission: 'incidents.view' } },
    schema: {
      tags: ['actions'],
      summary: "An incident's actions",
      params: idParams,
      response: { 200: z.object({ items: z.array(actionSchema) }) },
    },
    handler: (request) => actions.list(callerOf(request), request.params.id),
  });

  app.post('/api/v1/incidents/:id/actions', {
    config: { access: { permission: 'actions.create' } },
    schema: {
      tags: ['actions'],
      summary: 'Add an action to an incident (Deputy DSL), assigned to a user or a group',
      description: assignmentDescription,
      params: idParams,
      body: actionBody,
      response: { 201: actionSchema.extend({ warnings: assignmentWarnings }) },
    },
    handler: async (request, reply) =>
      reply
        .code(201)
        .send(
          await actions.create(
            callerOf(request),
            request.params.id,
            request.body,
            originOf(request),
          ),
        ),
  });

  app.post('/api/v1/incidents/:id/actions/assignee-check', {
    config: { access: { permission: 'actions.create' } },
    schema: {
      tags: ['actions'],
      summary: 'Before saving an action: would its assignee be refused, or not read the record?',
      description:
        'Answers what `POST /incidents/:id/actions` or `PATCH /actions/:id` with this assignee would: 409 `assignee_blocked` for a person blocked from a child on the record, else `{ warnings }` (see there). Nothing is changed.',
      params: idParams,
      body: z.object({ assignee }).strict(),
      response: { 200: z.object({ warnings: assignmentWarnings }) },
    },
    handler: (request) =>
      actions.checkAssignee(callerOf(request), request.params.id, request.body.assignee),
  });

  app.patch('/api/v1/actions/:id', {
    config: { access: { permission: 'actions.update' } },
    schema: {
      tags: ['actions'],
      summary: 'Edit an action (Deputy DSL)',
      description: assignmentDescription,
      params: idParams,
      body: actionPatch,
      response: { 200: actionSchema.extend({ warnings: assignmentWarnings }) },
    },
    handler: (request) =>
      actions.update(callerOf(request), request.params.id, request.body, originOf(request)),
  });

  app.delete('/api/v1/actions/:id', {
    config: { access: { permission: 'actions.delete' } },
    schema: {
      tags: ['actions'],
      summary: 'Delete an action (Deputy DSL; kept, marked deleted)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await actions.remove(callerOf(request), request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/actions/:id/complete', {
    config: { access: { permission: 'actions.complete' } },
    schema: {
      tags: ['actions'],
      summary: 'Complete an action assigned to you or to a group you are in',
      params: idParams,
      response: { 200: actionSchema },
    },
    handler: (request) => actions.complete(callerOf(request), request.params.id, originOf(request)),
  });

  app.get('/api/v1/me/actions', {
    config: { access: { permission: 'actions.complete' } },
    schema: {
      tags: ['actions'],
      summary: 'My open actions, overdue first',
      response: {
        200: z.object({
          items: z.array(actionSchema),
          stepUpNeeded: z
            .number()
            .int()
            .describe(
              'How many more open actions are mine that this session may see only after a two-factor step-up (POST /auth/step-up)',
            ),
        }),
      },
    },
    handler: (request) => actions.mine(callerOf(request)),
  });

  app.get('/api/v1/alerts', {
    config: { access: { permission: 'alerts.manage' } },
    schema: {
      tags: ['alerts'],
      summary: 'My alerts, newest first (dismissed ones are left out)',
      response: { 200: z.object({ items: z.array(alertSchema) }) },
    },
    handler: (request) => actions.alerts(callerOf(request)),
  });

  for (const state of ['read', 'dismissed'] as const) {
    app.post(`/api/v1/alerts/:id/${state === 'read' ? 'read' : 'dismiss'}`, {
      config: { access: { permission: 'alerts.manage' } },
      schema: {
        tags: ['alerts'],
        summary: state === 'read' ? 'Mark one of my alerts read' : 'Dismiss one of my alerts',
        params: idParams,
        response: { 204: noContent },
      },
      handler: async (request, reply) => {
        await actions.setAlertState(callerOf(request), request.params.id, state, originOf(request));
        return reply.code(204).send();
      },
    });
  }
}
