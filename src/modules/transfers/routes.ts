import { z } from 'zod';
import { transferPermissions } from '../../access/transfers.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { safeguardingFileSchema } from '../safeguarding-file/routes.ts';
import type { TransferService } from './service.ts';

const named = z.object({ id: z.string(), name: z.string() });
const reason = z.string().trim().min(1).max(2000);
const binary = z.custom<Buffer>((body) => Buffer.isBuffer(body));
const status = z.enum(['sent', 'received', 'cancelled']);

const transferOut = z.object({
  id: z.string(),
  kind: z.enum(['organisation', 'installation', 'external']),
  status,
  child: named,
  fromSchool: named,
  toSchool: named.nullable(),
  external: z.object({ schoolName: z.string(), contact: z.string().nullable() }).nullable(),
  reason: z.string(),
  dueOn: z.string().describe('Five school days after it was sent, at the sending school'),
  sentAt: z.string(),
  sentBy: named,
  receivedAt: z.string().nullable(),
  receivedBy: z.string().nullable(),
  receipt: z
    .object({ confirmedBy: z.string(), confirmedOn: z.string(), note: z.string().nullable() })
    .nullable()
    .describe('An external transfer: who at the new school confirmed receipt, on which day, how'),
  overdue: z.boolean(),
});

const transferIn = z.object({
  id: z.string(),
  status,
  child: z.object({
    name: z.string(),
    dateOfBirth: z.string().nullable(),
    studentId: z.string().nullable().describe('The child at the receiving school, once accepted'),
  }),
  fromSchool: z.object({ name: z.string(), organisation: z.string() }),
  toSchool: named,
  reason: z.string(),
  sentAt: z.string(),
  dueOn: z.string(),
  receivedAt: z.string().nullable(),
});

