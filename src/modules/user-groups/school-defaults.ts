import { newId } from '../../lib/ids.ts';
import type { Change } from '../audit/change.ts';
import { addStudentGroup } from '../student-groups/service.ts';
import { addUserGroup } from './service.ts';

/**
 * What every new school starts with (spec section 3): its "All students" group, and a
 * Safeguarding Team linked to it, holding the child_protection clearance, with the Owner who
 * created the school as its first member. The team is also linked to the school's former
 * students, so a child's safeguarding history stays with the DSL after the child leaves.
 */
export async function createSchoolDefaults(
  change: Change,
  school: { id: string; name: string; organisationId: string; creatorUserId: string | null },
): Promise<void> {
  const allStudents = await addStudentGroup(change, school.organisationId, {
    name: `All students (${school.name})`,
    description: `Every student on roll at ${school.name}.`,
    schoolId: school.id,
    kind: 'all',
    systemKey: `all_students:${school.id}`,
  });
  change.record({
    action: 'student_group.create',
    targetType: 'student_group',
    targetId: allStudents.id,
    after: { name: allStudents.name, schoolId: school.id, kind: 'all' },
  });
  const formerStudents = await addStudentGroup(change, school.organisationId, {
    name: `Former students (${school.name})`,
    description: `Students of ${school.name} who are no longer on roll.`,
    schoolId: school.id,
    kind: 'rule',
    rule: { field: 'onRoll', op: 'eq', value: false },
    systemKey: `former_students:${school.id}`,
  });
  change.record({
    action: 'student_group.create',
    targetType: 'student_group',
    targetId: formerStudents.id,
    after: {
      name: formerStudents.name,
      schoolId: school.id,
      kind: 'rule',
      rule: { field: 'onRoll', op: 'eq', value: false },
    },
  });
  const team = await addUserGroup(change, school.organisationId, {
    name: `Safeguarding Team (${school.name})`,
    description: `The DSL and deputies of ${school.name}.`,
    rationale:
      'Designated safeguarding leads need to see every child at the school and child-protection records.',
    systemKey: `safeguarding_team:${school.id}`,
    // Administered by the school's own Admins (spec section 5).
    homeScope: { type: 'school', id: school.id },
  });
  const linkIds = [newId(), newId()];
  await change.db
    .insertInto('student_links')
    .values(
      [allStudents.id, formerStudents.id].map((studentGroupId, i) => ({
        id: linkIds[i]!,
        organisation_id: school.organisationId,
        user_group_id: team.id,
        user_id: null,
        student_group_id: studentGroupId,
        student_id: null,
        created_by: school.creatorUserId,
        removed_by: null,
        valid_from: change.now,
        valid_to: null,
      })),
    )
    .execute();
  await change.db
    .insertInto('user_group_clearances')
    .values({
      id: newId(),
      organisation_id: school.organisationId,
      user_group_id: team.id,
      clearance: 'child_protection',
      valid_from: change.now,
      valid_to: null,
    })
    .execute();
  if (school.creatorUserId) {
    await change.db
      .insertInto('user_group_members')
      .values({
        organisation_id: school.organisationId,
        user_group_id: team.id,
        user_id: school.creatorUserId,
        valid_from: change.now,
        valid_to: null,
      })
      .execute();
    await change.db
      .updateTable('user_groups')
      .set({ member_count: 1 })
      .where('id', '=', team.id)
      .execute();
  }
  change.record({
    action: 'user_group.defaults',
    targetType: 'user_group',
    targetId: team.id,
    after: {
      links: [
        { linkId: linkIds[0], studentGroupId: allStudents.id },
        { linkId: linkIds[1], studentGroupId: formerStudents.id },
      ],
      clearances: ['child_protection'],
      members: school.creatorUserId ? [school.creatorUserId] : [],
    },
  });
}
