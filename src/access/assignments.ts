import { type Kysely, sql } from 'kysely';
import type { AssigneeType, DB } from '../db/tables.ts';
import { HavenError } from '../lib/errors.ts';
import { heldAt } from './history.ts';
import { incidentReaders, userReads } from './incidents.ts';
import { type AccessTime, userLive } from './visibility.ts';

/**
 * Giving a record or an action to someone (issue 12, item 7), asked of the record policy itself:
 *  - a person blocked from any child on the record is never made responsible for it (refused);
 *  - a person, or members of a group, who would not read the record (an exclusion, being an
 *    allegation's subject, no clearance or no path to the children for an action, no role) are
 *    warned about: the assignment is saved, and they will not see it or its alert.
 * Asked inside the change, after the assignment is written, so an incident assignment (itself a
 * way in) is judged as it will stand.
 */

export interface Assignee {
  type: AssigneeType;
  id: string;
}

export type AssignmentWarning =
  | { code: 'assignee_cannot_read'; assignee: Assignee; detail: string }
  | {
      code: 'assignee_cannot_read';
      assignee: Assignee;
      detail: string;
      /** The group's live members, and how many of them cannot read the record. */
      members: number;
      cannotRead: number;
      /** Only the first `judgedMembers` were asked: `cannotRead` is "at least". */
      partial: boolean;
    };

/**
 * Members of a group asked about in one assignment. A trust's "All staff" of many thousands is
 * judged on its first members by id and the warning says "at least", so an assignment never takes
 * long (nor holds its transaction open) for the sake of a count.
 */
export const judgedMembers = 10_000;

export function assigneeBlocked(): HavenError {
  return new HavenError(
    409,
    'assignee_blocked',
    'Conflict',
    'This person is blocked from a child on this record, so it cannot be given to them. Nothing was changed.',
    { field: 'assignee.id' },
  );
}

/** Refuses (409 `assignee_blocked`) a person blocked from any child on the record. */
export async function requireUnblockedAssignee(
  db: Kysely<DB>,
  t: AccessTime,
  incidentId: string,
  assignee: Assignee,
): Promise<void> {
  if (assignee.type !== 'user') return;
  const block = await db
    .selectFrom('blocks as b')
    .select('b.id')
    .where('b.organisation_id', '=', t.organisationId)
    .where('b.user_id', '=', assignee.id)
    .where('b.student_id', 'in', (eb) =>
      eb
        .selectFrom('incident_students as is')
        .select('is.student_id')
        .where('is.incident_id', '=', incidentId),
    )
    .where((eb) => heldAt(eb, 'b', t.asOf))
    .executeTakeFirst();
  if (block) throw assigneeBlocked();
}

/** Who among the assignee would not read the record, by the record policy (`userReads`). */
export async function assignmentWarnings(
  db: Kysely<DB>,
  t: AccessTime,
  incidentId: string,
  assignee: Assignee,
): Promise<AssignmentWarning[]> {
  if (assignee.type === 'user') {
    const reads = await incidentReaders(db, t, [incidentId], [assignee.id]);
    if (reads.length > 0) return [];
    return [
      {
        code: 'assignee_cannot_read',
        assignee,
        detail:
          'This person cannot read the record (an exclusion, no clearance for its sensitivity, no access to its children, or no role), so they will not see it or be told of it.',
      },
    ];
  }
  // A group of any size: its live members counted, and the policy asked in SQL of each of the
  // first `judgedMembers` (by id), in one query; beyond that the count is "at least".
  const live = db
    .selectFrom('user_group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .where('m.user_group_id', '=', assignee.id)
    .where('m.organisation_id', '=', t.organisationId)
    .where((eb) => heldAt(eb, 'm', t.asOf))
    .where((eb) => userLive(eb as never, t.asOf));
  const [total, judged] = await Promise.all([
    live.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db
      .selectFrom([
        'incidents as i',
        live.select('m.user_id').orderBy('m.user_id').limit(judgedMembers).as('g'),
      ])
      .innerJoin('users as u', 'u.id', 'g.user_id')
      .where('i.id', '=', incidentId)
      .where('i.organisation_id', '=', t.organisationId)
      .select((eb) =>
        eb.fn
          .countAll<number>()
          .filterWhere((eb2) => eb2.not(userReads(db, eb2, t, sql.ref<string>('u.id'))))
          .as('n'),
      )
      .executeTakeFirstOrThrow(),
  ]);
  const members = Number(total.n);
  const cannotRead = Number(judged.n);
  if (cannotRead === 0) return [];
  const partial = members > judgedMembers;
  return [
    {
      code: 'assignee_cannot_read',
      assignee,
      detail: `${partial ? 'At least ' : ''}${cannotRead} of the group's ${members} members cannot read the record, so they will not see it or be told of it.`,
      members,
      cannotRead,
      partial,
    },
  ];
}
