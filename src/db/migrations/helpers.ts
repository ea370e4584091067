import { type CreateTableBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

/** Column types that differ between the engines; everything else is written once. */
export function columnTypes(db: Kysely<unknown>) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    timestamp: postgres ? 'timestamptz' : 'text',
    bigint: postgres ? 'bigint' : 'integer',
    /** Bytes: saved report runs (`access_audit_run_chunks`). */
    binary: postgres ? 'bytea' : 'blob',
  } as const;
}

/**
 * A table of history-bearing rows: `valid_from` / `valid_to` is the span during which a grant,
 * membership, link or block held (null `valid_to`: it still holds).
 */
export function historyTable(
  db: Kysely<unknown>,
  name: string,
  options: { surrogateId?: boolean } = {},
): CreateTableBuilder<string, never> {
  const { timestamp } = columnTypes(db);
  let table = db.schema.createTable(name);
  if (options.surrogateId !== false) table = table.addColumn('id', 'text', (c) => c.primaryKey());
  return table
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('valid_from', timestamp, (c) => c.notNull())
    .addColumn('valid_to', timestamp)
    .addCheckConstraint(`${name}_span`, sql`valid_to is null or valid_to >= valid_from`);
}

/**
 * Membership history rows are keyed by what they join and when they began: no surrogate id,
 * which keeps million-row membership tables compact (and clustered, on SQLite).
 */
export function membershipTable(
  db: Kysely<unknown>,
  name: string,
  groupColumn: { name: string; references: string },
  memberColumn: { name: string; references: string },
) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const table = historyTable(db, name, { surrogateId: false })
    .addColumn(groupColumn.name, 'text', (c) => c.notNull().references(groupColumn.references))
    .addColumn(memberColumn.name, 'text', (c) => c.notNull().references(memberColumn.references))
    .addPrimaryKeyConstraint(`${name}_pk`, [
      groupColumn.name,
      memberColumn.name,
      'valid_from',
    ] as never);
  return postgres ? table : table.modifyEnd(sql`without rowid`);
}

/**
 * Changes a SQLite table in a way ALTER TABLE cannot (a column's NOT NULL, a CHECK, an inline
 * UNIQUE) by SQLite's own procedure (https://www.sqlite.org/lang_altertable.html#otheralter):
 * foreign keys off outside the transaction (Kysely runs SQLite migrations outside one), the new
 * table created by `createRebuilt` from the old statement (it must create `<table>_rebuilt`),
 * every row copied, the old table dropped, the new one renamed, its indexes and triggers made
 * again, `after` run, and the foreign keys checked before the commit.
 */
export async function rebuildSqliteTable(
  db: Kysely<unknown>,
  table: string,
  createRebuilt: (create: string) => string,
  after: () => Promise<void> = async () => {},
): Promise<void> {
  const { rows: setting } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
  const foreignKeysWereOn = setting[0]?.foreign_keys === 1;
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql`begin immediate`.execute(db);
    try {
      const { rows: schema } = await sql<{ type: string; name: string; sql: string | null }>`
        select type, name, sql from sqlite_master where tbl_name = ${table}
      `.execute(db);
      const create = schema.find((s) => s.type === 'table')?.sql;
      if (!create) throw new Error(`No ${table} table to rebuild`);
      // Indexes SQLite made itself (primary key, UNIQUE) have no statement and are not copied.
      const dependents = schema.filter(
        (s) => (s.type === 'index' || s.type === 'trigger') && s.sql !== null,
      );
      const { rows: columns } = await sql<{ name: string }>`
        select name from pragma_table_info(${table}) order by cid
      `.execute(db);
      const columnList = sql.join(columns.map((c) => sql.id(c.name)));
      const rebuilt = `${table}_rebuilt`;
      await sql.raw(createRebuilt(create)).execute(db);
      await sql`insert into ${sql.id(rebuilt)} (${columnList}) select ${columnList} from ${sql.id(table)}`.execute(
        db,
      );
      await sql`drop table ${sql.id(table)}`.execute(db);
      await sql`alter table ${sql.id(rebuilt)} rename to ${sql.id(table)}`.execute(db);
      for (const dependent of dependents) await sql.raw(dependent.sql!).execute(db);
      await after();
      const { rows: broken } = await sql`pragma foreign_key_check`.execute(db);
      if (broken.length > 0)
        throw new Error(`The rebuilt ${table} table breaks ${broken.length} foreign keys`);
      await sql`commit`.execute(db);
    } catch (error) {
      await sql`rollback`.execute(db);
      throw error;
    }
  } finally {
    if (foreignKeysWereOn) await sql`pragma foreign_keys = on`.execute(db);
  }
}
