import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { requirePermission } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Caller, Reader } from '../../access/readers.ts';
import { retentionReviewable } from '../../access/retention.ts';
import type { AccessTime } from '../../access/visibility.ts';
import type { Database, Engine } from '../../db/database.ts';
import type { DB, Sensitivity } from '../../db/tables.ts';
import { conflict, invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, type Page, toPage } from '../../lib/pagination.ts';
import { nowIso } from '../../lib/time.ts';
import { chainIdFor, shredAuditRows } from '../audit/chain.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import type { EncryptedDocumentStore } from '../documents/storage.ts';
import type { IncidentService } from '../incidents/service.ts';
import { findOrganisation, findSchool } from '../organisations/repository.ts';
import { organisationSettings, schoolSettings } from '../organisations/settings.ts';
import { type RetentionRule, type RetentionSettings, retentionColumns } from './rules.ts';

/** One decision on a record's retention (`POST /retention/records/:id/decisions`). */
export type RetentionDecisionInput =
  | { action: 'extend'; until: string; reason: string }
  | { action: 'hold'; reason: string }
  | { action: 'release'; reason: string }
  | { action: 'subject_born'; dateOfBirth: string; reason?: string | undefined }
  | { action: 'destroy' };

export interface RetentionQueueItem {
  id: string;
  schoolId: string;
  category: { id: string; name: string };
  sensitivity: Sensitivity;
  occurredAt: string;
  retainUntil: string;
  rule: RetentionRule;
  extendedTo: string | null;
  legalHoldSince: string | null;
  deletedAt: string | null;
}

export interface RetentionView extends RetentionQueueItem {
  /** The day the rule alone keeps it to (before any extension). */
  ruleDay: string;
  subjectBornOn: string | null;
  /** Past its day, not on hold and not destroyed: the queue lists it. */
  due: boolean;
  destroyedAt: string | null;
  decisions: {
    id: string;
    action: string;
    day: string | null;
    reason: string | null;
    rule: string;
    retainUntil: string;
    decidedBy: { id: string; name: string };
    decidedAt: string;
  }[];
}

interface RetentionRow {
  id: string;
  school_id: string;
  category_id: string;
  category_name: string;
  sensitivity: Sensitivity;
  occurred_at: string;
  retain_extended_to: string | null;
  legal_hold_at: string | null;
  subject_born_on: string | null;
  deleted_at: string | null;
  destroyed_at: string | null;
  rule_day: string;
  rule: RetentionRule;
  retain_until: string;
}

const queueCursor = z.tuple([z.string(), z.string()]);

function present(row: RetentionRow): RetentionQueueItem {
  return {
    id: row.id,
    schoolId: row.school_id,
    category: { id: row.category_id, name: row.category_name },
    sensitivity: row.sensitivity,
    occurredAt: row.occurred_at,
    retainUntil: row.retain_until,
    rule: row.rule,
    extendedTo: row.retain_extended_to,
    legalHoldSince: row.legal_hold_at,
    deletedAt: row.deleted_at,
  };
}

/**
 * Retention review (issue 16, item 4): each record's retention day from its category, the queue
 * of records past it, and the decisions a DSL makes on them: keep it longer, put it on legal hold
 * (and release it), record an allegation subject's date of birth, or approve its destruction,
 * which destroys it there and then. Who reviews which record is `src/access/retention.ts`; every
 * decision is kept and written to the audit chain in the transaction that makes it.
 */
export class RetentionService {
  constructor(
    private readonly database: Database,
    private readonly incidents: IncidentService,
    private readonly documents: EncryptedDocumentStore,
  ) {}

