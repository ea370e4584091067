import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Counting the students a caller sees without testing them one by one (`countVisibleStudents`).
 *
 * - `students.search_words`: the student's search words (the same words as
 *   `student_name_tokens`), each after a space, so that "some word starts with w" is a substring
 *   test on the row itself: a count matches a search while it walks an index.
 * - `students_for_counts`: every column an automatic group's rule, the narrowing filters and a
 *   search read, for live students, by organisation, school and roll. A count walks it alone
 *   (SQLite reads `deleted_at` from it too, which is why it is there though always null);
 *   `students_by_school_roll` is the same ranges with nothing else, for whole schools.
 * - Each search word carries its student's school, roll and deletion (kept by a trigger on
 *   `students`, whoever writes them, and by `insertLabels`) and the student's word before it in
 *   byte order (`prior_token`). Within a prefix's range a student's words are consecutive, so
 *   the one whose prior word falls before the range is counted and the others are not:
 *   `student_name_tokens_for_counts` counts the children of a school whose words start with a
 *   prefix, each once, from the index alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const { timestamp } = columnTypes(db);
  await db.schema
    .alterTable('students')
    .addColumn('search_words', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  const joined = postgres
    ? sql`string_agg(' ' || nt.token, '')`
    : sql`group_concat(' ' || nt.token, '')`;
  await sql`
    update students set search_words = coalesce(
      (select ${joined} from student_name_tokens nt where nt.student_id = students.id), '')
  `.execute(db);
  await db.schema
    .createIndex('students_for_counts')
    .on('students')
    .columns([
      'organisation_id',
      'school_id',
      'on_roll',
      'year_group',
      'key_stage',
      'sen_status',
      'house',
      'search_words',
      'deleted_at',
    ])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  // What counting whole schools reads: a school's live children on roll (or not), a range of
  // entries this narrow (PostgreSQL stores the equal ones once).
  await db.schema
    .createIndex('students_by_school_roll')
    .on('students')
    .columns(['organisation_id', 'school_id', 'on_roll', 'deleted_at'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  for (const [column, type] of [
    ['school_id', sql`text`],
    ['on_roll', sql`integer`],
    ['deleted_at', sql.raw(timestamp)],
    // Compared with the words themselves, so collated as they are.
    ['prior_token', postgres ? sql`text collate "C"` : sql`text`],
  ] as const) {
    await db.schema.alterTable('student_name_tokens').addColumn(column, type).execute();
  }
  await sql`
    update student_name_tokens set school_id = s.school_id, on_roll = s.on_roll,
      deleted_at = s.deleted_at
    from students s where s.id = student_name_tokens.student_id
  `.execute(db);
  await sql`
    update student_name_tokens set prior_token = p.prior_token
    from (
      select student_id, token,
        lag(token) over (partition by student_id order by token) as prior_token
      from student_name_tokens
    ) p
    where p.student_id = student_name_tokens.student_id and p.token = student_name_tokens.token
      and p.prior_token is not null
  `.execute(db);
  await db.schema
    .createIndex('student_name_tokens_for_counts')
    .on('student_name_tokens')
    .columns(['organisation_id', 'school_id', 'on_roll', 'token', 'prior_token', 'deleted_at'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  // The words follow their student's school, roll and deletion, whoever changes them.
  if (postgres) {
    await sql`
      create function student_name_tokens_follow() returns trigger language plpgsql as $$
      begin
        update student_name_tokens set school_id = new.school_id, on_roll = new.on_roll,
          deleted_at = new.deleted_at
        where student_id = new.id;
        return null;
      end $$
    `.execute(db);
    await sql`
      create trigger students_search_words_follow
        after update of school_id, on_roll, deleted_at on students for each row
        when (old.school_id is distinct from new.school_id or old.on_roll is distinct from new.on_roll
          or old.deleted_at is distinct from new.deleted_at)
        execute function student_name_tokens_follow()
    `.execute(db);
    await sql`analyze students`.execute(db);
    await sql`analyze student_name_tokens`.execute(db);
  } else {
    await sql`
      create trigger students_search_words_follow
        after update of school_id, on_roll, deleted_at on students
        when old.school_id is not new.school_id or old.on_roll is not new.on_roll
          or old.deleted_at is not new.deleted_at
      begin
        update student_name_tokens set school_id = new.school_id, on_roll = new.on_roll,
          deleted_at = new.deleted_at
        where student_id = new.id;
      end
    `.execute(db);
  }
}
