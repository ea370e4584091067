import { type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { requirePermission } from '../../access/decide.ts';
import { incidentReadable } from '../../access/incidents.ts';
import type { Principal } from '../../access/principal.ts';
import { asCaller, type Caller, readerOf } from '../../access/readers.ts';
import { reportableStaff, reportableStudent, reporterOf } from '../../access/reporting.ts';
import { heldBlocks } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB, Sensitivity } from '../../db/tables.ts';
import { HavenError } from '../../lib/errors.ts';
import { decodeCursor, type Page, toPage } from '../../lib/pagination.ts';
import { type ChangeOrigin, runRead } from '../audit/change.ts';
import { parseUnlistedChild } from '../incidents/presenter.ts';
import { findSchool } from '../organisations/repository.ts';
import { searchTokens } from '../students/names.ts';
import { applyStudentFilter } from '../students/repository.ts';
import { likeContains } from '../users/repository.ts';

const studentCursor = z.tuple([z.string(), z.string(), z.string()]);
const reportCursor = z.tuple([z.string(), z.string()]);

/**
 * The word starts a word of the child's given or family name (split as `nameTokens` splits them),
 * on a query over `students as s`.
 */
function startsAShownName(word: string) {
  const words = sql`' ' || replace(replace(replace(s.given_key || ' ' || s.family_key, '-', ' '), '''', ' '), '’', ' ')`;
  const pattern = `% ${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`${words} like ${pattern} escape '\\'`;
}

/** How many staff the allegation picker offers at once: type more of the name to narrow it. */
export const STAFF_PICKER_LIMIT = 50;

export interface ReportableStudent {
  id: string;
  givenName: string;
  familyName: string;
  yearGroup: number | null;
  schoolId: string;
}

export interface MyReport {
  id: string;
  categoryName: string;
  sensitivity: Sensitivity;
  createdAt: string;
  status: 'open' | 'in_progress' | 'closed';
  studentNames: string[];
}

/**
 * Reporting about any child (spec section 4, "Reporting"): the pickers of "Log a concern" (any
 * child on roll where the caller holds a role; staff an allegation may name) and the caller's own
 * reports. Who may be named is decided in `src/access/reporting.ts`; what a reporter reads of
 * their reports, by the incident policy.
 */
export class ReportingService {
  constructor(
    private readonly database: Database,
    private readonly options: { mfaWindowMs: number },
  ) {}

  get #db(): Kysely<DB> {
    return this.database.db;
  }

  /** The school a picker is asked about: in the caller's organisation (404), where they may report (403). */
  async #schoolToReportAt(principal: Principal, schoolId: string) {
    const school = await findSchool(this.#db, principal.organisationId, schoolId);
    if (!school)
      throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
        field: 'schoolId',
      });
    requirePermission(principal, 'incidents.create', { type: 'school', id: school.id });
  }

  /**
   * Children the caller may report about, by family name: names, year group and school only. One
   * query per page, search and cursor included; each search is written to the access log with
   * what was asked, never with what was found.
   */
  async students(
    principal: Principal,
    query: {
      q?: string | undefined;
      schoolId?: string | undefined;
      limit: number;
      cursor?: string;
    },
    origin: ChangeOrigin,
  ): Promise<Page<ReportableStudent>> {
    if (query.schoolId !== undefined) await this.#schoolToReportAt(principal, query.schoolId);
    const after = decodeCursor(query.cursor, studentCursor);
    const db = this.#db;
    const reporter = reporterOf(principal);
    let select = applyStudentFilter(
      db
        .selectFrom('students as s')
        .select([
          's.id',
          's.given_name',
          's.family_name',
          's.year_group',
          's.school_id',
          's.family_key',
          's.given_key',
        ])
        .where((eb) => reportableStudent(db, eb, reporter)),
      { q: query.q, schoolId: query.schoolId },
    );
    // The search index also holds preferred names and UPNs, which the picker does not show: each
    // word must also start a word of the names shown, so no search confirms what is not shown.
    for (const word of searchTokens(query.q)) select = select.where(startsAShownName(word));
    if (after)
      select = select.where(({ eb, refTuple, tuple }) =>
        eb(
          refTuple('s.family_key', 's.given_key', 's.id'),
          '>',
          tuple(after[0], after[1], after[2]),
        ),
      );
    const rows = await select
      .orderBy('s.family_key')
      .orderBy('s.given_key')
      .orderBy('s.id')
      .limit(query.limit + 1)
      .execute();
    await runRead(this.database, origin, async (change) => {
      change.record({
        category: 'access',
        action: 'student.report_search',
        targetType: 'student_list',
        meta: { q: query.q ?? null, schoolId: query.schoolId ?? null },
      });
    });
    return toPage(
      rows,
      query.limit,
      (r) => ({
        id: r.id,
        givenName: r.given_name,
        familyName: r.family_name,
        yearGroup: r.year_group,
        schoolId: r.school_id,
      }),
      (r) => [r.family_key, r.given_key, r.id],
    );
  }

  /**
   * Staff an allegation at the school may name, by name: live users holding a role there, the
   * caller left out. At most `STAFF_PICKER_LIMIT`; `q` narrows by any part of the name.
   */
  async staff(
    principal: Principal,
    query: { q?: string | undefined; schoolId: string },
  ): Promise<{ items: { id: string; name: string }[] }> {
    await this.#schoolToReportAt(principal, query.schoolId);
    const db = this.#db;
    let select = db
      .selectFrom('users as u')
      .select(['u.id', 'u.name'])
      .where((eb) => reportableStaff(db, eb, principal.organisationId, query.schoolId))
      .where('u.id', '!=', principal.userId);
    if (query.q)
      select = select.where(sql`lower(u.name)`, 'like', sql`${likeContains(query.q)} escape '\\'`);
    const rows = await select.orderBy('u.name').orderBy('u.id').limit(STAFF_PICKER_LIMIT).execute();
    return { items: rows.map((r) => ({ id: r.id, name: r.name })) };
  }

  /**
   * The caller's own reports, newest first: those the record policy lets them read as their
   * reporter, with the step-up assumed (they wrote them, and no account is shown). Each names the
   * children the reporter named that are still on it and that they are not blocked from, and the
   * child not on roll they named.
   */
  async mine(
    caller: Caller,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<MyReport>> {
    const db = this.#db;
    const { principal } = caller;
    const t = { organisationId: principal.organisationId };
    const reader = await readerOf(db, caller, this.options.mfaWindowMs, 'assume');
    const after = decodeCursor(query.cursor, reportCursor);
    let select = db
      .selectFrom('incidents as i')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .select([
        'i.id',
        'i.created_at',
        'i.status',
        'i.sensitivity',
        'i.unlisted_child',
        'c.name as category_name',
      ])
      .where('i.reporter_id', '=', principal.userId)
      .where((eb) => incidentReadable(db, eb, t, asCaller(reader)));
    if (after)
      select = select.where((eb) =>
        eb.or([
          eb('i.created_at', '<', after[0]),
          eb.and([eb('i.created_at', '=', after[0]), eb('i.id', '<', after[1])]),
        ]),
      );
    const rows = await select
      .orderBy('i.created_at', 'desc')
      .orderBy('i.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = toPage(
      rows,
      query.limit,
      (r) => r,
      (r) => [r.created_at, r.id],
    );
    const names = await this.#namedByReporter(
      db,
      t,
      principal.userId,
      page.items.map((r) => r.id),
    );
    return {
      items: page.items.map((r) => {
        const unlisted = parseUnlistedChild(r.unlisted_child);
        return {
          id: r.id,
          categoryName: r.category_name,
          sensitivity: r.sensitivity,
          createdAt: r.created_at,
          status: r.status,
          studentNames: [...(names.get(r.id) ?? []), ...(unlisted ? [unlisted.name] : [])],
        };
      }),
      nextCursor: page.nextCursor,
    };
  }

  /**
   * The names of the children each report's reporter named (its first version's children, which
   * are its children until an edit keeps that version as revision 1) that are still on it, less
   * any child the reporter is blocked from.
   */
  async #namedByReporter(
    db: Kysely<DB>,
    t: { organisationId: string },
    userId: string,
    incidentIds: string[],
  ): Promise<Map<string, string[]>> {
    const names = new Map<string, string[]>();
    if (incidentIds.length === 0) return names;
    const rows = await db
      .selectFrom('incident_students as is')
      .innerJoin('students as s', 's.id', 'is.student_id')
      .select(['is.incident_id', 's.given_name', 's.family_name'])
      .where('is.incident_id', 'in', incidentIds)
      .where('s.deleted_at', 'is', null)
      .where((eb) =>
        eb.not(
          eb.exists(
            heldBlocks(db, t, { user: userId, student: sql.ref<string>('s.id') }).select('b.id'),
          ),
        ),
      )
      .where((eb) =>
        eb.or([
          eb.not(
            eb.exists(
              eb
                .selectFrom('incident_revisions as r')
                .select('r.revision')
                .whereRef('r.incident_id', '=', 'is.incident_id')
                .where('r.revision', '=', 1),
            ),
          ),
          eb.exists(
            eb
              .selectFrom('incident_revision_students as rs')
              .select('rs.student_id')
              .whereRef('rs.incident_id', '=', 'is.incident_id')
              .where('rs.revision', '=', 1)
              .whereRef('rs.student_id', '=', 'is.student_id'),
          ),
        ]),
      )
      .orderBy('s.family_key')
      .orderBy('s.given_key')
      .orderBy('s.id')
      .execute();
    for (const r of rows)
      names.set(r.incident_id, [
        ...(names.get(r.incident_id) ?? []),
        `${r.given_name} ${r.family_name}`,
      ]);
    return names;
  }
}
