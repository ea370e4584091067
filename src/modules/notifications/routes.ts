import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams, isoTime } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { NotificationService } from './service.ts';

const recipient = z.object({ type: z.enum(['user', 'user_group']), id });
const channel = z.enum(['alert', 'immediate_email', 'digest_email']);
const rulesAnswer = z.object({
  rules: z.array(z.object({ recipient: recipient.extend({ name: z.string() }), channel })),
});
const outboxStatus = z.enum(['pending', 'sending', 'sent', 'failed', 'withdrawn']);

export function notificationRoutes(app: HavenApp, notifications: NotificationService) {
  app.get('/api/v1/categories/:id/notifications', {
    config: { access: { permission: 'categories.manage' } },
    schema: {
      tags: ['notifications'],
      summary: "Who is told of a category's new concerns, and how (Admin)",
      params: idParams,
      response: { 200: rulesAnswer },
    },
    handler: (request) => notifications.rules(authOf(request).principal, request.params.id),
  });

  app.put('/api/v1/categories/:id/notifications', {
    config: { access: { permission: 'categories.manage' } },
    schema: {
      tags: ['notifications'],
      summary: "Replace a category's notification rules (Admin)",
      description:
        'Each rule names a user or a user group and a channel: an alert in the app, an immediate ' +
        "email, or the school's daily digest email. Whoever a rule names is told only of records " +
        'they may read when the notification is sent.',
      params: idParams,
      body: z
        .object({ rules: z.array(z.object({ recipient, channel }).strict()).max(50) })
        .strict(),
      response: { 200: rulesAnswer },
    },
    handler: (request) =>
      notifications.replaceRules(
        authOf(request).principal,
        request.params.id,
        request.body.rules,
        originOf(request),
      ),
  });

  app.get('/api/v1/outbox', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['notifications'],
      summary: 'Emails Haven sent, is sending or could not send (Admin, for their schools)',
      querystring: pageQuery.extend({ status: outboxStatus.optional() }),
      response: {
        200: z.object({
          items: z.array(
            z.object({
              id,
              kind: z.string(),
              schoolId: z.string().nullable(),
              to: z.object({ address: z.string(), name: z.string().nullable() }),
              status: outboxStatus,
              attempts: z.number().int(),
              lastError: z.string().nullable(),
              subject: z.string().nullable(),
              createdAt: isoTime,
              sentAt: isoTime.nullable(),
              nextAttemptAt: isoTime.nullable(),
            }),
          ),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) => notifications.outbox(authOf(request).principal, request.query),
  });

  app.post('/api/v1/outbox/:id/retry', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['notifications'],
      summary: 'Send a failed email again (Admin)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await notifications.retry(authOf(request).principal, request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });
}
