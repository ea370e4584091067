import { z } from 'zod';
import { idParams, isoTime } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { actionBody, actionPatch, actionSchema } from '../incidents/schema.ts';
import type { ActionService } from './service.ts';

const alertSchema = z.object({
  id: z.string(),
  kind: z.enum(['incident_assigned', 'action_assigned', 'action_due']),
  incidentId: z.string(),
  actionId: z.string().nullable(),
  title: z.string().nullable(),
  createdAt: isoTime,
  read: z.boolean(),
});

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
      params: idParams,
      body: actionBody,
      response: { 201: actionSchema },
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

  app.patch('/api/v1/actions/:id', {
    config: { access: { permission: 'actions.update' } },
    schema: {
      tags: ['actions'],
      summary: 'Edit an action (Deputy DSL)',
      params: idParams,
      body: actionPatch,
      response: { 200: actionSchema },
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
      response: { 200: z.object({ items: z.array(actionSchema) }) },
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
    handler: (request) => actions.alerts(callerOf(request), originOf(request)),
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
