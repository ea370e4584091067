import { type Kysely, sql } from 'kysely';
import { historyTable } from './helpers.ts';

/**
 * Group permission sets (issue 15; spec section 5): delegated administration of one user group.
 * A set is kept as versions (`valid_from`/`valid_to`), so what a set allowed at any past time can
 * be read back; a Members or Everyone set with no row holds its default (Members: view;
 * Everyone: nothing). The Owners set is not stored: it is the group's owners, and it is fixed.
 * Assignees of custom sets (users, or user groups whose members hold the set while they are
 * members) keep their history in the same way.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await historyTable(db, 'user_group_permission_sets')
    // Stable across versions: "members", "everyone", or a custom set's own id.
    .addColumn('set_id', 'text', (c) => c.notNull())
    .addColumn('user_group_id', 'text', (c) => c.notNull().references('user_groups.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('members', 'everyone', 'custom')`),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    // Canonical order, comma-separated: "view,view_members,edit_details,manage_members,delete".
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('changed_by', 'text', (c) => c.references('users.id'))
    .execute();
  await db.schema
    .createIndex('user_group_permission_sets_by_group')
    .on('user_group_permission_sets')
    .columns(['user_group_id', 'set_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('user_group_permission_sets_current')
    .on('user_group_permission_sets')
    .columns(['organisation_id', 'kind', 'user_group_id'])
    .where(sql.ref('valid_to'), 'is', null)
    .execute();

  await historyTable(db, 'user_group_set_assignees')
    .addColumn('user_group_id', 'text', (c) => c.notNull().references('user_groups.id'))
    .addColumn('set_id', 'text', (c) => c.notNull())
    .addColumn('assignee_type', 'text', (c) =>
      c.notNull().check(sql`assignee_type in ('user', 'user_group')`),
    )
    .addColumn('assignee_id', 'text', (c) => c.notNull())
    .addColumn('added_by', 'text', (c) => c.references('users.id'))
    .addColumn('removed_by', 'text', (c) => c.references('users.id'))
    .execute();
  await db.schema
    .createIndex('user_group_set_assignees_by_set')
    .on('user_group_set_assignees')
    .columns(['user_group_id', 'set_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('user_group_set_assignees_by_assignee')
    .on('user_group_set_assignees')
    .columns(['assignee_id', 'assignee_type', 'user_group_id'])
    .execute();
}
