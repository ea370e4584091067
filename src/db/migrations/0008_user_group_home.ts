import { type Kysely, sql } from 'kysely';

/**
 * A user group is administered from its home scope (spec section 5), and a role grant may
 * carry the reason it was given (section 2, rule 5). Existing groups are homed at their
 * organisation, except each school's own Safeguarding Team, which is homed at its school.
 * The columns are added with constant defaults because SQLite cannot add a NOT NULL column
 * without one; Haven always writes both.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('user_groups')
    .addColumn('home_scope_type', 'text', (c) =>
      c
        .notNull()
        .defaultTo('organisation')
        .check(sql`home_scope_type in ('organisation', 'school_group', 'school')`),
    )
    .execute();
  await db.schema
    .alterTable('user_groups')
    .addColumn('home_scope_id', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`update user_groups set home_scope_id = organisation_id`.execute(db);
  // Only a school of the group's own organisation is taken from the key.
  await sql`
    update user_groups
    set home_scope_type = 'school',
        home_scope_id = (
          select s.id from schools s
          where 'safeguarding_team:' || s.id = user_groups.system_key
            and s.organisation_id = user_groups.organisation_id
        )
    where exists (
      select 1 from schools s
      where 'safeguarding_team:' || s.id = user_groups.system_key
        and s.organisation_id = user_groups.organisation_id
    )
  `.execute(db);
  await db.schema.alterTable('role_grants').addColumn('reason', 'text').execute();
}
