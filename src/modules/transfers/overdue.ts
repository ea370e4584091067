import type { Kysely } from 'kysely';
import { heldAt } from '../../access/history.ts';
import { grantCovers } from '../../access/visibility.ts';
import type { DB } from '../../db/tables.ts';
import { raiseAlerts } from '../notifications/alerts.ts';
import { dayOf } from './school-days.ts';

/**
 * Overdue transfers (issue 16, item 1): a file sent and not received by its due day alerts the
 * sending school's DSLs, once. The transfer is claimed first (`overdue_alerted_at`, set only while
 * still null), in the worker's transaction, so however many workers run, one raises the alerts.
 * The alert names the receiving school and the days, never the child: the DSL opens the
 * Transfers page to see which file it is.
 */
export async function raiseOverdueTransfers(db: Kysely<DB>, now: Date): Promise<number> {
  const at = now.toISOString();
  const today = dayOf(at);
  const due = await db
    .selectFrom('transfers as x')
    .leftJoin('schools as ts', 'ts.id', 'x.to_school_id')
    .select([
      'x.id',
      'x.organisation_id',
      'x.from_school_id',
      'x.sent_at',
      'x.due_on',
      'x.external_school_name',
      'ts.name as to_school_name',
    ])
    .where('x.status', '=', 'sent')
    .where('x.due_on', '<', today)
    .where('x.overdue_alerted_at', 'is', null)
    .orderBy('x.due_on')
    .orderBy('x.id')
    .execute();
  let raised = 0;
  for (const x of due) {
    const claimed = await db
      .updateTable('transfers')
      .set({ overdue_alerted_at: at })
      .where('id', '=', x.id)
      .where('status', '=', 'sent')
      .where('overdue_alerted_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows ?? 0) === 0) continue;
    const t = { organisationId: x.organisation_id };
    const school = x.from_school_id;
    const dsls = await db
      .selectFrom('users as u')
      .select('u.id')
      .where('u.organisation_id', '=', x.organisation_id)
      .where('u.disabled_at', 'is', null)
      .where('u.removed_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom('role_grants as g')
              .select('g.id')
              .whereRef('g.user_id', '=', 'u.id')
              .where('g.organisation_id', '=', x.organisation_id)
              .where('g.role', '=', 'dsl')
              .where((eb2) => heldAt(eb2, 'g', undefined))
              .where((eb2) => grantCovers(eb2, t, eb2.val(school))),
          ),
          eb.exists(
            eb
              .selectFrom('user_group_members as gm')
              .innerJoin('role_grants as g', 'g.user_group_id', 'gm.user_group_id')
              .select('g.id')
              .whereRef('gm.user_id', '=', 'u.id')
              .where('g.organisation_id', '=', x.organisation_id)
              .where('g.role', '=', 'dsl')
              .where((eb2) => heldAt(eb2, 'gm', undefined))
              .where((eb2) => heldAt(eb2, 'g', undefined))
              .where((eb2) => grantCovers(eb2, t, eb2.val(school))),
          ),
        ]),
      )
      .orderBy('u.id')
      .execute();
    const to = x.to_school_name ?? x.external_school_name ?? 'another school';
    const message = `A safeguarding file sent to ${to} on ${x.sent_at.slice(0, 10)} was due to be received by ${x.due_on} and has no receipt yet: see Transfers.`;
    raised += await raiseAlerts(
      { db, now: at },
      x.organisation_id,
      dsls.map((dsl) => ({ kind: 'transfer_overdue' as const, userId: dsl.id, message })),
    );
  }
  return raised;
}
