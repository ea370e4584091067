import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Search words carry their student's sort keys, so a searched page reads its matches in name
 * order from the token index alone and fetches only the students it shows (the keys are
 * rewritten with the words whenever a student is written). The table is rebuilt, not altered:
 * SQLite cannot add a NOT NULL column without a default.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('student_name_tokens_keyed')
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addColumn('token', postgres ? sql`text collate "C"` : 'text', (c) => c.notNull())
    // Collated as the students' own keys, so both sort children alike.
    .addColumn('family_key', 'text', (c) => c.notNull())
    .addColumn('given_key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('student_name_tokens_keyed_pk', ['student_id', 'token'] as never)
    .$call((t) => (postgres ? t : t.modifyEnd(sql`without rowid`)))
    .execute();
  await sql`
    insert into student_name_tokens_keyed (organisation_id, student_id, token, family_key, given_key)
    select nt.organisation_id, nt.student_id, nt.token, s.family_key, s.given_key
    from student_name_tokens nt join students s on s.id = nt.student_id
  `.execute(db);
  await db.schema.dropTable('student_name_tokens').execute();
  await db.schema.alterTable('student_name_tokens_keyed').renameTo('student_name_tokens').execute();
  await db.schema
    .createIndex('student_name_tokens_by_token')
    .on('student_name_tokens')
    .columns(['organisation_id', 'token', 'family_key', 'given_key', 'student_id'])
    .execute();
  // PostgreSQL would plan searches on a table it takes for empty until autovacuum came round;
  // SQLite refreshes missing statistics when the database is next opened.
  if (postgres) await sql`analyze student_name_tokens`.execute(db);
}
