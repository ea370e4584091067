import type { Clearance } from '../../access/clearances.ts';
import { firstOwnerId } from '../../access/owners.ts';
import { newId } from '../../lib/ids.ts';
import type { Change } from '../audit/change.ts';
import { addStudentGroup } from '../student-groups/service.ts';
import { addUserGroup } from './service.ts';

/**
 * What every new school starts with (spec section 3): its "All students" group, and a
 * Safeguarding Team linked to it, holding the child_protection clearance, with the Owner who
 * created the school as its first member. The team is also linked to the school's former
 * students, so a child's safeguarding history stays with the DSL after the child leaves. And its
 * Allegations group, with the allegations manager as its one member (see `addAllegationsGroup`).
 */
export async function createSchoolDefaults(
  change: Change,
  school: {
    id: string;
    name: string;
    organisationId: string;
    creatorUserId: string | null;
    allegationsManagerId?: string | null;
  },
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
  const linkIds = await equip(change, school, team.id, {
    studentGroupIds: [allStudents.id, formerStudents.id],
    rationale: team.rationale,
    clearance: 'child_protection',
    memberId: school.creatorUserId,
  });
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
  // The manager named when the school was created, or else the organisation's first Owner.
  const manager =
    school.allegationsManagerId !== undefined
      ? school.allegationsManagerId
      : ((await firstOwnerId(change.db, school.organisationId)) ?? null);
  await addAllegationsGroup(change, school, allStudents.id, manager);
}

/**
 * A school's "Allegations" group (spec section 4: allegations against staff are never unseen):
 * homed at the school, holding the `allegations` clearance, linked to the school's "All students"
 * group, with the allegations manager as its one member. Haven assigns every allegation logged
 * at the school to it. Migration 0011 made the same group for the schools that existed before.
 */
export async function addAllegationsGroup(
  change: Change,
  school: { id: string; name: string; organisationId: string; creatorUserId: string | null },
  allStudentsId: string,
  managerId: string | null,
): Promise<void> {
  const group = await addUserGroup(change, school.organisationId, {
    name: `Allegations (${school.name})`,
    description: `The allegations manager of ${school.name}.`,
    rationale:
      'Allegations against staff are read by the allegations manager, so that none goes unseen.',
    systemKey: `allegations:${school.id}`,
    homeScope: { type: 'school', id: school.id },
  });
  const [linkId] = await equip(change, school, group.id, {
    studentGroupIds: [allStudentsId],
    rationale: group.rationale,
    clearance: 'allegations',
    memberId: managerId,
  });
  change.record({
    action: 'user_group.defaults',
    targetType: 'user_group',
    targetId: group.id,
    after: {
      links: [{ linkId, studentGroupId: allStudentsId }],
      clearances: ['allegations'],
      members: managerId ? [managerId] : [],
      allegationsManager: managerId,
    },
  });
}

/**
 * What a school's own group holds from the start: links to its student groups, one clearance and
 * at most one member. Answers the links' ids, in the order of `studentGroupIds`. Haven makes these
 * links itself, so each keeps the group's own rationale as the reason its "All students" link
 * would otherwise need confirmed.
 */
async function equip(
  change: Change,
  school: { organisationId: string; creatorUserId: string | null },
  groupId: string,
  holds: {
    studentGroupIds: string[];
    rationale: string;
    clearance: Clearance;
    memberId: string | null;
  },
): Promise<string[]> {
  const linkIds = holds.studentGroupIds.map(() => newId());
  await change.db
    .insertInto('student_links')
    .values(
      holds.studentGroupIds.map((studentGroupId, i) => ({
        id: linkIds[i]!,
        organisation_id: school.organisationId,
        user_group_id: groupId,
        user_id: null,
        student_group_id: studentGroupId,
        student_id: null,
        created_by: school.creatorUserId,
        removed_by: null,
        rationale: holds.rationale,
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
      user_group_id: groupId,
      clearance: holds.clearance,
      valid_from: change.now,
      valid_to: null,
    })
    .execute();
  if (holds.memberId) {
    await change.db
      .insertInto('user_group_members')
      .values({
        organisation_id: school.organisationId,
        user_group_id: groupId,
        user_id: holds.memberId,
        valid_from: change.now,
        valid_to: null,
      })
      .execute();
    await change.db
      .updateTable('user_groups')
      .set({ member_count: 1 })
      .where('id', '=', groupId)
      .execute();
  }
  return linkIds;
}
