import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { rebuildSqliteTable } from './helpers.ts';

/**
 * An email address is unique within an organisation, no longer across the installation
 * (docs/decisions.md): one organisation's Admin must neither learn that an address is used in
 * another organisation nor take it before that organisation adds its own person.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await onPostgres(db);
  else await onSqlite(db);
}

async function onPostgres(db: Kysely<unknown>): Promise<void> {
  // 0001 declared the column `unique` inline; the constraint's name is the server's choice.
  const { rows } = await sql<{ name: string }>`
    select con.conname as name
    from pg_constraint con
    join pg_attribute att on att.attrelid = con.conrelid and att.attnum = any (con.conkey)
    where con.conrelid = 'users'::regclass
      and con.contype = 'u'
      and cardinality(con.conkey) = 1
      and att.attname = 'email'
  `.execute(db);
  for (const { name } of rows)
    await sql`alter table users drop constraint ${sql.id(name)}`.execute(db);
  await createUniqueIndex(db);
}

/** SQLite cannot drop an inline UNIQUE, so the table is rebuilt without it. */
async function onSqlite(db: Kysely<unknown>): Promise<void> {
  await rebuildSqliteTable(db, 'users', withoutUniqueEmail, () => createUniqueIndex(db));
}

function withoutUniqueEmail(create: string): string {
  // Fail rather than guess if the statement is not the one 0001 (and later migrations) wrote.
  const uniqueEmail = /("email"\s+text\s+not\s+null)\s+unique\b/gi;
  const tableName = /^create\s+table\s+"users"\s*\(/i;
  if ((create.match(uniqueEmail) ?? []).length !== 1 || !tableName.test(create))
    throw new Error(`Unexpected users table: ${create}`);
  return create.replace(uniqueEmail, '$1').replace(tableName, 'CREATE TABLE "users_rebuilt" (');
}

async function createUniqueIndex(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('users_org_email')
    .on('users')
    .columns(['organisation_id', 'email'])
    .unique()
    .execute();
}
