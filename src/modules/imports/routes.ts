import { z } from 'zod';
import { anyImportPermission, importPermissions } from '../../access/imports.ts';
import type { Database } from '../../db/database.ts';
import { invalidField } from '../../lib/errors.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { namedFiles, OneRosterCsvBundle, unzipBundle } from './oneroster.ts';
import { importStatus } from './problems.ts';
import { createWaitingRun, getImportRun } from './runs.ts';
import { importOptions, importQuery, importProblem as problem } from './schema.ts';
import { importRoster } from './sync.ts';

const runSchema = z.object({
  id,
  kind: z.enum(['students', 'staff', 'oneroster']),
  /** waiting (for its file), checking, writing, then checked (a dry run), imported, refused or failed. */
  status: z.enum(['waiting', 'checking', 'writing', 'checked', 'imported', 'refused', 'failed']),
  dryRun: z.boolean(),
  onError: z.enum(['stop', 'skip']),
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Rows in the file, and how many have been checked. */
  totalRows: z.number(),
  processedRows: z.number(),
  /** Changes to write once checked, and how many are written. */
  rowsToWrite: z.number(),
  writtenRows: z.number(),
  counts: z.record(z.string(), z.number()),
  errorCount: z.number(),
  /** The first 1,000 problems (the import's answer lists every one). */
  errors: z.array(problem),
  ignoredColumns: z.array(z.string()),
  failure: z.string().nullable(),
  /** When `errors`, `ignoredColumns` and `failure` were blanked: 30 days after the run ended. */
  problemsClearedAt: z.string().nullable(),
});

const counts = z.object({ created: z.number(), updated: z.number(), unchanged: z.number() });
const planned = z.object({ create: z.number(), update: z.number(), unchanged: z.number() });
const rosterReport = z.object({
  runId: z.string(),
  dryRun: z.boolean(),
  onError: z.enum(['stop', 'skip']),
  source: z.string(),
  schools: z.array(z.object({ sourcedId: z.string(), name: z.string(), schoolId: z.string() })),
  students: counts,
  staff: counts,
  skipped: z.number(),
  plan: z.object({ students: planned, staff: planned, skip: z.number() }),
  errors: z.array(problem),
  ignoredColumns: z.array(z.string()),
  notes: z.array(z.string()),
});

const namedBundle = z
  .object({
    files: z.record(z.string().min(1).max(200), z.string()),
    schools: z.record(z.string().min(1).max(200), id).optional(),
  })
  .strict();

const ONE_ROSTER_LIMIT = 100 * 1024 * 1024;

export function importRoutes(app: HavenApp, database: Database) {
  // Runs of any kind: the route's gate is a permission every kind's implies, and the run's kind
  // is then decided by `src/access/imports.ts` (403 to make one, 404 to read one).
  app.post('/api/v1/imports', {
    config: { access: { permission: anyImportPermission } },
    schema: {
      tags: ['imports'],
      summary: 'Make an import run to follow before its file is sent (Admin)',
      description:
        'Answers a run in `waiting` (audited as `import.start`); pass its id as `runId` to the import and poll `GET /api/v1/imports/:id` while the file uploads, is checked and is written. Making a run needs what importing its kind needs: `students.create` for `students` and `oneroster`, `users.manage` for `staff` (403 otherwise).',
      body: z.object({ kind: z.enum(['students', 'staff', 'oneroster']) }).strict(),
      response: { 201: runSchema },
    },
    handler: async (request, reply) => {
      const run = await createWaitingRun(
        database,
        authOf(request).principal,
        request.body.kind,
        originOf(request),
      );
      return reply.code(201).send(run);
    },
  });

  app.get('/api/v1/imports/:id', {
    config: { access: { permission: anyImportPermission } },
    schema: {
      tags: ['imports'],
      summary: 'An import run: its progress, counts and problems (its starter only)',
      description:
        "Only the person who started the run reads it, while they may still import its kind (`students.create` for `students` and `oneroster`, `users.manage` for `staff`); anyone else's run, or another organisation's, is not found (404). The problems, unused columns and failure are blanked 30 days after the run ended (`problemsClearedAt`); the status and counts stay.",
      params: idParams,
      response: { 200: runSchema },
    },
    handler: (request) => getImportRun(database, authOf(request).principal, request.params.id),
  });

  // A bundle arrives as a zip (its bytes) or as JSON naming each file's text.
  app.register(async (scope) => {
    const typed = scope as unknown as HavenApp;
    typed.addContentTypeParser(
      ['application/zip', 'application/x-zip-compressed'],
      { parseAs: 'buffer', bodyLimit: ONE_ROSTER_LIMIT },
      (_request, body, done) => done(null, body),
    );
    typed.post('/api/v1/imports/oneroster', {
      config: { access: { permission: importPermissions.oneroster } },
      bodyLimit: ONE_ROSTER_LIMIT,
      schema: {
        tags: ['imports'],
        summary: 'Import a OneRoster 1.2 CSV bundle (Admin)',
        description:
          'Send the bundle as `application/zip`, or as JSON `{ files: { "manifest.csv": "...", "orgs.csv": "...", ... }, schools?: { "<sourcedId or identifier>": "<Haven school id>" } }`. Schools are matched by Haven school id (as sourcedId or identifier), by `schools`, else by exact name; pupils are added or updated by UPN (metadata.upn, userIds {UPN:...} or identifier) and taken off roll when `tobedeleted`; teachers, aides and administrators are added holding only Member or renamed by email, and disabled when `tobedeleted`. A record whose `dateLastModified` is older than Haven\'s last change to it is left as Haven has it. `dryRun`, `onError` and `runId` work as for the CSV imports; a bundle holding staff also needs `users.manage` (403). Each import is audited (`import.finish`: the run, its kind, status and counts). docs/imports.md.',
        querystring: importQuery,
        response: { 200: rosterReport, 201: rosterReport },
      },
      handler: async (request, reply) => {
        const body = request.body;
        let bundle: OneRosterCsvBundle;
        let schools: Record<string, string> | undefined;
        if (Buffer.isBuffer(body)) {
          bundle = new OneRosterCsvBundle(unzipBundle(body));
        } else {
          const named = namedBundle.safeParse(body);
          if (!named.success)
            throw invalidField(
              'body',
              'send the bundle as a zip (application/zip) or as JSON: { files: { "manifest.csv": "..." } }',
            );
          bundle = new OneRosterCsvBundle(namedFiles(named.data.files));
          schools = named.data.schools;
        }
        const report = await importRoster(
          database,
          authOf(request).principal,
          bundle,
          { ...importOptions(request.query), schools },
          originOf(request),
        );
        return reply.code(importStatus(report)).send(report);
      },
    });
  });
}
