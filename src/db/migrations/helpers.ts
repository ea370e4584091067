import { type CreateTableBuilder, type Kysely, PostgresAdapter, sql } from 'kysely';

/** Column types that differ between the engines; everything else is written once. */
export function columnTypes(db: Kysely<unknown>) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    timestamp: postgres ? 'timestamptz' : 'text',
    bigint: postgres ? 'bigint' : 'integer',
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
