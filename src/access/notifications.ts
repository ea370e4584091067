import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import { runPrepared } from '../db/prepared.ts';
import type { DB } from '../db/tables.ts';
import { heldAt } from './history.ts';
import { incidentReadable } from './incidents.ts';
import { holdsSomeRole } from './readers.ts';
import type { Scope } from './scopes.ts';
import { type AccessTime, userLive } from './visibility.ts';

/**
 * Who is told (spec section 4, notifications): a notification names a user or a user group, and
 * reaches those of them who may read its record at the moment it is sent, by the very policy
 * that filters every list (blocked, excluded, uncleared people and an allegation's subject are
 * never told). Security alerts go to watchers: Owners and DSLs over the place they are about.
 */

/**
 * Who a notification names: a user, a user group's members, or the watchers of the places a
 * security alert is about (Owners and DSLs whose grant covers every one of `within`, so the
 * alert, which names staff and groups there, reaches only those who oversee them).
 */
export type NotifiedParty =
  | { type: 'user'; id: string }
  | { type: 'user_group'; id: string }
  | { type: 'watchers'; within: readonly Scope[] };

type UsersBuilder = ExpressionBuilder<DB & { u: DB['users'] }, 'u'>;

/** The live users a notification names, holding some role: before any record is considered. */
function named(db: Kysely<DB>, eb: UsersBuilder, t: AccessTime, party: NotifiedParty) {
  const user = sql.ref<string>('u.id');
  let who: Expression<SqlBool>;
  if (party.type === 'watchers') who = eb('u.id', 'in', watcherIds(db, t, party.within));
  else if (party.type === 'user') who = eb('u.id', '=', party.id);
  else
    who = eb(
      'u.id',
      'in',
      db
        .selectFrom('user_group_members as nm')
        .innerJoin('user_groups as ng', 'ng.id', 'nm.user_group_id')
        .select('nm.user_id')
        .where('nm.user_group_id', '=', party.id)
        .where('ng.organisation_id', '=', t.organisationId)
        .where('ng.deleted_at', 'is', null)
        .where((eb2) => heldAt(eb2, 'nm', t.asOf)),
    );
  return eb.and([
    eb('u.organisation_id', '=', t.organisationId),
    who,
    userLive(eb, t.asOf),
    holdsSomeRole(db, eb, t, user),
  ]);
}

/** Users holding Owner or DSL, directly or through a group, at a scope covering each of `within`. */
function watcherIds(db: Kysely<DB>, t: AccessTime, within: readonly Scope[]) {
  // biome-ignore lint/suspicious/noExplicitAny: a condition on role_grants as wg
  const covering = (eb: ExpressionBuilder<any, any>) =>
    eb.and([
      eb('wg.role', 'in', ['owner', 'dsl']),
      eb('wg.organisation_id', '=', t.organisationId),
      heldAt(eb, 'wg', t.asOf),
      ...within.map((scope) => coversScope(eb, t, scope)),
    ]);
  return db
    .selectFrom('role_grants as wg')
    .select('wg.user_id as user_id')
    .where('wg.user_id', 'is not', null)
    .where(covering)
    .$castTo<{ user_id: string }>()
    .union(
      db
        .selectFrom('role_grants as wg')
        .innerJoin('user_group_members as wm', 'wm.user_group_id', 'wg.user_group_id')
        .select('wm.user_id as user_id')
        .where(covering)
        .where((eb) => heldAt(eb, 'wm', t.asOf)),
    );
}

/** The grant `wg` covers the scope (spec section 1), as `covers` in scopes.ts decides it. */
function coversScope(
  // biome-ignore lint/suspicious/noExplicitAny: a condition on role_grants as wg
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  scope: Scope,
): Expression<SqlBool> {
  const organisation = eb('wg.scope_type', '=', 'organisation');
  const same = eb.and([eb('wg.scope_type', '=', scope.type), eb('wg.scope_id', '=', scope.id)]);
  if (scope.type === 'organisation') return organisation;
  if (scope.type === 'school_group') return eb.or([organisation, same]);
  return eb.or([
    organisation,
    same,
    eb.and([
      eb('wg.scope_type', '=', 'school_group'),
      eb(
        'wg.scope_id',
        'in',
        eb
          .selectFrom('school_group_schools as wsg')
          .select('wsg.school_group_id')
          .where('wsg.school_id', '=', scope.id)
          .where((eb2) => heldAt(eb2, 'wsg', t.asOf)),
      ),
    ]),
  ]);
}

export interface Recipient {
  user_id: string;
  email: string;
  name: string;
}

/** The people a notification about no record reaches (a security alert's watchers). */
export async function partyMembers(
  db: Kysely<DB>,
  t: AccessTime,
  party: NotifiedParty,
): Promise<Recipient[]> {
  return db
    .selectFrom('users as u')
    .select(['u.id as user_id', 'u.email', 'u.name'])
    .where((eb) => named(db, eb, t, party))
    .orderBy('u.id')
    .execute();
}

/**
 * Which people a notification names may read which of these records, now: one query over the
 * named people, asking the policy of each. It lists a group's members to ask it, so it suits the
 * groups rules name (a team, an office); a rule naming a group of a million costs seconds
 * (`bench/notify.ts`). Sent as a prepared statement: planning it cost PostgreSQL eight times
 * running it, and the worker asks it for each email it sends.
 */
export async function recipientsReading(
  db: Kysely<DB>,
  t: AccessTime,
  incidentIds: readonly string[],
  party: NotifiedParty,
): Promise<(Recipient & { incident_id: string })[]> {
  if (incidentIds.length === 0) return [];
  const query = (at: AccessTime, ids: readonly string[], who: NotifiedParty) =>
    db
      .selectFrom(['incidents as i', 'users as u'])
      .select(['u.id as user_id', 'u.email', 'u.name', 'i.id as incident_id'])
      .where('i.id', 'in', [...ids])
      .where((eb) => named(db, eb as never, at, who))
      .where((eb) => incidentReadable(db, eb, at, { kind: 'users', user: sql.ref<string>('u.id') }))
      .orderBy('u.id')
      .orderBy('i.id');
  // Watchers (security alerts name no record) and questions as of a past time are rare.
  if (party.type === 'watchers' || t.asOf !== undefined)
    return query(t, incidentIds, party).execute();
  return runPrepared(
    db,
    `recipientsReading|${party.type}|${incidentIds.length}`,
    (p) =>
      query({ organisationId: p.value('organisation') }, p.list('incidents', incidentIds.length), {
        type: party.type,
        id: p.value('party'),
      }),
    { organisation: t.organisationId, incidents: incidentIds, party: party.id },
  );
}
