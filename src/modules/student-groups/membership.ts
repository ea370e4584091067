import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { chunks, textValue, timeValue } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';
import type { Change } from '../audit/change.ts';
import { mentionsOnRoll, type Rule, ruleCondition } from './rules.ts';

/** A group whose members Haven keeps itself: every student on roll (`all`) or those a rule matches. */
export interface AutomaticGroup {
  id: string;
  organisationId: string;
  schoolId: string | null;
  rule: Rule | null;
}

type StudentsEb = ExpressionBuilder<DB & { s: DB['students'] }, 's'>;

/**
 * Which students belong in an automatic group: live, in its school, matching its rule, and on
 * roll unless the rule itself speaks of being on roll.
 */
export function belongs(eb: StudentsEb, group: Omit<AutomaticGroup, 'id'>): Expression<SqlBool> {
  // A school implies its organisation; naming only the school keeps SQLite on the school's index
  // even before it has statistics (a fresh database, mid-import).
  return eb.and([
    group.schoolId
      ? eb('s.school_id', '=', group.schoolId)
      : eb('s.organisation_id', '=', group.organisationId),
    eb('s.deleted_at', 'is', null),
    matchesRule(eb, group.rule),
  ]);
}

/**
 * What an automatic group asks of a live student of its school (or organisation): its rule, and
 * being on roll unless the rule speaks of it. `belongs` is this within the group's school.
 */
export function matchesRule(eb: StudentsEb, rule: Rule | null): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (!rule || !mentionsOnRoll(rule)) conditions.push(eb('s.on_roll', '=', 1));
  if (rule) conditions.push(ruleCondition(eb, rule));
  return eb.and(conditions);
}

/**
 * Ends current memberships. A membership that began in this same change never held and is
 * removed instead, so that re-adding within one change cannot collide with it.
 */
export async function endStudentGroupMemberships(
  change: Change,
  groupId: string,
  restrict: (eb: ExpressionBuilder<DB, 'student_group_members'>) => Expression<SqlBool>,
): Promise<number> {
  const db = change.db;
  const dropped = await db
    .deleteFrom('student_group_members')
    .where('student_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .where('valid_from', '=', change.now)
    .where(restrict)
    .executeTakeFirst();
  const closed = await db
    .updateTable('student_group_members')
    .set({ valid_to: change.now })
    .where('student_group_id', '=', groupId)
    .where('valid_to', 'is', null)
    .where(restrict)
    .executeTakeFirst();
  return Number(dropped.numDeletedRows) + Number(closed.numUpdatedRows);
}

export async function recountStudentGroup(change: Change, groupId: string): Promise<void> {
  await change.db
    .updateTable('student_groups')
    .set((eb) => ({
      member_count: eb
        .selectFrom('student_group_members as c')
        .select((eb2) => eb2.fn.countAll<number>().as('n'))
        .where('c.student_group_id', '=', groupId)
        .where('c.valid_to', 'is', null),
    }))
    .where('id', '=', groupId)
    .execute();
}

/**
 * Brings an automatic group's membership in line with its definition, set-based: members who
 * no longer belong leave, students who now belong join. `onlyStudents` limits it to some students.
 */
export async function refreshAutomaticGroup(
  change: Change,
  group: AutomaticGroup,
  onlyStudents?: readonly string[] | 'created_in_this_change',
): Promise<{ joined: number; left: number }> {
  const db = change.db;
  const matching = db
    .selectFrom('students as s')
    .select('s.id')
    .where((eb) => belongs(eb, group))
    .$if(Array.isArray(onlyStudents), (q) => q.where('s.id', 'in', onlyStudents as string[]))
    .$if(onlyStudents === 'created_in_this_change', (q) =>
      q.where('s.created_at', '=', change.now),
    );

  // Students created in this change have no memberships yet, so none can end.
  const left =
    onlyStudents === 'created_in_this_change'
      ? 0
      : await endStudentGroupMemberships(change, group.id, (eb) =>
          eb.and([
            ...(onlyStudents ? [eb('student_id', 'in', onlyStudents as string[])] : []),
            eb('student_id', 'not in', matching),
          ]),
        );

  const inserted = await db
    .insertInto('student_group_members')
    .columns(['organisation_id', 'student_group_id', 'student_id', 'valid_from'])
    .expression(
      matching
        .clearSelect()
        .select([
          textValue(group.organisationId).as('organisation_id'),
          textValue(group.id).as('student_group_id'),
          's.id as student_id',
          timeValue(change.engine, change.now).as('valid_from'),
        ])
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('student_group_members as c')
                .select('c.student_id')
                .where('c.student_group_id', '=', group.id)
                .whereRef('c.student_id', '=', 's.id')
                .where('c.valid_to', 'is', null),
            ),
          ),
        ),
    )
    .executeTakeFirst();
  const joined = Number(inserted.numInsertedOrUpdatedRows ?? 0n);
  if (joined > 0 || left > 0) await recountStudentGroup(change, group.id);
  return { joined, left };
}

/**
 * After students were created, changed or deleted: every automatic group they might enter or
 * leave is refreshed for them, in the same transaction. No manual step.
 */
export async function syncStudentsIntoGroups(
  change: Change,
  organisationId: string,
  studentIds: readonly string[],
): Promise<void> {
  for (const slice of chunks(studentIds)) {
    const groups = await change.db
      .selectFrom('student_groups as g')
      .select(['g.id', 'g.school_id', 'g.rule'])
      .where('g.organisation_id', '=', organisationId)
      .where('g.kind', 'in', ['all', 'rule'])
      .where('g.deleted_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('g.school_id', 'is', null),
          eb(
            'g.school_id',
            'in',
            eb.selectFrom('students as s').select('s.school_id').where('s.id', 'in', slice),
          ),
          eb(
            'g.id',
            'in',
            eb
              .selectFrom('student_group_members as c')
              .select('c.student_group_id')
              .where('c.student_id', 'in', slice)
              .where('c.valid_to', 'is', null),
          ),
        ]),
      )
      .execute();
    for (const g of groups) {
      await refreshAutomaticGroup(
        change,
        {
          id: g.id,
          organisationId,
          schoolId: g.school_id,
          rule: g.rule ? (JSON.parse(g.rule) as Rule) : null,
        },
        slice,
      );
    }
  }
}

/**
 * After a large import: every automatic group of the organisation takes in the students created
 * in this change, one set-based statement per group rather than one per slice of students.
 */
export async function syncNewStudentsIntoGroups(
  change: Change,
  organisationId: string,
): Promise<void> {
  const groups = await change.db
    .selectFrom('student_groups as g')
    .select(['g.id', 'g.school_id', 'g.rule'])
    .where('g.organisation_id', '=', organisationId)
    .where('g.kind', 'in', ['all', 'rule'])
    .where('g.deleted_at', 'is', null)
    .execute();
  for (const g of groups) {
    await refreshAutomaticGroup(
      change,
      {
        id: g.id,
        organisationId,
        schoolId: g.school_id,
        rule: g.rule ? (JSON.parse(g.rule) as Rule) : null,
      },
      'created_in_this_change',
    );
  }
}
