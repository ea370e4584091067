import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import { schoolsWith } from './decide.ts';
import type { Principal } from './principal.ts';
import {
  type AccessTime,
  heldBlocks,
  holdsRoleAt,
  studentVisibleTo,
  userLive,
  type Viewer,
} from './visibility.ts';

/**
 * Who may report about which child (spec section 4, "Reporting"). Anyone holding a role at a
 * school (`incidents.create`, Viewer) may name any child on roll there, except a child they are
 * blocked from. Reporting shows a child's names, year group and school, and nothing else: it is
 * not a way to see the child (section 3), and the report is read by its reporter only as its
 * reporter (section 4).
 */

/** The caller as a reporter: who they are, and the schools where they may log a concern. */
export interface Reporter {
  userId: string;
  organisationId: string;
  schools: 'all' | readonly string[];
}

export function reporterOf(principal: Principal): Reporter {
  return {
    userId: principal.userId,
    organisationId: principal.organisationId,
    schools: schoolsWith(principal, 'incidents.create'),
  };
}

type StudentsEb = ExpressionBuilder<DB & { s: DB['students'] }, 's'>;
type UsersEb = ExpressionBuilder<DB & { u: DB['users'] }, 'u'>;

/**
 * The condition on `students as s`: the reporter may report about this child (at `atSchool`,
 * when given): live and on roll at a school where they hold a role, and not blocked for them.
 */
export function reportableStudent(
  db: Kysely<DB>,
  eb: StudentsEb,
  reporter: Reporter,
  atSchool?: string,
): Expression<SqlBool> {
  const t: AccessTime = { organisationId: reporter.organisationId };
  const conditions: Expression<SqlBool>[] = [
    eb('s.organisation_id', '=', reporter.organisationId),
    eb('s.deleted_at', 'is', null),
    eb('s.on_roll', '=', 1),
  ];
  if (reporter.schools !== 'all')
    conditions.push(
      reporter.schools.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb('s.school_id', 'in', [...reporter.schools]),
    );
  if (atSchool !== undefined) conditions.push(eb('s.school_id', '=', atSchool));
  conditions.push(
    eb.not(
      eb.exists(
        heldBlocks(db, t, { user: reporter.userId, student: sql.ref<string>('s.id') }).select(
          'b.id',
        ),
      ),
    ),
  );
  return eb.and(conditions);
}

/**
 * Of these children, those a new report at `schoolId` may name: any child the reporter may
 * report about at that school, and (as before reporting was opened to everyone) any child they
 * can see, such as a former pupil the safeguarding team still follows. One query.
 */
export async function nameableOnReport(
  db: Kysely<DB>,
  reporter: Reporter,
  viewer: Viewer,
  schoolId: string,
  studentIds: readonly string[],
): Promise<Set<string>> {
  const unique = [...new Set(studentIds)];
  if (unique.length === 0) return new Set();
  const t: AccessTime = { organisationId: reporter.organisationId };
  const rows = await db
    .selectFrom('students as s')
    .select('s.id')
    .where('s.id', 'in', unique)
    .where((eb) =>
      eb.or([reportableStudent(db, eb, reporter, schoolId), studentVisibleTo(db, eb, t, viewer)]),
    )
    .execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * The condition on `users as u`: staff an allegation at the school may name. Live users of the
 * organisation holding a role whose scope covers the school (directly or through a group).
 */
export function reportableStaff(
  db: Kysely<DB>,
  eb: UsersEb,
  organisationId: string,
  schoolId: string,
): Expression<SqlBool> {
  return eb.and([
    eb('u.organisation_id', '=', organisationId),
    userLive(eb, undefined),
    holdsRoleAt(db, eb, { organisationId }, sql.ref<string>('u.id'), schoolId),
  ]);
}
