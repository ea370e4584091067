import { type Kysely, PostgresAdapter, sql } from 'kysely';

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

/**
 * SQLite cannot drop an inline UNIQUE, so the table is rebuilt by SQLite's own procedure
 * (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off outside the
 * transaction (Kysely runs SQLite migrations outside one), the table created again from its
 * own statement with only the UNIQUE taken out, every row copied, the old table dropped, the
 * new one renamed, its indexes and triggers made again, and the foreign keys checked before
 * the commit.
 */
async function onSqlite(db: Kysely<unknown>): Promise<void> {
  const { rows: setting } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
  const foreignKeysWereOn = setting[0]?.foreign_keys === 1;
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql`begin immediate`.execute(db);
    try {
      await rebuildUsersWithoutUniqueEmail(db);
      const { rows: broken } = await sql`pragma foreign_key_check`.execute(db);
      if (broken.length > 0)
        throw new Error(`The rebuilt users table breaks ${broken.length} foreign keys`);
      await sql`commit`.execute(db);
    } catch (error) {
      await sql`rollback`.execute(db);
      throw error;
    }
  } finally {
    if (foreignKeysWereOn) await sql`pragma foreign_keys = on`.execute(db);
  }
}

async function rebuildUsersWithoutUniqueEmail(db: Kysely<unknown>): Promise<void> {
  const { rows: schema } = await sql<{ type: string; name: string; sql: string | null }>`
    select type, name, sql from sqlite_master where tbl_name = 'users'
  `.execute(db);
  const create = schema.find((s) => s.type === 'table')?.sql;
  if (!create) throw new Error('No users table to rebuild');
  // Fail rather than guess if the statement is not the one 0001 (and later migrations) wrote.
  const uniqueEmail = /("email"\s+text\s+not\s+null)\s+unique\b/gi;
  const tableName = /^create\s+table\s+"users"\s*\(/i;
  if ((create.match(uniqueEmail) ?? []).length !== 1 || !tableName.test(create))
    throw new Error(`Unexpected users table: ${create}`);
  const rebuilt = create
    .replace(uniqueEmail, '$1')
    .replace(tableName, 'CREATE TABLE "users_rebuilt" (');
  // Indexes SQLite made itself (primary key, UNIQUE) have no statement and are not copied.
  const dependents = schema.filter(
    (s) => (s.type === 'index' || s.type === 'trigger') && s.sql !== null,
  );
  const { rows: columns } = await sql<{ name: string }>`
    select name from pragma_table_info('users') order by cid
  `.execute(db);
  const columnList = sql.join(columns.map((c) => sql.id(c.name)));

  await sql.raw(rebuilt).execute(db);
  await sql`insert into users_rebuilt (${columnList}) select ${columnList} from users`.execute(db);
  await sql`drop table users`.execute(db);
  await sql`alter table users_rebuilt rename to users`.execute(db);
  for (const dependent of dependents) await sql.raw(dependent.sql!).execute(db);
  await createUniqueIndex(db);
}

async function createUniqueIndex(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('users_org_email')
    .on('users')
    .columns(['organisation_id', 'email'])
    .unique()
    .execute();
}
