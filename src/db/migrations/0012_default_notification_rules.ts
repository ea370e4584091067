import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { newId } from '../../lib/ids.ts';

/**
 * Schools made before notifications existed get the rules a new school starts with (see
 * `createDefaultNotificationRules`): child protection to the Safeguarding Team and allegations
 * to the Allegations group, each as an alert and an immediate email, and every other category in
 * the Safeguarding Team's daily digest. Only categories with no rule yet are given any.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Kysely runs a PostgreSQL migration inside a transaction, a SQLite one outside: all or none.
  if (db.getExecutor().adapter instanceof PostgresAdapter) return defaults(db);
  await sql`begin immediate`.execute(db);
  try {
    await defaults(db);
    await sql`commit`.execute(db);
  } catch (error) {
    await sql`rollback`.execute(db);
    throw error;
  }
}

async function defaults(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{
    organisation_id: string;
    category_id: string;
    sensitivity: string;
    team_id: string | null;
    allegations_id: string | null;
  }>`
    select c.organisation_id, c.id as category_id, c.sensitivity,
      (select g.id from user_groups g
        where g.organisation_id = c.organisation_id and g.deleted_at is null
          and g.system_key = 'safeguarding_team:' || c.school_id) as team_id,
      (select g.id from user_groups g
        where g.organisation_id = c.organisation_id and g.deleted_at is null
          and g.system_key = 'allegations:' || c.school_id) as allegations_id
    from categories c
    where c.school_id is not null and c.deleted_at is null
      and not exists (select 1 from notification_rules r where r.category_id = c.id)
    order by c.id
  `.execute(db);
  const now = new Date().toISOString();
  const rules: [string, string, string, string][] = [];
  for (const c of rows) {
    const to = (group: string | null, channels: string[]) => {
      if (group)
        for (const channel of channels)
          rules.push([c.organisation_id, c.category_id, group, channel]);
    };
    if (c.sensitivity === 'child_protection') to(c.team_id, ['alert', 'immediate_email']);
    else if (c.sensitivity === 'allegation') to(c.allegations_id, ['alert', 'immediate_email']);
    else to(c.team_id, ['digest_email']);
  }
  for (const [organisationId, categoryId, groupId, channel] of rules)
    await sql`
      insert into notification_rules
        (id, organisation_id, category_id, recipient_type, recipient_id, channel, created_by, created_at)
      values (${newId()}, ${organisationId}, ${categoryId}, 'user_group', ${groupId}, ${channel}, null, ${now})
    `.execute(db);
}
