import type { Kysely } from 'kysely';
import { runPrepared } from '../db/prepared.ts';
import type { DB } from '../db/tables.ts';
import { laterOf } from '../lib/time.ts';
import { heldAt } from './history.ts';

/** Clearances for sensitive records (spec section 4), granted to user groups. */
export const clearances = ['child_protection', 'allegations'] as const;
export type Clearance = (typeof clearances)[number];

export interface HeldClearance {
  clearance: Clearance;
  source: { type: 'user_group'; userGroupId: string; userGroupName: string };
  since: string;
}

/** The clearances a user holds at T through the groups they belong to, each with its group. */
export async function loadHeldClearances(
  db: Kysely<DB>,
  organisationId: string,
  userId: string,
  asOf?: string,
): Promise<HeldClearance[]> {
  const rows = await runPrepared(
    db,
    `principal.clearances|${asOf === undefined ? 'now' : 'asOf'}`,
    (p) => {
      const at = asOf === undefined ? undefined : p.value('asOf');
      return db
        .selectFrom('user_group_clearances as c')
        .innerJoin('user_group_members as m', 'm.user_group_id', 'c.user_group_id')
        .innerJoin('user_groups as g', 'g.id', 'c.user_group_id')
        .select([
          'c.clearance',
          'c.user_group_id',
          'g.name',
          'c.valid_from',
          'm.valid_from as member_since',
        ])
        .where('c.organisation_id', '=', p.value('org'))
        .where('m.user_id', '=', p.value('user'))
        .where((eb) => heldAt(eb, 'c', at))
        .where((eb) => heldAt(eb, 'm', at))
        .orderBy('c.clearance')
        .orderBy('g.name');
    },
    { org: organisationId, user: userId, ...(asOf === undefined ? {} : { asOf }) },
  );
  return rows.map((row) => ({
    clearance: row.clearance as Clearance,
    source: { type: 'user_group', userGroupId: row.user_group_id, userGroupName: row.name },
    since: laterOf(row.valid_from, row.member_since),
  }));
}
