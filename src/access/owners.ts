import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import { conflict } from '../lib/errors.ts';

/** Active users holding Owner at organisation scope, directly or through a user group. */
export async function countActiveOwners(db: Kysely<DB>, organisationId: string): Promise<number> {
  const row = await db
    .selectFrom('users as u')
    .select((eb) => eb.fn.countAll<number>().as('owners'))
    .where('u.organisation_id', '=', organisationId)
    .where('u.disabled_at', 'is', null)
    .where('u.removed_at', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('role_grants as g')
          .select('g.id')
          .where('g.organisation_id', '=', organisationId)
          .where('g.valid_to', 'is', null)
          .where('g.role', '=', 'owner')
          .where('g.scope_type', '=', 'organisation')
          .where((inner) =>
            inner.or([
              inner('g.user_id', '=', inner.ref('u.id')),
              inner(
                'g.user_group_id',
                'in',
                inner
                  .selectFrom('user_group_members as m')
                  .select('m.user_group_id')
                  .whereRef('m.user_id', '=', 'u.id')
                  .where('m.valid_to', 'is', null),
              ),
            ]),
          ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.owners);
}

/** Anti-escalation rule 4: checked inside every change that could take away an Owner. */
export async function assertOrganisationKeepsAnOwner(db: Kysely<DB>, organisationId: string) {
  if ((await countActiveOwners(db, organisationId)) === 0) {
    throw conflict(
      'This would leave the organisation without an active Owner. Make someone else Owner first.',
      'last_owner',
    );
  }
}

/**
 * The organisation's first Owner: the live user of its earliest current Owner grant at
 * organisation scope (held directly or through a group). A new school's allegations manager
 * unless another is named.
 */
export async function firstOwnerId(
  db: Kysely<DB>,
  organisationId: string,
  /** Someone who must not be chosen (the subject of an allegation). */
  except?: string,
): Promise<string | undefined> {
  const owners = db
    .selectFrom('role_grants as g')
    .select(['g.user_id as user_id', 'g.valid_from as since', 'g.id as grant_id'])
    .where('g.organisation_id', '=', organisationId)
    .where('g.role', '=', 'owner')
    .where('g.scope_type', '=', 'organisation')
    .where('g.valid_to', 'is', null)
    .where('g.user_id', 'is not', null)
    .$castTo<{ user_id: string; since: string; grant_id: string }>()
    .unionAll(
      db
        .selectFrom('role_grants as g')
        .innerJoin('user_group_members as m', 'm.user_group_id', 'g.user_group_id')
        .select(['m.user_id as user_id', 'g.valid_from as since', 'g.id as grant_id'])
        .where('g.organisation_id', '=', organisationId)
        .where('g.role', '=', 'owner')
        .where('g.scope_type', '=', 'organisation')
        .where('g.valid_to', 'is', null)
        .where('m.valid_to', 'is', null),
    );
  const row = await db
    .selectFrom(owners.as('o'))
    .innerJoin('users as u', 'u.id', 'o.user_id')
    .select('o.user_id')
    .where('u.disabled_at', 'is', null)
    .where('u.removed_at', 'is', null)
    .$if(except !== undefined, (q) => q.where('o.user_id', '!=', except!))
    .orderBy('o.since')
    .orderBy('o.grant_id')
    .orderBy('o.user_id')
    .limit(1)
    .executeTakeFirst();
  return row?.user_id;
}
