import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { DB, Sensitivity } from '../db/tables.ts';
import type { Clearance } from './clearances.ts';
import { heldAt } from './history.ts';
import { type AccessTime, studentVisibleTo, type Viewer } from './visibility.ts';

/** The clearance each sensitivity requires on the student path (spec section 4). */
export const clearanceFor: Record<Sensitivity, Clearance | null> = {
  standard: null,
  child_protection: 'child_protection',
  allegation: 'allegations',
};

/** The caller as the record filter needs them. */
export interface RecordViewer extends Viewer {
  clearances: readonly Clearance[];
  /**
   * Schools where the caller may read child-protection and allegation records right now:
   * those that do not require the TOTP step-up, or all of them once the session passed it.
   */
  sensitiveSchools: 'all' | readonly string[];
}

type IncidentBuilder = ExpressionBuilder<DB & { i: DB['incidents'] }, 'i'>;

/** Involved students of `i` that the viewer can see. */
function visibleInvolved(db: Kysely<DB>, t: AccessTime, viewer: Viewer) {
  return db
    .selectFrom('incident_students as is')
    .innerJoin('students as s', 's.id', 'is.student_id')
    .select('is.student_id')
    .where('is.incident_id', '=', sql.ref<string>('i.id'))
    .where((eb) => studentVisibleTo(db, eb, t, viewer));
}

/**
 * The visibility filter for a query over `incidents as i` (spec section 4): every incident list,
 * search, count, chronology and export goes through this one expression.
 */
export function incidentVisibleTo(
  db: Kysely<DB>,
  eb: IncidentBuilder,
  t: AccessTime,
  viewer: RecordViewer,
): Expression<SqlBool> {
  const user = viewer.userId;
  const cleared = (['child_protection', 'allegation'] as const).filter((s) =>
    viewer.clearances.includes(clearanceFor[s]!),
  );
  const sensitiveReadable =
    viewer.sensitiveSchools === 'all'
      ? sql<SqlBool>`1 = 1`
      : viewer.sensitiveSchools.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb('i.school_id', 'in', [...viewer.sensitiveSchools]);

  return eb.and([
    eb('i.organisation_id', '=', t.organisationId),
    eb('i.deleted_at', 'is', null),
    // Step-up: sensitive records need a session that passed TOTP where the school asks for it.
    eb.or([eb('i.sensitivity', '=', 'standard'), sensitiveReadable]),
    // Denials, which win over every way in.
    eb.not(
      eb.exists(
        db
          .selectFrom('incident_exclusions as x')
          .select('x.user_id')
          .where('x.incident_id', '=', sql.ref<string>('i.id'))
          .where('x.user_id', '=', user),
      ),
    ),
    eb.not(eb.and([eb('i.sensitivity', '=', 'allegation'), eb('i.subject_user_id', '=', user)])),
    // Blocked from every involved child they could otherwise see: a block on an involved child,
    // and no involved child left that they see.
    eb.not(
      eb.and([
        eb.exists(
          db
            .selectFrom('incident_students as is')
            .innerJoin('blocks as b', 'b.student_id', 'is.student_id')
            .select('b.id')
            .where('is.incident_id', '=', sql.ref<string>('i.id'))
            .where('b.user_id', '=', user)
            .where((eb2) => heldAt(eb2, 'b', t.asOf)),
        ),
        eb.not(eb.exists(visibleInvolved(db, t, viewer))),
      ]),
    ),
    // The ways in.
    eb.or([
      eb('i.reporter_id', '=', user),
      eb.exists(
        db
          .selectFrom('incident_assignees as a')
          .select('a.assignee_id')
          .where('a.incident_id', '=', sql.ref<string>('i.id'))
          .where('a.assignee_type', '=', 'user')
          .where('a.assignee_id', '=', user),
      ),
      eb.exists(
        db
          .selectFrom('incident_assignees as a')
          .innerJoin('user_group_members as m', 'm.user_group_id', 'a.assignee_id')
          .select('a.assignee_id')
          .where('a.incident_id', '=', sql.ref<string>('i.id'))
          .where('a.assignee_type', '=', 'user_group')
          .where('m.user_id', '=', user)
          .where((eb2) => heldAt(eb2, 'm', t.asOf)),
      ),
      eb.and([
        eb.or([
          eb('i.sensitivity', '=', 'standard'),
          ...(cleared.length > 0 ? [eb('i.sensitivity', 'in', cleared)] : []),
        ]),
        eb.exists(visibleInvolved(db, t, viewer)),
      ]),
    ]),
  ]);
}

/** Of the given students, those the viewer can see: everyone else is redacted on the page. */
export async function visibleAmong(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  studentIds: readonly string[],
): Promise<Set<string>> {
  if (studentIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('students as s')
    .select('s.id')
    .where('s.id', 'in', [...studentIds])
    .where((eb) => studentVisibleTo(db, eb, t, viewer))
    .execute();
  return new Set(rows.map((r) => r.id));
}
