import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import { z } from 'zod';
import {
  type AssignmentWarning,
  assignmentWarnings,
  requireUnblockedAssignee,
} from '../../access/assignments.ts';
import { requirePermission } from '../../access/decide.ts';
import {
  heldBackByStepUp,
  incidentReadable,
  readableRevisions,
  readIncident,
  safeguardingDecisions,
} from '../../access/incidents.ts';
import { firstOwnerId } from '../../access/owners.ts';
import type { Permission } from '../../access/permissions.ts';
import type { Principal } from '../../access/principal.ts';
import { asCaller, type Caller, type Reader, readerOf } from '../../access/readers.ts';
import { nameableOnReport, reporterOf } from '../../access/reporting.ts';
import { assignableExists } from '../../access/user-groups.ts';
import { type AccessTime, visibleAmong } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import type { AssigneeType, DB, IncidentsTable, Sensitivity } from '../../db/tables.ts';
import { toCsv } from '../../lib/csv.ts';
import { conflict, HavenError, invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { logRead } from '../audit/access-log.ts';
import { type Change, type ChangeOrigin, runChange, runRead } from '../audit/change.ts';
import { raiseAlerts } from '../notifications/alerts.ts';
import {
  type Delivery,
  queueIncidentNotice,
  queueIncidentNotifications,
} from '../notifications/queue.ts';
import { findSchool } from '../organisations/repository.ts';
import {
  type IncidentRow,
  incidentRows,
  parseUnlistedChild,
  presentIncidents,
  presentRevisions,
} from './presenter.ts';
import type { IncidentFilter, IncidentInput, IncidentPatch, IncidentView } from './schema.ts';

export type { Caller };

export interface RecordsOptions {
  /** How long a passed TOTP step-up lets a session read sensitive records. */
  mfaWindowMs: number;
}

const incidentCursor = z.tuple([z.string(), z.string()]);
const chronologyCursor = z.tuple([z.string(), z.string()]);

export function mfaRequired(): HavenError {
  return new HavenError(
    403,
    'mfa_required',
    'Two-factor check needed',
    'Reading child-protection and allegation records needs a recent two-factor check: POST /api/v1/auth/step-up with a code from your authenticator.',
  );
}

/**
 * The one writer of new records (`incidents`) and the children they name (`incident_students`),
 * inside the caller's change: a concern logged here and a concern an accepted transfer lands at
 * another organisation's school (`modules/transfers`). It writes the rows and nothing else: the
 * audit entry, assignments and notifications are the caller's.
 */
export async function insertIncidentRecord(
  change: Change,
  row: Insertable<IncidentsTable>,
  studentIds: readonly string[],
): Promise<void> {
  await change.db.insertInto('incidents').values(row).execute();
  await insertIncidentStudents(change, row.id, studentIds);
}

async function insertIncidentStudents(
  change: Change,
  incidentId: string,
  studentIds: readonly string[],
): Promise<void> {
  for (const slice of chunks(studentIds))
    await change.db
      .insertInto('incident_students')
      .values(slice.map((s) => ({ incident_id: incidentId, student_id: s })))
      .execute();
}

/** The children a record names, replaced by an edit (its earlier set is in the revision). */
async function replaceIncidentStudents(
  change: Change,
  incidentId: string,
  studentIds: readonly string[],
): Promise<void> {
  await change.db.deleteFrom('incident_students').where('incident_id', '=', incidentId).execute();
  await insertIncidentStudents(change, incidentId, studentIds);
}

/** The record as it stood before a change, kept as a numbered revision with its shape. */
async function keepRevision(
  change: Change,
  row: Selectable<IncidentsTable>,
  studentIds: readonly string[],
): Promise<void> {
  await change.db
    .insertInto('incident_revisions')
    .values({
      incident_id: row.id,
      revision: row.revision,
      snapshot: JSON.stringify({
        categoryId: row.category_id,
        sensitivity: row.sensitivity,
        occurredAt: row.occurred_at,
        location: row.location,
        description: row.description,
        status: row.status,
        subjectUserId: row.subject_user_id,
        studentIds: [...studentIds].sort(),
        unlistedChild: parseUnlistedChild(row.unlisted_child),
        updatedAt: row.updated_at,
      }),
      changed_by: change.origin.userId,
      changed_at: change.now,
      school_id: row.school_id,
      sensitivity: row.sensitivity,
      subject_user_id: row.subject_user_id,
    })
    .execute();
  if (studentIds.length > 0)
    await change.db
      .insertInto('incident_revision_students')
      .values(
        studentIds.map((student_id) => ({
          incident_id: row.id,
          revision: row.revision,
          student_id,
        })),
      )
      .execute();
}

/**
 * Records that move school with a child transferred within the organisation (which ones is the
 * transfer's rule, `modules/transfers`): only the school changes, as before the move was routed
 * here (no revision, no audit entry of its own: the transfer's `transfer.accept` is the entry).
 */
export async function moveIncidentRecords(
  change: Change,
  organisationId: string,
  incidentIds: readonly string[],
  toSchoolId: string,
  because: { transferId: string },
): Promise<void> {
  for (const slice of chunks(incidentIds)) {
    const rows = await change.db
      .selectFrom('incidents')
      .selectAll()
      .where('id', 'in', slice)
      .where('organisation_id', '=', organisationId)
      .execute();
    const children = await change.db
      .selectFrom('incident_students')
      .select(['incident_id', 'student_id'])
      .where('incident_id', 'in', slice)
      .execute();
    for (const row of rows) {
      if (row.school_id === toSchoolId) continue;
      // Where the record was held is part of its history, as with any other change of school.
      const current = children.filter((c) => c.incident_id === row.id).map((c) => c.student_id);
      await keepRevision(change, row, current);
      await change.db
        .updateTable('incidents')
        .set({ school_id: toSchoolId, revision: row.revision + 1, updated_at: change.now })
        .where('id', '=', row.id)
        .execute();
      change.record({
        action: 'incident.update',
        targetType: 'incident',
        targetId: row.id,
        before: { revision: row.revision, schoolId: row.school_id },
        after: { revision: row.revision + 1, schoolId: toSchoolId },
        meta: { transferId: because.transferId },
      });
    }
  }
}

/** An allegation always names the member of staff it is about (on filing and on every edit). */
function requireAllegationSubject(
  sensitivity: Sensitivity | undefined,
  subjectUserId: string | null | undefined,
): void {
  if (sensitivity === 'allegation' && !subjectUserId)
    throw new HavenError(
      400,
      'validation_failed',
      'Invalid request',
      'An allegation names the member of staff it is about',
      { errors: [{ field: 'subjectUserId', message: 'is required for an allegation' }] },
    );
}

function missing(field: string, what: string): HavenError {
  return new HavenError(404, 'not_found', 'Not found', `${what} not found`, { field });
}

/**
 * Concerns: logging, reading, editing (with revisions), deleting, exclusions, assignment and a
 * child's chronology. Who reads what is decided in `src/access/incidents.ts`; records leave
 * through `presenter.ts`.
 */
export class IncidentService {
  constructor(
    private readonly database: Database,
    private readonly options: RecordsOptions,
  ) {}

  get #db(): Kysely<DB> {
    return this.database.db;
  }

  #t(principal: Principal): AccessTime {
    return { organisationId: principal.organisationId };
  }

  /** The caller as the record policies take them; inside a change, pass the change's handle. */
  reader(
    caller: Caller,
    stepUp: 'actual' | 'assume' = 'actual',
    db: Kysely<DB> = this.#db,
  ): Promise<Reader> {
    return readerOf(db, caller, this.options.mfaWindowMs, stepUp);
  }

  /**
   * `find` as the caller reads now; when that finds nothing, as they would after a step-up:
   * 403 `mfa_required` if it finds it then (so the page can ask for the step-up), 404 otherwise.
   * For a record that lives with an incident (its actions, its documents).
   */
  async withStepUp<T>(
    db: Kysely<DB>,
    caller: Caller,
    what: string,
    find: (reader: Reader) => Promise<T | undefined>,
  ): Promise<T> {
    const found = await find(await this.reader(caller, 'actual', db));
    if (found !== undefined) return found;
    if ((await find(await this.reader(caller, 'assume', db))) !== undefined) throw mfaRequired();
    throw notFound(what);
  }

  async #present(caller: Caller, reader: Reader, rows: IncidentRow[], db: Kysely<DB> = this.#db) {
    return presentIncidents(db, this.#t(caller.principal), reader, caller.principal, rows);
  }

  async #row(db: Kysely<DB>, principal: Principal, incidentId: string) {
    return (await incidentRows(db)
      .where('i.id', '=', incidentId)
      .where('i.organisation_id', '=', principal.organisationId)
      .executeTakeFirst()) as IncidentRow | undefined;
  }

  /**
   * The incident if the caller may read it; otherwise 404, or 403 `mfa_required` when only the
   * step-up is missing. Every outcome is in the access log, with the way in that decided it.
   */
  async read(caller: Caller, incidentId: string, origin: ChangeOrigin): Promise<IncidentView> {
    const t = this.#t(caller.principal);
    const reader = await this.reader(caller);
    const found = await readIncident(this.#db, t, reader, incidentId);
    const entry = { action: 'incident.read', targetType: 'incident', targetId: incidentId };
    if (!found) {
      const afterStepUp = await readIncident(
        this.#db,
        t,
        await this.reader(caller, 'assume'),
        incidentId,
      );
      await logRead(this.database, origin, {
        ...entry,
        outcome: afterStepUp ? 'mfa_required' : 'not_found',
      });
      throw afterStepUp ? mfaRequired() : notFound('Incident');
    }
    await logRead(this.database, origin, { ...entry, outcome: 'allowed', path: found.way });
    const row = await this.#row(this.#db, caller.principal, found.id);
    if (!row) throw notFound('Incident');
    return (await this.#present(caller, reader, [row]))[0]!;
  }

  /** Incidents the caller reads, with the list's filters; a filter naming a hidden child is 404. */
  async #filtered(caller: Caller, reader: Reader, filter: IncidentFilter) {
    const db = this.#db;
    const t = this.#t(caller.principal);
    let select = incidentRows(db).where((eb) => incidentReadable(db, eb, t, asCaller(reader)));
    if (filter.schoolId) select = select.where('i.school_id', '=', filter.schoolId);
    if (filter.categoryId) select = select.where('i.category_id', '=', filter.categoryId);
    if (filter.status) select = select.where('i.status', '=', filter.status);
    if (filter.studentId) {
      const studentId = filter.studentId;
      // Asking about a child one cannot see must not confirm which records name them.
      if (!(await visibleAmong(db, t, reader, [studentId])).has(studentId))
        throw notFound('Student');
      select = select.where((eb) =>
        eb.exists(
          db
            .selectFrom('incident_students as f')
            .select('f.student_id')
            .where('f.incident_id', '=', sql.ref<string>('i.id'))
            .where('f.student_id', '=', studentId),
        ),
      );
    }
    if (filter.q) {
      const like = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      select = select.where((eb) =>
        eb.or([
          eb(sql`lower(i.description)`, 'like', sql`${like} escape '\\'`),
          eb(sql`lower(coalesce(i.location, ''))`, 'like', sql`${like} escape '\\'`),
        ]),
      );
    }
    return select;
  }

  /**
   * Newest first; one query for the page, search and cursor included, and one count of the
   * records matching it that only a two-factor step-up would add (`stepUpNeeded`).
   */
  async list(
    caller: Caller,
    query: IncidentFilter & { limit: number; cursor?: string | undefined },
  ) {
    const reader = await this.reader(caller);
    return {
      ...(await this.#page(caller, reader, query)),
      stepUpNeeded: await this.stepUpNeeded(caller, reader, query),
    };
  }

  /** One page of the list as `reader` reads it. */
  async #page(
    caller: Caller,
    reader: Reader,
    query: IncidentFilter & { limit: number; cursor?: string | undefined },
  ) {
    const after = decodeCursor(query.cursor, incidentCursor);
    let select = await this.#filtered(caller, reader, query);
    if (after) {
      select = select.where((eb) =>
        eb.or([
          eb('i.occurred_at', '<', after[0]),
          eb.and([eb('i.occurred_at', '=', after[0]), eb('i.id', '<', after[1])]),
        ]),
      );
    }
    const rows = (await select
      .orderBy('i.occurred_at', 'desc')
      .orderBy('i.id', 'desc')
      .limit(query.limit + 1)
      .execute()) as IncidentRow[];
    const page = toPage(
      rows,
      query.limit,
      (r) => r,
      (r) => [r.occurred_at, r.id],
    );
    return { items: await this.#present(caller, reader, page.items), nextCursor: page.nextCursor };
  }

  async count(
    caller: Caller,
    filter: IncidentFilter,
  ): Promise<{ count: number; stepUpNeeded: number }> {
    const reader = await this.reader(caller);
    const row = await (await this.#filtered(caller, reader, filter))
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return { count: Number(row.n), stepUpNeeded: await this.stepUpNeeded(caller, reader, filter) };
  }

  /**
   * How many incidents matching `filter` the caller would read after a two-factor step-up but
   * cannot now (`reader` is the caller as they read now): one count in SQL, and none at all when
   * the session already reads every school's sensitive records.
   */
  async stepUpNeeded(caller: Caller, reader: Reader, filter: IncidentFilter): Promise<number> {
    if (reader.sensitiveSchools === 'all') return 0;
    const row = await (await this.#filtered(caller, await this.reader(caller, 'assume'), filter))
      .where((eb) => heldBackByStepUp(eb, reader))
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * CSV of every incident the caller may see that matches, children redacted as on screen; the
   * export is logged. `stepUpNeeded`: how many more a two-factor step-up would add (sent beside the
   * file as `X-Haven-Step-Up-Needed`, so an export never looks complete when it is not).
   */
  async exportCsv(
    caller: Caller,
    filter: IncidentFilter,
    origin: ChangeOrigin,
  ): Promise<{ csv: string; stepUpNeeded: number }> {
    const lines: unknown[][] = [
      [
        'id',
        'occurredAt',
        'schoolId',
        'category',
        'sensitivity',
        'status',
        'students',
        'location',
        'description',
        'reporter',
      ],
    ];
    const reader = await this.reader(caller);
    let cursor: string | undefined;
    do {
      const page = await this.#page(caller, reader, { ...filter, limit: 200, cursor });
      for (const i of page.items)
        lines.push([
          i.id,
          i.occurredAt,
          i.schoolId,
          i.category.name,
          i.category.sensitivity,
          i.status,
          i.students.map((s) => (s.redacted ? '(not shown)' : s.name)).join('; '),
          i.location,
          i.description,
          i.reporter.name,
        ]);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const stepUpNeeded = await this.stepUpNeeded(caller, reader, filter);
    await runRead(this.database, origin, async (change) => {
      change.record({
        category: 'access',
        action: 'incident.export',
        targetType: 'incident_list',
        meta: { filter, rows: lines.length - 1, stepUpNeeded },
      });
    });
    return { csv: toCsv(lines), stepUpNeeded };
  }

  /** The school a change names, in the caller's organisation (404 naming the field otherwise). */
  async #school(db: Kysely<DB>, principal: Principal, schoolId: string, field: string) {
    const school = await findSchool(db, principal.organisationId, schoolId);
    if (!school) throw missing(field, 'School');
    return school.id;
  }

  /** A category of the organisation, or of the record's school; its sensitivity. */
  async #category(db: Kysely<DB>, principal: Principal, schoolId: string, categoryId: string) {
    const category = await db
      .selectFrom('categories')
      .select(['sensitivity', 'school_id'])
      .where('id', '=', categoryId)
      .where('organisation_id', '=', principal.organisationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!category || (category.school_id !== null && category.school_id !== schoolId))
      throw missing('categoryId', 'Category');
    return category.sensitivity;
  }

  /** Children named in a change must be children the caller can see. */
  async #requireVisibleStudents(db: Kysely<DB>, reader: Reader, studentIds: readonly string[]) {
    const unique = [...new Set(studentIds)];
    const visible = await visibleAmong(
      db,
      { organisationId: reader.organisationId },
      reader,
      unique,
    );
    if (visible.size !== unique.length) throw missing('studentIds', 'Student');
    return unique;
  }

  /**
   * Children a new report names: any the caller may report about at the record's school, or can
   * see (`src/access/reporting.ts`); anyone else (unknown, blocked, elsewhere) is 404.
   */
  async #requireNameableStudents(db: Kysely<DB>, caller: Caller, input: IncidentInput) {
    const unique = [...new Set(input.studentIds)];
    const nameable = await nameableOnReport(
      db,
      reporterOf(caller.principal),
      await this.reader(caller, 'assume', db),
      input.schoolId,
      unique,
    );
    if (nameable.size !== unique.length) throw missing('studentIds', 'Student');
    return unique;
  }

  async #requireUser(db: Kysely<DB>, principal: Principal, userId: string, field: string) {
    const user = await db
      .selectFrom('users')
      .select('id')
      .where('id', '=', userId)
      .where('organisation_id', '=', principal.organisationId)
      .executeTakeFirst();
    if (!user) throw missing(field, 'User');
  }

  /**
   * Logs a concern, and queues its notifications in the same transaction. The answer is the record
   * as its reporter sees it, with a receipt: when it was saved and how it was passed on.
   */
  async create(
    caller: Caller,
    input: IncidentInput,
    origin: ChangeOrigin,
  ): Promise<
    IncidentView & {
      receipt: { savedAt: string; delivery: Delivery };
      warnings: AssignmentWarning[];
    }
  > {
    const { principal } = caller;
    const { id, receipt, warnings } = await runChange(this.database, origin, async (change) => {
      const db = change.db;
      await this.#school(db, principal, input.schoolId, 'schoolId');
      requirePermission(principal, 'incidents.create', { type: 'school', id: input.schoolId });
      const sensitivity = await this.#category(db, principal, input.schoolId, input.categoryId);
      const studentIds = await this.#requireNameableStudents(db, caller, input);
      if (input.subjectUserId)
        await this.#requireUser(db, principal, input.subjectUserId, 'subjectUserId');
      requireAllegationSubject(sensitivity, input.subjectUserId);
      if (input.assignees?.length)
        requirePermission(principal, 'incidents.assign', { type: 'school', id: input.schoolId });
      const id = newId();
      await insertIncidentRecord(
        change,
        {
          id,
          organisation_id: principal.organisationId,
          school_id: input.schoolId,
          category_id: input.categoryId,
          sensitivity,
          occurred_at: new Date(input.occurredAt).toISOString(),
          location: input.location ?? null,
          description: input.description,
          status: 'open',
          reporter_id: principal.userId,
          subject_user_id: input.subjectUserId ?? null,
          unlisted_child: input.unlistedChild
            ? JSON.stringify({
                name: input.unlistedChild.name,
                note: input.unlistedChild.note ?? null,
              })
            : null,
          revision: 1,
          created_at: change.now,
          updated_at: change.now,
          deleted_at: null,
        },
        studentIds,
      );
      const warnings: AssignmentWarning[] = [];
      for (const a of input.assignees ?? [])
        warnings.push(...(await this.#assign(change, principal, id, a)));
      const escalatedTo = await this.#assignReceiver(change, principal, id, {
        schoolId: input.schoolId,
        sensitivity,
        children: studentIds.length,
        subjectUserId: input.subjectUserId ?? null,
      });
      change.record({
        action: 'incident.create',
        targetType: 'incident',
        targetId: id,
        // The account itself stays out of the audit log: it is read through the access rules.
        after: {
          schoolId: input.schoolId,
          categoryId: input.categoryId,
          studentIds,
          // Whether it names a child not on roll; the name is read through the record's rules.
          unlistedChild: input.unlistedChild !== undefined,
          occurredAt: input.occurredAt,
          subjectUserId: input.subjectUserId ?? null,
        },
      });
      const queued = {
        id,
        organisationId: principal.organisationId,
        schoolId: input.schoolId,
        categoryId: input.categoryId,
      };
      const delivery = await queueIncidentNotifications(change, queued);
      if (escalatedTo) await queueIncidentNotice(change, queued, escalatedTo);
      return { id, receipt: { savedAt: change.now, delivery }, warnings };
    });
    // The record as its reporter sees it (a step-up is not asked of the person who wrote it).
    const row = await this.#row(this.#db, principal, id);
    const view = (await this.#present(caller, await this.reader(caller, 'assume'), [row!]))[0]!;
    return { ...view, receipt, warnings };
  }

  /**
   * The incident for a change: readable by the caller (404), with a passed step-up if it is
   * sensitive (403 `mfa_required`) and the permission at its school (403).
   */
  async #forChange(db: Kysely<DB>, caller: Caller, incidentId: string, permission: Permission) {
    const row = await this.readableForWork(db, caller, incidentId);
    requirePermission(caller.principal, permission, { type: 'school', id: row.school_id });
    return row;
  }

  /**
   * The incident a caller works on (its edits, actions, documents): one they read (404
   * otherwise), with a passed step-up if it is sensitive (403 `mfa_required`, so the page can
   * ask for it). Inside a change, pass the change's handle.
   */
  async readableForWork(db: Kysely<DB>, caller: Caller, incidentId: string) {
    const t = this.#t(caller.principal);
    const assumed = await this.reader(caller, 'assume', db);
    const row = (await incidentRows(db)
      .where('i.id', '=', incidentId)
      .where((eb) => incidentReadable(db, eb, t, asCaller(assumed)))
      .executeTakeFirst()) as IncidentRow | undefined;
    if (!row) throw notFound('Incident');
    if (row.sensitivity !== 'standard') {
      const actual = await this.reader(caller, 'actual', db);
      if (actual.sensitiveSchools !== 'all' && !actual.sensitiveSchools.includes(row.school_id))
        throw mfaRequired();
    }
    return row;
  }

  /**
   * Every edit keeps the incident as it stood before, as a numbered revision. An edit may take
   * the record out of its editor's reach (a DSL hands a concern over as an allegation, which only
   * the allegations clearance reads): it is saved, and answered as `withheld`, not as a 404 that
   * would say nothing happened.
   */
  async update(
    caller: Caller,
    incidentId: string,
    patch: IncidentPatch,
    origin: ChangeOrigin,
  ): Promise<IncidentView | { id: string; revision: number; withheld: true }> {
    await runChange(this.database, origin, (change) =>
      this.updateIn(change, caller, incidentId, patch),
    );
    const t = this.#t(caller.principal);
    if (await readIncident(this.#db, t, await this.reader(caller, 'assume'), incidentId))
      return this.read(caller, incidentId, origin);
    return { id: incidentId, revision: patch.revision + 1, withheld: true };
  }

  /**
   * The edit itself, inside a change (the widening preview runs it in one it rolls back). Children
   * the caller cannot see stay on the record; lowering the sensitivity, removing a child, moving
   * the record, closing a sensitive one or changing an allegation's subject decide who reads it,
   * and need `incidents.reclassify` (Deputy DSL) at its school, and at the school it moves to.
   */
  async updateIn(change: Change, caller: Caller, incidentId: string, patch: IncidentPatch) {
    const db = change.db;
    const { principal } = caller;
    const row = await this.#forChange(db, caller, incidentId, 'incidents.update');
    if (patch.revision !== row.revision)
      throw conflict(
        `The incident has changed since revision ${patch.revision}; reload it`,
        'stale_revision',
      );
    const schoolId =
      patch.schoolId === undefined
        ? row.school_id
        : await this.#school(db, principal, patch.schoolId, 'schoolId');
    const categoryId = patch.categoryId ?? row.category_id;
    if (patch.categoryId === undefined && schoolId !== row.school_id) {
      const current = await db
        .selectFrom('categories')
        .select('school_id')
        .where('id', '=', row.category_id)
        .executeTakeFirst();
      if (current?.school_id !== null && current?.school_id !== schoolId)
        throw invalidField('categoryId', 'choose a category of the school the record moves to');
    }
    const sensitivity = await this.#category(db, principal, schoolId, categoryId);
    const subject = patch.subjectUserId === undefined ? row.subject_user_id : patch.subjectUserId;
    if (patch.subjectUserId)
      await this.#requireUser(db, principal, patch.subjectUserId, 'subjectUserId');
    requireAllegationSubject(sensitivity, subject);

    const current = (
      await db
        .selectFrom('incident_students')
        .select('student_id')
        .where('incident_id', '=', row.id)
        .execute()
    ).map((s) => s.student_id);
    let studentIds = current;
    if (patch.studentIds !== undefined) {
      const reader = await this.reader(caller, 'assume', db);
      const seen = await visibleAmong(db, this.#t(principal), reader, current);
      const named = await this.#requireVisibleStudents(db, reader, patch.studentIds);
      studentIds = [...new Set([...current.filter((id) => !seen.has(id)), ...named])];
      if (studentIds.length === 0 && row.unlisted_child === null)
        throw invalidField('studentIds', 'a concern names at least one child');
    }
    const status = patch.status ?? row.status;
    const decisions = safeguardingDecisions(
      {
        sensitivity: row.sensitivity,
        schoolId: row.school_id,
        status: row.status,
        subjectUserId: row.subject_user_id,
        studentIds: current,
      },
      { sensitivity, schoolId, status, subjectUserId: subject ?? null, studentIds },
    );
    if (decisions.length > 0) {
      requirePermission(principal, 'incidents.reclassify', { type: 'school', id: row.school_id });
      if (schoolId !== row.school_id)
        requirePermission(principal, 'incidents.reclassify', { type: 'school', id: schoolId });
    }

    await keepRevision(change, row, current);
    await db
      .updateTable('incidents')
      .set({
        school_id: schoolId,
        category_id: categoryId,
        sensitivity,
        ...(patch.occurredAt !== undefined
          ? { occurred_at: new Date(patch.occurredAt).toISOString() }
          : {}),
        ...(patch.location !== undefined ? { location: patch.location } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        status,
        subject_user_id: subject ?? null,
        revision: row.revision + 1,
        updated_at: change.now,
      })
      .where('id', '=', row.id)
      .execute();
    const childrenChanged =
      studentIds.length !== current.length || studentIds.some((id) => !current.includes(id));
    if (childrenChanged) await replaceIncidentStudents(change, row.id, studentIds);
    const { revision: _r, description: _d, location: _l, studentIds: _s, ...fields } = patch;
    change.record({
      action: 'incident.update',
      targetType: 'incident',
      targetId: row.id,
      before: {
        revision: row.revision,
        ...(childrenChanged ? { studentIds: [...current].sort() } : {}),
      },
      after: {
        revision: row.revision + 1,
        ...fields,
        ...(childrenChanged ? { studentIds: [...studentIds].sort() } : {}),
        ...(patch.description !== undefined ? { description: 'changed' } : {}),
        ...(patch.location !== undefined ? { location: 'changed' } : {}),
      },
      ...(decisions.length > 0 ? { meta: { safeguardingDecisions: decisions } } : {}),
    });
  }

  /** Earlier versions, newest first, each as the caller could read a record of its shape. */
  async revisions(caller: Caller, incidentId: string, origin: ChangeOrigin) {
    await this.read(caller, incidentId, origin);
    const t = this.#t(caller.principal);
    const reader = await this.reader(caller);
    const readable = await readableRevisions(this.#db, t, reader, incidentId);
    return { items: await presentRevisions(this.#db, t, reader, incidentId, readable) };
  }

  async remove(caller: Caller, incidentId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const row = await this.#forChange(change.db, caller, incidentId, 'incidents.delete');
      await change.db
        .updateTable('incidents')
        .set({ deleted_at: change.now })
        .where('id', '=', row.id)
        .execute();
      change.record({ action: 'incident.delete', targetType: 'incident', targetId: row.id });
    });
  }

  /** Replaces the exclusion list: the users named never see the incident, whatever else holds. */
  async setExclusions(caller: Caller, incidentId: string, userIds: string[], origin: ChangeOrigin) {
    return runChange(this.database, origin, async (change) => {
      const row = await this.#forChange(
        change.db,
        caller,
        incidentId,
        'incidents.exclusions.manage',
      );
      const unique = [...new Set(userIds)];
      if (unique.length > 0) {
        const found = await change.db
          .selectFrom('users')
          .select('id')
          .where('id', 'in', unique)
          .where('organisation_id', '=', caller.principal.organisationId)
          .execute();
        if (found.length !== unique.length) throw missing('userIds', 'User');
      }
      const before = await change.db
        .selectFrom('incident_exclusions')
        .select('user_id')
        .where('incident_id', '=', row.id)
        .orderBy('user_id')
        .execute();
      await change.db.deleteFrom('incident_exclusions').where('incident_id', '=', row.id).execute();
      if (unique.length > 0)
        await change.db
          .insertInto('incident_exclusions')
          .values(unique.map((u) => ({ incident_id: row.id, user_id: u })))
          .execute();
      change.record({
        action: 'incident.exclusions',
        targetType: 'incident',
        targetId: row.id,
        before: { userIds: before.map((b) => b.user_id) },
        after: { userIds: unique.sort() },
      });
      return { userIds: unique };
    });
  }

  async exclusions(caller: Caller, incidentId: string) {
    await this.#forChange(this.#db, caller, incidentId, 'incidents.exclusions.manage');
    const rows = await this.#db
      .selectFrom('incident_exclusions as x')
      .innerJoin('users as u', 'u.id', 'x.user_id')
      .select(['u.id', 'u.name'])
      .where('x.incident_id', '=', incidentId)
      .orderBy('u.name')
      .execute();
    return { items: rows };
  }

  async addAssignee(
    caller: Caller,
    incidentId: string,
    a: { type: AssigneeType; id: string },
    origin: ChangeOrigin,
  ) {
    const warnings = await runChange(this.database, origin, (change) =>
      this.assignIn(change, caller, incidentId, a),
    );
    return { ...(await this.read(caller, incidentId, origin)), warnings };
  }

  /**
   * An assignment inside a change (the widening preview runs it in one it rolls back), with its
   * warnings: who among the assignees cannot read the record even so.
   */
  async assignIn(
    change: Change,
    caller: Caller,
    incidentId: string,
    a: { type: AssigneeType; id: string },
  ): Promise<AssignmentWarning[]> {
    const row = await this.#forChange(change.db, caller, incidentId, 'incidents.assign');
    return this.#assign(change, caller.principal, row.id, a);
  }

  /**
   * Gives the record to a person or a group: refused for a person blocked from one of its
   * children; answers who among them still cannot read it (`src/access/assignments.ts`).
   */
  async #assign(
    change: Change,
    principal: Principal,
    incidentId: string,
    a: { type: AssigneeType; id: string },
  ): Promise<AssignmentWarning[]> {
    const found = await assignableExists(change.db, principal, a);
    if (!found) throw missing('id', a.type === 'user' ? 'User' : 'User group');
    const t = this.#t(principal);
    await requireUnblockedAssignee(change.db, t, incidentId, a);
    const existing = await change.db
      .selectFrom('incident_assignees')
      .select('assignee_id')
      .where('incident_id', '=', incidentId)
      .where('assignee_type', '=', a.type)
      .where('assignee_id', '=', a.id)
      .executeTakeFirst();
    if (existing) return assignmentWarnings(change.db, t, incidentId, a);
    await change.db
      .insertInto('incident_assignees')
      .values({
        incident_id: incidentId,
        assignee_type: a.type,
        assignee_id: a.id,
        assigned_by: principal.userId,
        assigned_at: change.now,
      })
      .execute();
    await raiseAlerts(change, principal.organisationId, [
      { kind: 'incident_assigned', to: a, incidentId },
    ]);
    change.record({
      action: 'incident.assign',
      targetType: 'incident',
      targetId: incidentId,
      after: { assignee: a },
    });
    return assignmentWarnings(change.db, t, incidentId, a);
  }

  /**
   * No report goes unseen (spec section 4, "Reporting"): an allegation is assigned to the school's
   * Allegations group, and a report naming no child on roll to its Safeguarding Team, in the
   * report's own transaction, by Haven itself (no assigner, no assignment alert: those told of a
   * new concern are told by its notifications). A school whose group was deleted hands the report
   * to the organisation's first Owner instead; so does an allegation about the allegations
   * manager, whom the record is hidden from, when nobody else is in the group. Answers the Owner
   * it was handed to that way, who is told at once whatever the category's rules say.
   */
  async #assignReceiver(
    change: Change,
    principal: Principal,
    incidentId: string,
    report: {
      schoolId: string;
      sensitivity: Sensitivity;
      children: number;
      subjectUserId: string | null;
    },
  ): Promise<string | undefined> {
    const key =
      report.sensitivity === 'allegation'
        ? `allegations:${report.schoolId}`
        : report.children === 0
          ? `safeguarding_team:${report.schoolId}`
          : null;
    if (key === null) return undefined;
    const reason = key.split(':')[0];
    const group = await change.db
      .selectFrom('user_groups')
      .select('id')
      .where('organisation_id', '=', principal.organisationId)
      .where('system_key', '=', key)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (group)
      await this.#assignByHaven(change, incidentId, { type: 'user_group', id: group.id }, reason);
    // Someone in the group other than the allegation's subject, who never reads it.
    const someoneElse =
      group &&
      (await change.db
        .selectFrom('user_group_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select('m.user_id')
        .where('m.user_group_id', '=', group.id)
        .where('m.valid_to', 'is', null)
        .where('u.disabled_at', 'is', null)
        .where('u.removed_at', 'is', null)
        .$if(report.subjectUserId !== null, (q) =>
          q.where('m.user_id', '!=', report.subjectUserId!),
        )
        .executeTakeFirst());
    if (someoneElse) return undefined;
    const owner = await firstOwnerId(
      change.db,
      principal.organisationId,
      report.subjectUserId ?? undefined,
    );
    if (!owner) return undefined;
    await this.#assignByHaven(change, incidentId, { type: 'user', id: owner }, reason);
    return owner;
  }

  async #assignByHaven(
    change: Change,
    incidentId: string,
    receiver: { type: AssigneeType; id: string },
    reason: string | undefined,
  ) {
    const existing = await change.db
      .selectFrom('incident_assignees')
      .select('assignee_id')
      .where('incident_id', '=', incidentId)
      .where('assignee_type', '=', receiver.type)
      .where('assignee_id', '=', receiver.id)
      .executeTakeFirst();
    if (existing) return;
    await change.db
      .insertInto('incident_assignees')
      .values({
        incident_id: incidentId,
        assignee_type: receiver.type,
        assignee_id: receiver.id,
        assigned_by: null,
        assigned_at: change.now,
      })
      .execute();
    change.record({
      action: 'incident.assign',
      targetType: 'incident',
      targetId: incidentId,
      after: { assignee: receiver, by: 'haven', reason },
    });
  }

  /**
   * A child's chronology: every incident about them and every action on those incidents that
   * the caller may see, newest first, in one query (incidents and actions merged by time).
   */
  async chronology(
    caller: Caller,
    studentId: string,
    query: { limit: number; cursor?: string | undefined },
  ) {
    const db = this.#db;
    const t = this.#t(caller.principal);
    const reader = await this.reader(caller);
    if (!(await visibleAmong(db, t, reader, [studentId])).has(studentId)) throw notFound('Student');
    const after = decodeCursor(query.cursor, chronologyCursor);
    const incidents = db
      .selectFrom('incidents as i')
      .innerJoin('incident_students as is', 'is.incident_id', 'i.id')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .where('is.student_id', '=', studentId)
      .where((eb) => incidentReadable(db, eb, t, asCaller(reader)));
    const entries = incidents
      .select([
        sql<string>`'incident'`.as('type'),
        'i.occurred_at as at',
        'i.id as id',
        'i.id as incident_id',
        'c.name as title',
        sql<string>`i.status`.as('detail'),
      ])
      .unionAll(
        incidents
          .innerJoin('actions as a', 'a.incident_id', 'i.id')
          .where('a.deleted_at', 'is', null)
          .select([
            sql<string>`'action'`.as('type'),
            sql<string>`coalesce(a.completed_at, a.created_at)`.as('at'),
            'a.id as id',
            'i.id as incident_id',
            'a.title as title',
            sql<string>`case when a.completed_at is null then 'open' else 'completed' end`.as(
              'detail',
            ),
          ]),
      );
    let select = db.selectFrom(entries.as('e')).selectAll('e');
    if (after)
      select = select.where((eb) =>
        eb.or([
          eb('e.at', '<', after[0]),
          eb.and([eb('e.at', '=', after[0]), eb('e.id', '<', after[1])]),
        ]),
      );
    const rows = await select
      .orderBy('e.at', 'desc')
      .orderBy('e.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = toPage(
      rows,
      query.limit,
      (r) => ({
        type: r.type as 'incident' | 'action',
        at: r.at,
        id: r.id,
        incidentId: r.incident_id,
        title: r.title,
        detail: r.detail,
      }),
      (r) => [r.at, r.id],
    );
    // Its incidents that only a step-up would add (their actions with them): the list's count.
    return { ...page, stepUpNeeded: await this.stepUpNeeded(caller, reader, { studentId }) };
  }
}
