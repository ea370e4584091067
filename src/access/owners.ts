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
