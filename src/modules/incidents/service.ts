import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Clearance } from '../../access/clearances.ts';
import { can, requirePermission, viewerOf } from '../../access/decide.ts';
import type { Permission } from '../../access/permissions.ts';
import type { Principal } from '../../access/principal.ts';
import { incidentVisibleTo, type RecordViewer, visibleAmong } from '../../access/records.ts';
import { type AccessTime, accessPaths } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { AssigneeType, DB, IncidentsTable, Sensitivity } from '../../db/tables.ts';
import { toCsv } from '../../lib/csv.ts';
import { conflict, HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { logRead } from '../audit/access-log.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import type { IncidentFilter, IncidentInput, IncidentPatch, IncidentView } from './schema.ts';

/** Who is asking, with what their session proves (the TOTP step-up). */
export interface Caller {
  principal: Principal;
  mfaAt: string | null;
}

export interface RecordsOptions {
  /** How long a passed TOTP step-up lets a session read sensitive records. */
  mfaWindowMs: number;
}

type IncidentRow = IncidentsTable & {
  category_name: string;
  category_school_id: string | null;
  reporter_name: string;
};

const incidentCursor = z.tuple([z.string(), z.string()]);
const chronologyCursor = z.tuple([z.string(), z.string()]);

/** A school's setting: reading sensitive records needs a fresh TOTP step-up (default on). */
export function requiresStepUp(settings: string): boolean {
  const parsed = JSON.parse(settings) as { requireMfaForSensitive?: boolean };
  return parsed.requireMfaForSensitive !== false;
}

export function mfaRequired(): HavenError {
  return new HavenError(
    403,
    'mfa_required',
    'Two-factor check needed',
    'Reading child-protection and allegation records needs a recent two-factor check: POST /api/v1/auth/step-up with a code from your authenticator.',
  );
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

  /** The caller as the record filter needs them; `stepUp: 'assume'` asks what they could read after a step-up. */
  async viewer(
    caller: Caller,
    stepUp: 'actual' | 'assume' = 'actual',
    db: Kysely<DB> = this.#db,
  ): Promise<RecordViewer> {
    const { principal } = caller;
    const fresh =
      stepUp === 'assume' ||
      (caller.mfaAt !== null &&
        Date.now() - new Date(caller.mfaAt).getTime() <= this.options.mfaWindowMs);
    let sensitiveSchools: RecordViewer['sensitiveSchools'] = 'all';
    if (!fresh) {
      // Inside a change, the change's own transaction (SQLite has one connection).
      const schools = await db
        .selectFrom('schools')
        .select(['id', 'settings'])
        .where('organisation_id', '=', principal.organisationId)
        .execute();
      sensitiveSchools = schools.filter((s) => !requiresStepUp(s.settings)).map((s) => s.id);
    }
    return {
      ...viewerOf(principal),
      clearances: [...principal.clearances] as Clearance[],
      sensitiveSchools,
    };
  }

  #select(db: Kysely<DB> = this.#db) {
    return db
      .selectFrom('incidents as i')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .innerJoin('users as r', 'r.id', 'i.reporter_id')
      .selectAll('i')
      .select([
        'c.name as category_name',
        'c.school_id as category_school_id',
        'r.name as reporter_name',
      ]);
  }

  async #findVisible(caller: Caller, incidentId: string, viewer?: RecordViewer) {
    const v = viewer ?? (await this.viewer(caller));
    return this.#select()
      .where('i.id', '=', incidentId)
      .where((eb) => incidentVisibleTo(this.#db, eb, this.#t(caller.principal), v))
      .executeTakeFirst() as Promise<IncidentRow | undefined>;
  }

  /**
   * The incident if the caller may read it; otherwise 404, or 403 `mfa_required` when only the
   * step-up is missing. Every outcome is written to the access log with the path that decided it.
   */
  async read(caller: Caller, incidentId: string, origin: ChangeOrigin): Promise<IncidentView> {
    const row = await this.#findVisible(caller, incidentId);
    if (!row) {
      const afterStepUp = await this.#findVisible(
        caller,
        incidentId,
        await this.viewer(caller, 'assume'),
      );
      const error = afterStepUp ? mfaRequired() : notFound('Incident');
      await logRead(this.database, origin, {
        action: 'incident.read',
        targetType: 'incident',
        targetId: incidentId,
        outcome: afterStepUp ? 'mfa_required' : 'not_found',
      });
      throw error;
    }
    const path = await this.pathTo(caller.principal, row);
    await logRead(this.database, origin, {
      action: 'incident.read',
      targetType: 'incident',
      targetId: incidentId,
      outcome: 'allowed',
      path,
    });
    return (await this.#present(caller, [row]))[0]!;
  }

  /** Which rule of section 4 lets the caller in: reporter, assignee, assigned group, or a child's path. */
  async pathTo(principal: Principal, row: { id: string; reporter_id: string }) {
    const user = principal.userId;
    if (row.reporter_id === user) return { kind: 'reporter' };
    const assigned = await this.#db
      .selectFrom('incident_assignees as a')
      .leftJoin('user_groups as g', 'g.id', 'a.assignee_id')
      .leftJoin('user_group_members as m', (join) =>
        join
          .onRef('m.user_group_id', '=', 'a.assignee_id')
          .on('m.user_id', '=', user)
          .on('m.valid_to', 'is', null),
      )
      .select(['a.assignee_type', 'a.assignee_id', 'g.name', 'm.user_id'])
      .where('a.incident_id', '=', row.id)
      .execute();
    if (assigned.some((a) => a.assignee_type === 'user' && a.assignee_id === user))
      return { kind: 'assignee' };
    const group = assigned.find((a) => a.assignee_type === 'user_group' && a.user_id === user);
    if (group) return { kind: 'assigned_group', userGroupId: group.assignee_id, name: group.name };
    const involved = await this.#db
      .selectFrom('incident_students')
      .select('student_id')
      .where('incident_id', '=', row.id)
      .execute();
    const t = this.#t(principal);
    const visible = await visibleAmong(
      this.#db,
      t,
      viewerOf(principal),
      involved.map((s) => s.student_id),
    );
    const [studentId] = [...visible];
    if (!studentId) return { kind: 'unknown' };
    const via = await this.#db
      .selectFrom(accessPaths(this.#db, t, { user, student: studentId }).as('p'))
      .selectAll('p')
      .limit(1)
      .executeTakeFirst();
    return { kind: 'student', studentId, via: via ?? null };
  }

  async #present(caller: Caller, rows: IncidentRow[]): Promise<IncidentView[]> {
    if (rows.length === 0) return [];
    const db = this.#db;
    const ids = rows.map((r) => r.id);
    const [students, assignees] = await Promise.all([
      db
        .selectFrom('incident_students as is')
        .innerJoin('students as s', 's.id', 'is.student_id')
        .select(['is.incident_id', 's.id', 's.given_name', 's.family_name', 's.preferred_name'])
        .where('is.incident_id', 'in', ids)
        .orderBy('s.family_key')
        .orderBy('s.given_key')
        .execute(),
      db
        .selectFrom('incident_assignees as a')
        .leftJoin('users as u', (j) =>
          j.onRef('u.id', '=', 'a.assignee_id').on('a.assignee_type', '=', 'user'),
        )
        .leftJoin('user_groups as g', (j) =>
          j.onRef('g.id', '=', 'a.assignee_id').on('a.assignee_type', '=', 'user_group'),
        )
        .select([
          'a.incident_id',
          'a.assignee_type',
          'a.assignee_id',
          'u.name as user_name',
          'g.name as group_name',
        ])
        .where('a.incident_id', 'in', ids)
        .orderBy('a.assigned_at')
        .execute(),
    ]);
    const visible = await visibleAmong(db, this.#t(caller.principal), viewerOf(caller.principal), [
      ...new Set(students.map((s) => s.id)),
    ]);
    const p = caller.principal;
    return rows.map((row) => {
      const school = { type: 'school' as const, id: row.school_id };
      return {
        id: row.id,
        schoolId: row.school_id,
        category: {
          id: row.category_id,
          schoolId: row.category_school_id,
          name: row.category_name,
          sensitivity: row.sensitivity,
        },
        occurredAt: row.occurred_at,
        location: row.location,
        description: row.description,
        status: row.status,
        reporter: { id: row.reporter_id, name: row.reporter_name },
        subjectUserId: row.subject_user_id,
        students: students
          .filter((s) => s.incident_id === row.id)
          .map((s) =>
            visible.has(s.id)
              ? {
                  redacted: false as const,
                  id: s.id,
                  name: `${s.preferred_name ?? s.given_name} ${s.family_name}`,
                }
              : { redacted: true as const },
          ),
        assignees: assignees
          .filter((a) => a.incident_id === row.id)
          .map((a) => ({
            type: a.assignee_type,
            id: a.assignee_id,
            name: a.user_name ?? a.group_name ?? '',
          })),
        revision: row.revision,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        abilities: {
          update: can(p, 'incidents.update', school),
          delete: can(p, 'incidents.delete', school),
          manageExclusions: can(p, 'incidents.exclusions.manage', school),
          assign: can(p, 'incidents.assign', school),
          addActions: can(p, 'actions.create', school),
        },
      };
    });
  }

  #filtered(caller: Caller, viewer: RecordViewer, filter: IncidentFilter) {
    const db = this.#db;
    let select = this.#select().where((eb) =>
      incidentVisibleTo(db, eb, this.#t(caller.principal), viewer),
    );
    if (filter.schoolId) select = select.where('i.school_id', '=', filter.schoolId);
    if (filter.categoryId) select = select.where('i.category_id', '=', filter.categoryId);
    if (filter.status) select = select.where('i.status', '=', filter.status);
    if (filter.studentId) {
      const studentId = filter.studentId;
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

  /** Newest first; one query for the page, search and cursor included. */
  async list(
    caller: Caller,
    query: IncidentFilter & { limit: number; cursor?: string | undefined },
  ) {
    const after = decodeCursor(query.cursor, incidentCursor);
    let select = this.#filtered(caller, await this.viewer(caller), query);
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
    return { items: await this.#present(caller, page.items), nextCursor: page.nextCursor };
  }

  async count(caller: Caller, filter: IncidentFilter): Promise<number> {
    const row = await this.#filtered(caller, await this.viewer(caller), filter)
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** CSV of every incident the caller may see that matches, children redacted as on screen; the export is logged. */
  async exportCsv(caller: Caller, filter: IncidentFilter, origin: ChangeOrigin): Promise<string> {
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
    let cursor: string | undefined;
    do {
      const page = await this.list(caller, { ...filter, limit: 200, cursor });
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
    await runChange(this.database, origin, async (change) => {
      change.record({
        category: 'access',
        action: 'incident.export',
        targetType: 'incident_list',
        meta: { filter, rows: lines.length - 1 },
      });
    });
    return toCsv(lines);
  }

  /** Checks a change's references: the category (the organisation's or the school's), students, subject. */
  async #validate(
    change: Change,
    principal: Principal,
    schoolId: string,
    input: {
      categoryId?: string | undefined;
      studentIds?: string[] | undefined;
      subjectUserId?: string | null | undefined;
    },
  ): Promise<{ sensitivity?: Sensitivity }> {
    const db = change.db;
    const org = principal.organisationId;
    let sensitivity: Sensitivity | undefined;
    if (input.categoryId !== undefined) {
      const category = await db
        .selectFrom('categories')
        .select(['sensitivity', 'school_id'])
        .where('id', '=', input.categoryId)
        .where('organisation_id', '=', org)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (!category || (category.school_id !== null && category.school_id !== schoolId))
        throw new HavenError(404, 'not_found', 'Not found', 'Category not found', {
          field: 'categoryId',
        });
      sensitivity = category.sensitivity;
    }
    if (input.studentIds !== undefined) {
      const unique = [...new Set(input.studentIds)];
      const visible = await visibleAmong(db, this.#t(principal), viewerOf(principal), unique);
      if (visible.size !== unique.length)
        throw new HavenError(404, 'not_found', 'Not found', 'Student not found', {
          field: 'studentIds',
        });
    }
    if (input.subjectUserId) {
      const user = await db
        .selectFrom('users')
        .select('id')
        .where('id', '=', input.subjectUserId)
        .where('organisation_id', '=', org)
        .executeTakeFirst();
      if (!user)
        throw new HavenError(404, 'not_found', 'Not found', 'User not found', {
          field: 'subjectUserId',
        });
    }
    return sensitivity === undefined ? {} : { sensitivity };
  }

  async create(caller: Caller, input: IncidentInput, origin: ChangeOrigin): Promise<IncidentView> {
    const { principal } = caller;
    const id = await runChange(this.database, origin, async (change) => {
      const school = await change.db
        .selectFrom('schools')
        .select('id')
        .where('id', '=', input.schoolId)
        .where('organisation_id', '=', principal.organisationId)
        .executeTakeFirst();
      if (!school)
        throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
          field: 'schoolId',
        });
      requirePermission(principal, 'incidents.create', { type: 'school', id: input.schoolId });
      const { sensitivity } = await this.#validate(change, principal, input.schoolId, input);
      requireAllegationSubject(sensitivity, input.subjectUserId);
      if (input.assignees?.length)
        requirePermission(principal, 'incidents.assign', { type: 'school', id: input.schoolId });
      const id = newId();
      await change.db
        .insertInto('incidents')
        .values({
          id,
          organisation_id: principal.organisationId,
          school_id: input.schoolId,
          category_id: input.categoryId,
          sensitivity: sensitivity!,
          occurred_at: new Date(input.occurredAt).toISOString(),
          location: input.location ?? null,
          description: input.description,
          status: 'open',
          reporter_id: principal.userId,
          subject_user_id: input.subjectUserId ?? null,
          revision: 1,
          created_at: change.now,
          updated_at: change.now,
          deleted_at: null,
        })
        .execute();
      await change.db
        .insertInto('incident_students')
        .values([...new Set(input.studentIds)].map((s) => ({ incident_id: id, student_id: s })))
        .execute();
      for (const a of input.assignees ?? []) await this.#assign(change, principal, id, a);
      change.record({
        action: 'incident.create',
        targetType: 'incident',
        targetId: id,
        // The account itself stays out of the audit log: it is read through the access rules.
        after: {
          schoolId: input.schoolId,
          categoryId: input.categoryId,
          studentIds: [...new Set(input.studentIds)],
          occurredAt: input.occurredAt,
          subjectUserId: input.subjectUserId ?? null,
        },
      });
      return id;
    });
    const row = await this.#findVisible(caller, id, await this.viewer(caller, 'assume'));
    return (await this.#present(caller, [row!]))[0]!;
  }

  /** The incident for a change: visible to the caller (404), with the permission at its school (403). */
  async #forChange(db: Kysely<DB>, caller: Caller, incidentId: string, permission: Permission) {
    const row = (await this.#select(db)
      .where('i.id', '=', incidentId)
      .where((eb) =>
        incidentVisibleTo(db, eb, this.#t(caller.principal), {
          ...viewerOf(caller.principal),
          clearances: [...caller.principal.clearances] as Clearance[],
          sensitiveSchools: 'all',
        }),
      )
      .executeTakeFirst()) as IncidentRow | undefined;
    if (!row) throw notFound('Incident');
    if (row.sensitivity !== 'standard') {
      const viewer = await this.viewer(caller, 'actual', db);
      if (viewer.sensitiveSchools !== 'all' && !viewer.sensitiveSchools.includes(row.school_id))
        throw mfaRequired();
    }
    requirePermission(caller.principal, permission, { type: 'school', id: row.school_id });
    return row;
  }

  async #snapshot(change: Change, row: IncidentRow) {
    const students = await change.db
      .selectFrom('incident_students')
      .select('student_id')
      .where('incident_id', '=', row.id)
      .orderBy('student_id')
      .execute();
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
          studentIds: students.map((s) => s.student_id),
          updatedAt: row.updated_at,
        }),
        changed_by: change.origin.userId,
        changed_at: change.now,
      })
      .execute();
  }

  /** Every edit keeps the incident as it stood before, as a numbered revision. */
  async update(caller: Caller, incidentId: string, patch: IncidentPatch, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const row = await this.#forChange(change.db, caller, incidentId, 'incidents.update');
      if (patch.revision !== row.revision)
        throw conflict(
          `The incident has changed since revision ${patch.revision}; reload it`,
          'stale_revision',
        );
      const { sensitivity } = await this.#validate(change, caller.principal, row.school_id, patch);
      const nextSensitivity = sensitivity ?? row.sensitivity;
      const subject = patch.subjectUserId === undefined ? row.subject_user_id : patch.subjectUserId;
      requireAllegationSubject(nextSensitivity, subject);
      await this.#snapshot(change, row);
      await change.db
        .updateTable('incidents')
        .set({
          ...(patch.categoryId !== undefined
            ? { category_id: patch.categoryId, sensitivity: nextSensitivity }
            : {}),
          ...(patch.occurredAt !== undefined
            ? { occurred_at: new Date(patch.occurredAt).toISOString() }
            : {}),
          ...(patch.location !== undefined ? { location: patch.location } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          ...(patch.subjectUserId !== undefined ? { subject_user_id: patch.subjectUserId } : {}),
          revision: row.revision + 1,
          updated_at: change.now,
        })
        .where('id', '=', row.id)
        .execute();
      if (patch.studentIds !== undefined) {
        await change.db.deleteFrom('incident_students').where('incident_id', '=', row.id).execute();
        await change.db
          .insertInto('incident_students')
          .values(
            [...new Set(patch.studentIds)].map((s) => ({ incident_id: row.id, student_id: s })),
          )
          .execute();
      }
      const { revision: _r, description: _d, location: _l, ...fields } = patch;
      change.record({
        action: 'incident.update',
        targetType: 'incident',
        targetId: row.id,
        before: { revision: row.revision },
        after: {
          revision: row.revision + 1,
          ...fields,
          ...(patch.description !== undefined ? { description: 'changed' } : {}),
          ...(patch.location !== undefined ? { location: 'changed' } : {}),
        },
      });
    });
    return this.read(caller, incidentId, origin);
  }

  async revisions(caller: Caller, incidentId: string, origin: ChangeOrigin) {
    await this.read(caller, incidentId, origin);
    const rows = await this.#db
      .selectFrom('incident_revisions as r')
      .leftJoin('users as u', 'u.id', 'r.changed_by')
      .select(['r.revision', 'r.snapshot', 'r.changed_at', 'r.changed_by', 'u.name'])
      .where('r.incident_id', '=', incidentId)
      .orderBy('r.revision', 'desc')
      .execute();
    return {
      items: rows.map((r) => ({
        revision: r.revision,
        replacedAt: r.changed_at,
        replacedBy: r.changed_by ? { id: r.changed_by, name: r.name ?? '' } : null,
        incident: JSON.parse(r.snapshot) as Record<string, unknown>,
      })),
    };
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
        if (found.length !== unique.length)
          throw new HavenError(404, 'not_found', 'Not found', 'User not found', {
            field: 'userIds',
          });
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
    await runChange(this.database, origin, async (change) => {
      const row = await this.#forChange(change.db, caller, incidentId, 'incidents.assign');
      await this.#assign(change, caller.principal, row.id, a);
    });
    return this.read(caller, incidentId, origin);
  }

  async #assign(
    change: Change,
    principal: Principal,
    incidentId: string,
    a: { type: AssigneeType; id: string },
  ) {
    const table = a.type === 'user' ? 'users' : 'user_groups';
    const found = await change.db
      .selectFrom(table)
      .select('id')
      .where('id', '=', a.id)
      .where('organisation_id', '=', principal.organisationId)
      .executeTakeFirst();
    if (!found)
      throw new HavenError(
        404,
        'not_found',
        'Not found',
        a.type === 'user' ? 'User not found' : 'User group not found',
        {
          field: 'id',
        },
      );
    const existing = await change.db
      .selectFrom('incident_assignees')
      .select('assignee_id')
      .where('incident_id', '=', incidentId)
      .where('assignee_type', '=', a.type)
      .where('assignee_id', '=', a.id)
      .executeTakeFirst();
    if (existing) return;
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
    await change.db
      .insertInto('alerts')
      .values({
        id: newId(),
        organisation_id: principal.organisationId,
        recipient_type: a.type,
        recipient_id: a.id,
        kind: 'incident_assigned',
        incident_id: incidentId,
        action_id: null,
        created_at: change.now,
      })
      .execute();
    change.record({
      action: 'incident.assign',
      targetType: 'incident',
      targetId: incidentId,
      after: { assignee: a },
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
    const visible = await visibleAmong(db, t, viewerOf(caller.principal), [studentId]);
    if (!visible.has(studentId)) throw notFound('Student');
    const viewer = await this.viewer(caller);
    const after = decodeCursor(query.cursor, chronologyCursor);
    const incidents = db
      .selectFrom('incidents as i')
      .innerJoin('incident_students as is', 'is.incident_id', 'i.id')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .where('is.student_id', '=', studentId)
      .where((eb) => incidentVisibleTo(db, eb, t, viewer));
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
    return toPage(
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
  }
}
