import { z } from 'zod';
import { idParams } from '../../lib/schemas.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { renderFilePdf } from './render-pdf.ts';
import { fileFormats, type SafeguardingFileService } from './service.ts';

const sensitivity = z.enum(['standard', 'child_protection', 'allegation']);
const status = z.enum(['open', 'in_progress', 'closed']);

const fileDocument = z.object({
  id: z.string(),
  name: z.string().describe('The file name; the content is not part of the file'),
  contentType: z.string(),
  size: z.number().describe('Bytes'),
  addedAt: z.string(),
});

const fileConcern = z.object({
  id: z.string(),
  category: z.string(),
  sensitivity,
  occurredAt: z.string(),
  recordedAt: z.string(),
  reporter: z.string().describe('Who reported it'),
  location: z.string().nullable(),
  description: z.string().describe('The account as it stands now'),
  status,
  revision: z.number(),
  revisions: z
    .array(
      z.object({
        revision: z.number(),
        replacedAt: z.string(),
        replacedBy: z.string().nullable(),
        category: z.string(),
        sensitivity,
        occurredAt: z.string(),
        location: z.string().nullable(),
        description: z.string(),
        status,
      }),
    )
    .describe('Earlier versions the caller may read, oldest first'),
  actions: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      createdAt: z.string(),
      dueAt: z.string().nullable(),
      completedAt: z.string().nullable(),
      completedBy: z.string().nullable(),
    }),
  ),
  documents: z.array(fileDocument).describe('Documents filed on the concern'),
});

const person = z.object({ id: z.string(), name: z.string() });

export const safeguardingFileSchema = z.object({
  child: z.object({
    id: z.string(),
    name: z.string(),
    givenName: z.string(),
    familyName: z.string(),
    preferredName: z.string().nullable(),
    dateOfBirth: z.string().nullable(),
    upn: z.string().nullable(),
    yearGroup: z.number().nullable(),
    school: z.object({ id: z.string(), name: z.string() }),
  }),
  madeAt: z.string(),
  madeBy: person,
  asSeenBy: person.describe('Whose view of the records the file holds'),
  note: z.string().describe('The same sentence in every file, whatever it holds'),
  entries: z
    .array(
      z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('concern'), at: z.string(), concern: fileConcern }),
        z.object({ kind: z.literal('document'), at: z.string(), document: fileDocument }),
      ]),
    )
    .describe(
      "Concerns (with their earlier versions, actions and documents) and documents on the child's own file, oldest first",
    ),
});

const pdf = z.custom<Buffer>((body) => Buffer.isBuffer(body));

/** A file name a browser saves the download as: the child's name, the day and the format. */
function filename(name: string, madeAt: string, extension: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `safeguarding-file-${slug || 'child'}-${madeAt.slice(0, 10)}.${extension}`;
}

export function safeguardingFileRoutes(app: HavenApp, files: SafeguardingFileService) {
  app.get('/api/v1/students/:id/safeguarding-file', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['transfers'],
      summary: "The child's safeguarding file as the caller may see it, as JSON or a printable PDF",
      description:
        'Who the child is, and every concern (with the earlier versions, actions and documents) the caller may read, oldest first; documents are listed, not included. Records the caller may not read are left out without a trace. Every download is written to the access log. 404 for a child the caller cannot see; 403 `mfa_required` when a two-factor step-up would add records.',
      params: idParams,
      querystring: z.object({ format: z.enum(fileFormats).default('json') }),
      response: {
        200: {
          description: 'The file, as an attachment',
          content: {
            'application/json': { schema: safeguardingFileSchema },
            'application/pdf': { schema: pdf },
          },
        },
      },
    },
    handler: async (request, reply) => {
      const format = request.query.format;
      const file = await files.export(
        callerOf(request),
        request.params.id,
        format,
        originOf(request),
      );
      reply
        .header(
          'content-disposition',
          `attachment; filename="${filename(file.child.name, file.madeAt, format)}"`,
        )
        .header('x-content-type-options', 'nosniff');
      if (format === 'json') return reply.type('application/json').send(file);
      return reply.type('application/pdf').send(await renderFilePdf(file));
    },
  });
}
