import { z } from 'zod';
import { idParams } from '../../lib/schemas.ts';
import { noContent, rawContent } from '../../server/contracts.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import type { DocumentOwner, DocumentService } from './service.ts';

const documentSchema = z.object({
  id: z.string(),
  filename: z.string(),
  contentType: z.string(),
  size: z.number(),
  sha256: z.string(),
  uploadedBy: z.string().nullable(),
  createdAt: z.string(),
  /** What the caller may do with it; the server still decides each request. */
  abilities: z.object({ delete: z.boolean() }),
});

const uploadQuery = z.object({ filename: z.string().trim().min(1).max(255) });

export function documentRoutes(app: HavenApp, documents: DocumentService, maxUploadBytes: number) {
  // Uploads are the file's own bytes with its own Content-Type (checked against the bytes);
  // this parser applies only to the routes registered in this scope.
  app.register(async (scope) => {
    const typed = scope as unknown as HavenApp;
    // Text and JSON files too are taken as bytes, not parsed.
    typed.removeAllContentTypeParsers();
    typed.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: maxUploadBytes },
      (_r, body, done) => done(null, body),
    );
    for (const owner of ['incident', 'student'] as const) {
      typed.post(`/api/v1/${owner}s/:id/documents`, {
        config: { access: { permission: 'documents.manage' } },
        bodyLimit: maxUploadBytes,
        schema: {
          tags: ['documents'],
          summary: `Upload a document to ${owner === 'incident' ? 'an incident' : "a student's file"} (Deputy DSL)`,
          description:
            'The body is the file itself, with its Content-Type; `?filename=` names it. The type is judged from the bytes (PDF, images, Office documents, plain text) and the size against HAVEN_MAX_UPLOAD_BYTES.',
          params: idParams,
          querystring: uploadQuery,
          response: { 201: documentSchema },
        },
        handler: async (request, reply) => {
          const body = request.body;
          const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
          const target: DocumentOwner = { type: owner, id: request.params.id };
          const view = await documents.upload(
            callerOf(request),
            target,
            {
              filename: request.query.filename,
              declaredType: request.headers['content-type'],
              bytes,
            },
            originOf(request),
          );
          return reply.code(201).send(view);
        },
      });
    }
  });

  for (const owner of ['incident', 'student'] as const) {
    app.get(`/api/v1/${owner}s/:id/documents`, {
      config: { access: { permission: owner === 'incident' ? 'incidents.view' : 'students.view' } },
      schema: {
        tags: ['documents'],
        summary: `The documents on ${owner === 'incident' ? 'an incident' : "a student's file"}`,
        params: idParams,
        response: { 200: z.object({ items: z.array(documentSchema) }) },
      },
      handler: (request) =>
        documents.list(callerOf(request), { type: owner, id: request.params.id }),
    });
  }

  app.get('/api/v1/documents/:id', {
    config: { access: { permission: 'students.view' } },
    schema: {
      tags: ['documents'],
      summary: 'Download a document (checked against its SHA-256; the read is logged)',
      params: idParams,
      response: {
        // The uploaded file's own media type (a PDF, an image, a Word document...).
        200: rawContent(
          '*/*',
          'The document, as an attachment of its type',
          z.custom<Buffer>((body) => Buffer.isBuffer(body)),
        ),
      },
    },
    handler: async (request, reply) => {
      const { document, bytes } = await documents.download(
        callerOf(request),
        request.params.id,
        originOf(request),
      );
      const name = document.filename.replace(/[^\w.\- ]/g, '_');
      return reply
        .type(document.contentType)
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('x-content-type-options', 'nosniff')
        .send(bytes);
    },
  });

  app.delete('/api/v1/documents/:id', {
    config: { access: { permission: 'documents.manage' } },
    schema: {
      tags: ['documents'],
      summary: 'Delete a document (Deputy DSL; kept, marked deleted)',
      params: idParams,
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await documents.remove(callerOf(request), request.params.id, originOf(request));
      return reply.code(204).send();
    },
  });
}
