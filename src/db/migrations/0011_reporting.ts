import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { newId } from '../../lib/ids.ts';

/**
 * Reporting about any child, and allegations against staff (issue 12):
 *  - a concern may name a child not on roll yet: `incidents.unlisted_child`, JSON `{ name, note }`;
 *  - every school has an "Allegations" user group (`allegations:<school id>`), homed at the
 *    school, holding the `allegations` clearance, linked to the school's "All students" group,
 *    with one member, the allegations manager. New schools get it when they are created; here
 *    each existing school gets it with its organisation's first current Owner as the manager.
 * The SQL is written once for both engines; ids and times come from Haven, as in a change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('incidents').addColumn('unlisted_child', 'text').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // Kysely runs a PostgreSQL migration inside a transaction already.
    await allegationsGroups(db);
    return;
  }
  // SQLite migrations run outside one: the groups are made all together or not at all.
  await sql`begin immediate`.execute(db);
  try {
    await allegationsGroups(db);
    await sql`commit`.execute(db);
  } catch (error) {
    await sql`rollback`.execute(db);
    throw error;
  }
}

async function allegationsGroups(db: Kysely<unknown>): Promise<void> {
  const now = new Date().toISOString();
  const { rows: schools } = await sql<{ id: string; organisation_id: string; name: string }>`
    select s.id, s.organisation_id, s.name from schools s
    where not exists (
      select 1 from user_groups g
      where g.system_key = 'allegations:' || s.id and g.deleted_at is null
    )
    order by s.organisation_id, s.created_at, s.id
  `.execute(db);
  const managers = new Map<string, string | null>();
  for (const school of schools) {
    if (!managers.has(school.organisation_id))
      managers.set(school.organisation_id, await firstOwner(db, school.organisation_id));
    const manager = managers.get(school.organisation_id) ?? null;
    const groupId = newId();
    await sql`
      insert into user_groups (id, organisation_id, name, description, rationale, system_key,
        home_scope_type, home_scope_id, member_count, created_at, updated_at, deleted_at)
      values (${groupId}, ${school.organisation_id}, ${await freeName(db, school)},
        ${`The allegations manager of ${school.name}.`},
        ${'Allegations against staff are read by the allegations manager, so that none goes unseen.'},
        ${`allegations:${school.id}`}, 'school', ${school.id}, ${manager ? 1 : 0}, ${now}, ${now},
        null)
    `.execute(db);
    await sql`
      insert into user_group_clearances (id, organisation_id, user_group_id, clearance,
        valid_from, valid_to)
      values (${newId()}, ${school.organisation_id}, ${groupId}, 'allegations', ${now}, null)
    `.execute(db);
    const { rows: all } = await sql<{ id: string }>`
      select id from student_groups
      where system_key = ${`all_students:${school.id}`} and organisation_id = ${school.organisation_id}
        and deleted_at is null
    `.execute(db);
    if (all[0])
      await sql`
        insert into student_links (id, organisation_id, user_group_id, user_id, student_group_id,
          student_id, created_by, removed_by, valid_from, valid_to)
        values (${newId()}, ${school.organisation_id}, ${groupId}, null, ${all[0].id}, null, null,
          null, ${now}, null)
      `.execute(db);
    if (manager)
      await sql`
        insert into user_group_members (organisation_id, user_group_id, user_id, valid_from,
          valid_to)
        values (${school.organisation_id}, ${groupId}, ${manager}, ${now}, null)
      `.execute(db);
  }
}

/** The live user of the organisation's earliest current Owner grant (held directly or through a group). */
async function firstOwner(db: Kysely<unknown>, organisationId: string): Promise<string | null> {
  const { rows } = await sql<{ user_id: string }>`
    select o.user_id from (
      select g.user_id as user_id, g.valid_from as since, g.id as grant_id
      from role_grants g
      where g.organisation_id = ${organisationId} and g.role = 'owner'
        and g.scope_type = 'organisation' and g.valid_to is null and g.user_id is not null
      union all
      select m.user_id as user_id, g.valid_from as since, g.id as grant_id
      from role_grants g
      join user_group_members m on m.user_group_id = g.user_group_id and m.valid_to is null
      where g.organisation_id = ${organisationId} and g.role = 'owner'
        and g.scope_type = 'organisation' and g.valid_to is null
    ) o
    join users u on u.id = o.user_id
    where u.disabled_at is null and u.removed_at is null
    order by o.since, o.grant_id, o.user_id
    limit 1
  `.execute(db);
  return rows[0]?.user_id ?? null;
}

/** "Allegations (<school>)", or with a number after it if a group of that name exists already. */
async function freeName(
  db: Kysely<unknown>,
  school: { organisation_id: string; name: string },
): Promise<string> {
  const base = `Allegations (${school.name})`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base} ${n}`;
    const { rows } = await sql`
      select 1 as taken from user_groups
      where organisation_id = ${school.organisation_id} and name = ${name} and deleted_at is null
    `.execute(db);
    if (rows.length === 0) return name;
  }
}