  /** The school's period and the organisation's retirement age (404 for another's school). */
  async #settings(db: Kysely<DB>, principal: Principal, schoolId: string) {
    const [school, organisation] = await Promise.all([
      findSchool(db, principal.organisationId, schoolId),
      findOrganisation(db, principal.organisationId),
    ]);
    if (!school || !organisation) throw notFound('School');
    return {
      retentionYears: schoolSettings(school.settings).retentionYears,
      retirementAge: organisationSettings(organisation.settings).retirementAge,
    } satisfies RetentionSettings;
  }

  /** Records with their retention columns, those the reader may review only. */
  #rows(
    db: Kysely<DB>,
    engine: Engine,
    t: AccessTime,
    reader: Reader,
    settings: RetentionSettings,
  ) {
    const columns = retentionColumns(engine, settings);
    return db
      .selectFrom('incidents as i')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .select([
        'i.id',
        'i.school_id',
        'i.category_id',
        'c.name as category_name',
        'i.sensitivity',
        'i.occurred_at',
        'i.retain_extended_to',
        'i.legal_hold_at',
        'i.subject_born_on',
        'i.deleted_at',
        'i.destroyed_at',
        columns.ruleDay.as('rule_day'),
        columns.rule.as('rule'),
        columns.retainUntil.as('retain_until'),
      ])
      .where((eb) => retentionReviewable(db, eb, t, reader));
  }

  /**
   * `GET /retention/queue?schoolId=`: the school's records past their day that the caller may
   * review, on hold or not, earliest day first; one query per page. 404 for a school not of the
   * organisation, 403 without `records.retention` there.
   */
  async queue(
    caller: Caller,
    query: { schoolId: string; limit: number; cursor?: string | undefined },
  ): Promise<Page<RetentionQueueItem>> {
    const { principal } = caller;
    const db = this.database.db;
    const settings = await this.#settings(db, principal, query.schoolId);
    requirePermission(principal, 'records.retention', { type: 'school', id: query.schoolId });
    const reader = await this.incidents.reader(caller);
    const t: AccessTime = { organisationId: principal.organisationId };
    const today = nowIso().slice(0, 10);
    const after = decodeCursor(query.cursor, queueCursor);
    const records = this.#rows(db, this.database.engine, t, reader, settings)
      .where('i.school_id', '=', query.schoolId)
      .where('i.destroyed_at', 'is', null);
    let page = db.selectFrom(records.as('q')).selectAll('q').where('q.retain_until', '<=', today);
    if (after)
      page = page.where((eb) =>
        eb.or([
          eb('q.retain_until', '>', after[0]),
          eb.and([eb('q.retain_until', '=', after[0]), eb('q.id', '>', after[1])]),
        ]),
      );
    const rows = (await page
      .orderBy('q.retain_until')
      .orderBy('q.id')
      .limit(query.limit + 1)
      .execute()) as RetentionRow[];
    return toPage(rows, query.limit, present, (r) => [r.retain_until, r.id]);
  }

  /** The record's retention row for the caller: 404 unless they read it, 403 `mfa_required`. */
  async #find(db: Kysely<DB>, caller: Caller, incidentId: string) {
    const { principal } = caller;
    const located = await db
      .selectFrom('incidents')
      .select('school_id')
      .where('id', '=', incidentId)
      .where('organisation_id', '=', principal.organisationId)
      .executeTakeFirst();
    if (!located) throw notFound('Incident');
    const settings = await this.#settings(db, principal, located.school_id);
    const t: AccessTime = { organisationId: principal.organisationId };
    const row = await this.incidents.withStepUp(db, caller, 'Incident', async (reader) => {
      const found = await this.#rows(db, this.database.engine, t, reader, settings)
        .where('i.id', '=', incidentId)
        .executeTakeFirst();
      return found as RetentionRow | undefined;
    });
    requirePermission(principal, 'records.retention', { type: 'school', id: row.school_id });
    return row;
  }

  async #view(db: Kysely<DB>, row: RetentionRow, today: string): Promise<RetentionView> {
    const decisions = await db
      .selectFrom('retention_decisions as d')
      .innerJoin('users as u', 'u.id', 'd.decided_by')
      .select([
        'd.id',
        'd.action',
        'd.on_day',
        'd.reason',
        'd.rule',
        'd.retain_until',
        'd.decided_at',
        'u.id as user_id',
        'u.name as user_name',
      ])
      .where('d.incident_id', '=', row.id)
      .orderBy('d.decided_at')
      .orderBy('d.id')
      .execute();
    return {
      ...present(row),
      ruleDay: row.rule_day,
      subjectBornOn: row.subject_born_on,
      due: row.destroyed_at === null && row.legal_hold_at === null && row.retain_until <= today,
      destroyedAt: row.destroyed_at,
      decisions: decisions.map((d) => ({
        id: d.id,
        action: d.action,
        day: d.on_day,
        reason: d.reason,
        rule: d.rule,
        retainUntil: d.retain_until,
        decidedBy: { id: d.user_id, name: d.user_name },
        decidedAt: d.decided_at,
      })),
    };
  }

  /** `GET /retention/records/:id`: the record's day, the rule that set it and every decision. */
  async record(caller: Caller, incidentId: string): Promise<RetentionView> {
    const db = this.database.db;
    const row = await this.#find(db, caller, incidentId);
    return this.#view(db, row, nowIso().slice(0, 10));
  }

  /**
   * `POST /retention/records/:id/decisions`: one decision, kept with its reason and written to
   * the audit chain in one transaction. Refusals (409, each with its code) change nothing.
   */
  async decide(
    caller: Caller,
    incidentId: string,
    input: RetentionDecisionInput,
    origin: ChangeOrigin,
  ): Promise<RetentionView> {
    return runChange(this.database, origin, async (change) => {
      const db = change.db;
      const row = await this.#find(db, caller, incidentId);
      const today = change.now.slice(0, 10);
      if (row.destroyed_at) throw conflict('The record has been destroyed', 'record_destroyed');
      const set: Partial<
        Record<'retain_extended_to' | 'legal_hold_at' | 'subject_born_on', string | null>
      > = {};
      let day: string | null = null;
      let reason: string | null = null;
      switch (input.action) {
        case 'extend':
          if (input.until <= row.retain_until)
            throw invalidField('until', `must be later than the record's day, ${row.retain_until}`);
          set.retain_extended_to = day = input.until;
          reason = input.reason;
          break;
        case 'hold':
          if (row.legal_hold_at)
            throw conflict('The record is already on legal hold', 'already_on_hold');
          set.legal_hold_at = change.now;
          reason = input.reason;
          break;
        case 'release':
          if (!row.legal_hold_at) throw conflict('The record is not on legal hold', 'not_on_hold');
          set.legal_hold_at = null;
          reason = input.reason;
          break;
        case 'subject_born':
          // An allegation now, or one lowered that still holds its allegation version.
          if (row.sensitivity !== 'allegation' && !row.rule.startsWith('allegation'))
            throw conflict('Only an allegation has a subject', 'not_an_allegation');
          if (input.dateOfBirth >= today) throw invalidField('dateOfBirth', 'must be in the past');
          set.subject_born_on = day = input.dateOfBirth;
          reason = input.reason ?? null;
          break;
        case 'destroy':
          if (row.legal_hold_at)
            throw conflict('The record is on legal hold: release it first', 'legal_hold');
          if (row.rule === 'allegation_subject_birth_date_unknown')
            throw conflict(
              "Record the subject's date of birth first: the allegation may have to be kept to their retirement age",
              'subject_birth_date_unknown',
            );
          if (row.retain_until > today)
            throw conflict(`The record is kept until ${row.retain_until}`, 'retention_not_reached');
          break;
      }
      const decisionId = newId();
      await db
        .insertInto('retention_decisions')
        .values({
          id: decisionId,
          organisation_id: caller.principal.organisationId,
          incident_id: row.id,
          action: input.action,
          on_day: day,
          reason,
          rule: row.rule,
          retain_until: row.retain_until,
          decided_by: caller.principal.userId,
          decided_at: change.now,
        })
        .execute();
      if (Object.keys(set).length > 0)
        await db.updateTable('incidents').set(set).where('id', '=', row.id).execute();
      // The reason stays in the decision; the chain says what was decided, on what grounds.
      change.record({
        action: `retention.${input.action}`,
        targetType: 'incident',
        targetId: row.id,
        after: { decisionId, day, rule: row.rule, retainUntil: row.retain_until },
      });
      if (input.action === 'destroy') await this.#destroy(change, row);
      const after = await this.#find(db, caller, incidentId);
      return this.#view(db, after, today);
    });
  }

  /**
   * Destroys the record's content: its description, place and unlisted child; its earlier
   * revisions; its documents, rows and bytes; its actions' titles; the payloads of the audit rows
   * about it, its actions and documents (`shredAuditRows`). The incident row stays as the
   * tombstone (deleted, `destroyed_at` set, with its category, school and children, so reviewers
   * see it went), and `incident.destroy` in the chain says what went, when, on whose approval and
   * under which rule. The bytes go last, inside the transaction: if it then fails to commit, the
   * record is still whole in the database and destroying it again finishes the work (deleting
   * bytes already gone is not an error), so no document is ever left on disk without its row.
   */
  async #destroy(change: Change, row: RetentionRow): Promise<void> {
    const db = change.db;
    const documents = await db
      .selectFrom('documents')
      .select('id')
      .where('incident_id', '=', row.id)
      .orderBy('id')
      .execute();
    await db.deleteFrom('incident_revision_students').where('incident_id', '=', row.id).execute();
    const removed = await db
      .deleteFrom('incident_revisions')
      .where('incident_id', '=', row.id)
      .executeTakeFirst();
    await db.deleteFrom('documents').where('incident_id', '=', row.id).execute();
    const actionIds = await db
      .selectFrom('actions')
      .select('id')
      .where('incident_id', '=', row.id)
      .execute();
    const actions = await db
      .updateTable('actions')
      .set({
        title: '',
        deleted_at: sql<string>`coalesce(deleted_at, ${change.now})`,
        updated_at: change.now,
      })
      .where('incident_id', '=', row.id)
      .executeTakeFirst();
    await db
      .updateTable('incidents')
      .set({
        description: '',
        location: null,
        unlisted_child: null,
        destroyed_at: change.now,
        deleted_at: sql<string>`coalesce(deleted_at, ${change.now})`,
        updated_at: change.now,
      })
      .where('id', '=', row.id)
      .execute();
    // The audit rows about it, its actions and documents lose their payloads, in the change chain
    // and in the organisation's read chains (this change's own rows are written after, whole);
    // rows from before migration 0023 cannot, and are redacted where the audit log is read.
    const audit = await shredAuditRows(db, chainIdFor(change.origin.organisationId), change.now, [
      { type: 'incident', ids: [row.id] },
      { type: 'action', ids: actionIds.map((a) => a.id) },
      { type: 'document', ids: documents.map((d) => d.id) },
    ]);
    change.record({
      action: 'incident.destroy',
      targetType: 'incident',
      targetId: row.id,
      after: {
        what: {
          schoolId: row.school_id,
          categoryId: row.category_id,
          sensitivity: row.sensitivity,
          occurredAt: row.occurred_at,
          revisions: Number(removed.numDeletedRows),
          documentIds: documents.map((d) => d.id),
          actions: Number(actions.numUpdatedRows),
        },
        destroyedAt: change.now,
        approvedBy: change.origin.userId,
        rule: row.rule,
        retainUntil: row.retain_until,
      },
      meta: { shreddedAuditRows: audit.shredded, auditRowsKeptWhole: audit.keptWhole },
    });
    for (const document of documents) await this.documents.delete(document.id);
  }
}
