import { Readable } from 'node:stream';
import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { idParams, isoTime, scope } from '../../lib/schemas.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { readDocument } from './document.ts';
import { renderCsv } from './render-csv.ts';
import { renderPdf } from './render-pdf.ts';
import { type AccessAuditRunService, downloadFormats, type RunView } from './runs.ts';

const flagCounts = z.object({
  no_user_group: z.number(),
  dsl_reaches_no_child: z.number(),
  clearance_without_two_factor: z.number(),
  all_students_link: z.number(),
  dormant: z.number(),
  more_than_two_owners: z.number(),
});

const runSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  scope: scope.extend({ name: z.string() }),
  asOf: z.string().nullable().describe('Null: as at the moment the run was taken (createdAt)'),
  sha256: z.string().describe('SHA-256 (hex) of the saved JSON document, exactly as downloaded'),
  rowCount: z.number(),
  byteLength: z.number(),
  createdBy: z.object({ id: z.string(), name: z.string() }),
  flagCounts,
});

const mediaTypes = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
} as const;

/** A file name a browser saves the download as: the scope, the run's date and its id. */
function filename(run: RunView, extension: string): string {
  const slug = run.scope.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `access-audit-${slug || run.scope.type}-${run.createdAt.slice(0, 10)}-${run.id}.${extension}`;
}

export function complianceRoutes(app: HavenApp, runs: AccessAuditRunService) {
  app.post('/api/v1/reports/access-audit', {
    config: { access: { permission: 'reports.access_audit' } },
    schema: {
      tags: ['compliance'],
      summary: 'Run the Access Audit Report and save the run (Admin and above, for their scope)',
      description:
        'One row per person in the scope (default: the organisation), now or as of a past time, saved immutably with its SHA-256; the run is written to the audit log. 403 for a scope the caller may not run it for, 404 for an unknown scope.',
      body: z.object({ scope: scope.optional(), asOf: isoTime.optional() }),
      response: { 201: runSchema },
    },
    handler: async (request, reply) => {
      const run = await runs.create(callerOf(request), request.body, originOf(request));
      return reply.code(201).send(run);
    },
  });

  app.get('/api/v1/reports/access-audit', {
    config: { access: { permission: 'reports.access_audit' } },
    schema: {
      tags: ['compliance'],
      summary: 'Saved Access Audit Report runs the caller may see, newest first',
      description:
        'Runs of the scopes the caller may run the report for now. Runs are never changed or deleted.',
      querystring: pageQuery,
      response: {
        200: z.object({ items: z.array(runSchema), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) => runs.list(callerOf(request), request.query),
  });

  const stream = z.custom<Readable>((body) => body instanceof Readable);
  app.get('/api/v1/reports/access-audit/:id', {
    config: { access: { permission: 'reports.access_audit' } },
    schema: {
      tags: ['compliance'],
      summary: 'Download a saved run: its JSON exactly as saved, or CSV or PDF made from it',
      description:
        '`format=json` (default) answers the saved bytes, whose SHA-256 is the run’s (`Repr-Digest`, RFC 9530); `csv` and `pdf` are rendered from them, the same bytes on every download. Every download is written to the access log. 404 for a run of a scope the caller may not run the report for.',
      params: idParams,
      querystring: z.object({ format: z.enum(downloadFormats).default('json') }),
      response: {
        200: {
          description: 'The saved run, as an attachment',
          content: {
            [mediaTypes.json]: { schema: stream },
            'text/csv': { schema: stream },
            [mediaTypes.pdf]: { schema: stream },
          },
        },
      },
    },
    handler: async (request, reply) => {
      const format = request.query.format;
      const { run, chunks } = await runs.open(
        callerOf(request),
        request.params.id,
        format,
        originOf(request),
      );
      reply
        .type(mediaTypes[format])
        .header('content-disposition', `attachment; filename="${filename(run, format)}"`)
        .header('x-content-type-options', 'nosniff')
        .header('x-haven-report-sha256', run.sha256);
      switch (format) {
        case 'json':
          return reply
            .header('content-length', String(run.byteLength))
            .header('repr-digest', `sha-256=:${Buffer.from(run.sha256, 'hex').toString('base64')}:`)
            .send(Readable.from(chunks()));
        case 'csv':
          return reply.send(Readable.from(renderCsv(readDocument(chunks()))));
        case 'pdf':
          return reply.send(renderPdf(run, readDocument(chunks())));
      }
    },
  });
}
