import { z } from 'zod';
import { pageQuery } from '../../lib/pagination.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import { retentionRules } from './rules.ts';
import type { RetentionService } from './service.ts';

const day = z.iso.date();
const reason = z.string().trim().min(1).max(2000);

const queueItem = z.object({
  id: z.string(),
  schoolId: z.string(),
  category: z.object({ id: z.string(), name: z.string() }),
  sensitivity: z.enum(['standard', 'child_protection', 'allegation']),
  occurredAt: z.string(),
  retainUntil: z.string().describe('The day the record is kept to, "YYYY-MM-DD"'),
  rule: z.enum(retentionRules).describe('The rule that set the day (before any extension)'),
  extendedTo: z.string().nullable().describe('A later day a DSL kept it to'),
  legalHoldSince: z.string().nullable(),
  deletedAt: z.string().nullable(),
});

const retentionView = queueItem.extend({
  ruleDay: z.string().describe('The day the rule alone keeps it to'),
  subjectBornOn: z
    .string()
    .nullable()
    .describe("An allegation subject's date of birth, as recorded"),
  due: z.boolean().describe('Past its day, not on hold and not destroyed'),
  destroyedAt: z.string().nullable(),
  decisions: z
    .array(
      z.object({
        id: z.string(),
        action: z.string(),
        day: z.string().nullable(),
        reason: z.string().nullable(),
        rule: z.string(),
        retainUntil: z.string(),
        decidedBy: z.object({ id: z.string(), name: z.string() }),
        decidedAt: z.string(),
      }),
    )
    .describe('Every decision, oldest first'),
});

const decision = z.discriminatedUnion('action', [
  z.object({ action: z.literal('extend'), until: day, reason }).strict(),
  z.object({ action: z.literal('hold'), reason }).strict(),
  z.object({ action: z.literal('release'), reason }).strict(),
  z
    .object({ action: z.literal('subject_born'), dateOfBirth: day, reason: reason.optional() })
    .strict(),
  z.object({ action: z.literal('destroy') }).strict(),
]);

export function retentionRoutes(app: HavenApp, retention: RetentionService) {
  app.get('/api/v1/retention/queue', {
    config: { access: { permission: 'records.retention' } },
    schema: {
      tags: ['retention'],
      summary: "The school's records past their retention day that the caller may review",
      description:
        'Earliest day first, on legal hold or not; records the caller may not read are left out. DSL (or Owner) at the school; 404 for a school not of the organisation.',
      querystring: pageQuery.extend({ schoolId: id }),
      response: {
        200: z.object({ items: z.array(queueItem), nextCursor: z.string().nullable() }),
      },
    },
    handler: (request) => retention.queue(callerOf(request), request.query),
  });

  app.get('/api/v1/retention/records/:id', {
    config: { access: { permission: 'records.retention' } },
    schema: {
      tags: ['retention'],
      summary: "A record's retention: its day, the rule that set it and every decision",
      description:
        'A destroyed record answers with its tombstone (no content). 404 for a record the caller cannot read; 403 without `records.retention` at its school.',
      params: idParams,
      response: { 200: retentionView },
    },
    handler: (request) => retention.record(callerOf(request), request.params.id),
  });

  app.post('/api/v1/retention/records/:id/decisions', {
    config: { access: { permission: 'records.retention' } },
    schema: {
      tags: ['retention'],
      summary: 'Extend, hold, release, record the subject’s date of birth, or destroy',
      description:
        '`destroy` is the approval and the destruction at once: the content, revisions and documents go, the record stays as a tombstone and `incident.destroy` joins the audit chain. 409 `retention_not_reached`, `legal_hold`, `subject_birth_date_unknown`, `already_on_hold`, `not_on_hold`, `not_an_allegation` or `record_destroyed`; a refusal changes nothing.',
      params: idParams,
      body: decision,
      response: { 200: retentionView },
    },
    handler: (request) =>
      retention.decide(callerOf(request), request.params.id, request.body, originOf(request)),
  });
}
