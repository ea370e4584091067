import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import { can } from './decide.ts';
import { heldAt } from './history.ts';
import { incidentReadable } from './incidents.ts';
import type { Principal } from './principal.ts';
import { type ReaderRef, userOf } from './readers.ts';
import type { AccessTime } from './visibility.ts';

// biome-ignore lint/suspicious/noExplicitAny: used in queries over actions and over alerts
type AnyBuilder = ExpressionBuilder<any, any>;

/**
 * Actions live and die with their incident (spec section 4): an action is read exactly when its
 * incident is, as a condition on `actions as a` joined to its incident `incidents as i`.
 */
export function actionReadable(
  db: Kysely<DB>,
  eb: AnyBuilder,
  t: AccessTime,
  who: ReaderRef,
): Expression<SqlBool> {
  return eb.and([eb('a.deleted_at', 'is', null), incidentReadable(db, eb, t, who)]);
}

/**
 * A row's user-or-group column pair names the user, or a group the user is in now: an action's
 * assignee (`a.assignee_*`) and an alert's recipient (`al.recipient_*`).
 */
export function namesUser(
  db: Kysely<DB>,
  eb: AnyBuilder,
  t: AccessTime,
  columns: { type: string; id: string },
  user: string | Expression<string>,
): Expression<SqlBool> {
  return eb.or([
    eb.and([eb(columns.type, '=', 'user'), eb(columns.id, '=', user)]),
    eb.and([
      eb(columns.type, '=', 'user_group'),
      eb.exists(
        db
          .selectFrom('user_group_members as nm')
          .select('nm.user_id')
          .where('nm.user_group_id', '=', sql.ref<string>(columns.id))
          .where('nm.user_id', '=', user)
          .where((eb2) => heldAt(eb2, 'nm', t.asOf)),
      ),
    ]),
  ]);
}

export const actionAssignee = { type: 'a.assignee_type', id: 'a.assignee_id' } as const;

/** The action is the reader's to complete: assigned to them, or to a group they are in. */
export function assignedToReader(
  db: Kysely<DB>,
  eb: AnyBuilder,
  t: AccessTime,
  who: ReaderRef,
): Expression<SqlBool> {
  return namesUser(db, eb, t, actionAssignee, userOf(who));
}

/** What the caller may do with an action they read; `mine` is `assignedToReader` of the row. */
export function actionAbilities(
  principal: Principal,
  action: { school_id: string },
  mine: boolean,
) {
  const school = { type: 'school' as const, id: action.school_id };
  return {
    complete: mine && can(principal, 'actions.complete', school),
    update: can(principal, 'actions.update', school),
    delete: can(principal, 'actions.delete', school),
  };
}