export function transferRoutes(app: HavenApp, transfers: TransferService) {
  app.post('/api/v1/transfers', {
    config: { access: { permission: transferPermissions.send } },
    schema: {
      tags: ['transfers'],
      summary: "Send the child's safeguarding file to another school on this installation",
      description:
        "Admin or above at the child's school, who must read the child's whole file (403 `file_not_whole` otherwise). The file as they read it is kept with the transfer; it is due five school days later. 404 for a child the caller cannot see; 409 `transfer_pending` while another transfer of the child waits for receipt.",
      body: z.union([
        z.object({ studentId: id, toSchoolId: id, reason }).strict(),
        z
          .object({
            studentId: id,
            external: z
              .object({
                schoolName: z.string().trim().min(1).max(200),
                contact: z.string().trim().min(1).max(500),
              })
              .strict(),
            reason,
          })
          .strict(),
      ]),
      response: {
        201: z.object({
          id: z.string(),
          status: z.literal('sent'),
          passphrase: z
            .string()
            .optional()
            .describe(
              'External transfers only: opens the archive. Shown this once and never kept: send it separately from the archive',
            ),
        }),
      },
    },
    handler: async (request, reply) => {
      const sent = await transfers.send(callerOf(request), request.body, originOf(request));
      return reply.code(201).send(sent);
    },
  });

  app.get('/api/v1/transfers', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['transfers'],
      summary: 'Transfers sent from (out) or offered to (in) the caller’s schools',
      description:
        'out: schools where the caller manages transfers; in: schools where the caller is DSL (or above). An offer shows the child’s name and date of birth, the sending school and the reason; nothing of the records until it is accepted.',
      querystring: z.object({ direction: z.enum(['in', 'out']).default('out') }),
      response: {
        200: z.object({ items: z.union([z.array(transferOut), z.array(transferIn)]) }),
      },
    },
    handler: async (request) => ({
      items:
        request.query.direction === 'in'
          ? await transfers.listIn(callerOf(request))
          : await transfers.listOut(callerOf(request)),
    }),
  });

  app.get('/api/v1/transfers/destinations', {
    config: { access: { permission: transferPermissions.send } },
    schema: {
      tags: ['transfers'],
      summary: "The organisation's schools a file may be sent to",
      description:
        "Another organisation's schools are not listed: its school gives the sender its school id.",
      response: {
        200: z.object({
          items: z.array(named.extend({ organisation: z.string(), sameOrganisation: z.boolean() })),
        }),
      },
    },
    handler: async (request) => ({ items: await transfers.destinations(callerOf(request)) }),
  });

  app.post('/api/v1/transfers/:id/accept', {
    config: { access: { permission: transferPermissions.receive } },
    schema: {
      tags: ['transfers'],
      summary: 'Accept a file offered to one’s school: the receipt is recorded',
      description:
        "The receiving school's DSL (or above). The child is on roll at the receiving school with the file's records, which its Safeguarding Team reads. 404 for a transfer not offered to the caller's organisation; 409 `transfer_received` once accepted.",
      params: idParams,
      response: {
        200: z.object({ id: z.string(), status: z.literal('received'), studentId: z.string() }),
      },
    },
    handler: (request) => transfers.accept(callerOf(request), request.params.id, originOf(request)),
  });

  app.get('/api/v1/transfers/:id/file', {
    config: { access: { permission: transferPermissions.receive } },
    schema: {
      tags: ['transfers'],
      summary: 'The file as it was sent: the sending school’s closed, read-only copy',
      description: 'DSL (or above) at the sending school; 404 otherwise.',
      params: idParams,
      response: { 200: safeguardingFileSchema },
    },
    handler: (request) => transfers.file(callerOf(request), request.params.id),
  });

  app.post('/api/v1/transfers/:id/receipt', {
    config: { access: { permission: transferPermissions.send } },
    schema: {
      tags: ['transfers'],
      summary: 'Record by hand that a school not on Haven confirmed receipt',
      description:
        'Admin or above at the sending school. 409 `transfer_not_external` for a transfer on Haven (the receiver accepts it there), `transfer_closed` once received or cancelled.',
      params: idParams,
      body: z
        .object({
          receivedBy: z.string().trim().min(1).max(200),
          receivedOn: z.iso.date(),
          note: z.string().trim().max(2000).optional(),
        })
        .strict(),
      response: { 200: z.object({ id: z.string(), status: z.literal('received') }) },
    },
    handler: (request) =>
      transfers.receipt(callerOf(request), request.params.id, request.body, originOf(request)),
  });

  app.post('/api/v1/transfers/:id/cancel', {
    config: { access: { permission: transferPermissions.send } },
    schema: {
      tags: ['transfers'],
      summary: 'Withdraw a transfer not yet received',
      params: idParams,
      response: { 200: z.object({ id: z.string(), status: z.literal('cancelled') }) },
    },
    handler: (request) => transfers.cancel(callerOf(request), request.params.id, originOf(request)),
  });

  for (const what of ['archive', 'pdf'] as const)
    app.get(`/api/v1/transfers/:id/${what}`, {
      config: { access: { permission: transferPermissions.send } },
      schema: {
        tags: ['transfers'],
        summary:
          what === 'archive'
            ? "An external transfer's encrypted archive (the file, its PDF and the documents)"
            : 'The printable PDF chronology of the file as it was sent',
        description:
          what === 'archive'
            ? 'Admin or above at the sending school; open it with the passphrase shown when it was sent (`haven transfer decrypt`). Every download is in the access log.'
            : 'DSL (or above) at the sending school. Every download is in the access log.',
        params: idParams,
        response: {
          200: {
            description: 'The download, as an attachment',
            content: {
              [what === 'archive' ? 'application/octet-stream' : 'application/pdf']: {
                schema: binary,
              },
            },
          },
        },
      },
      handler: async (request, reply) => {
        const { bytes, madeAt } = await transfers.download(
          callerOf(request),
          request.params.id,
          what,
          originOf(request),
        );
        const extension = what === 'archive' ? 'haven' : 'pdf';
        return reply
          .header(
            'content-disposition',
            `attachment; filename="safeguarding-transfer-${madeAt.slice(0, 10)}.${extension}"`,
          )
          .header('x-content-type-options', 'nosniff')
          .type(what === 'archive' ? 'application/octet-stream' : 'application/pdf')
          .send(bytes);
      },
    });
}
