import { type Kysely, sql } from 'kysely';

/**
 * Each revision keeps the school, sensitivity, allegation subject and children it had, as columns
 * and rows rather than only inside its JSON snapshot, so the record policy can decide in SQL who
 * may read each earlier version exactly as it decides who reads the record now (a revision is
 * shown only as the reader could see a record with that revision's category, school and children).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('incident_revisions').addColumn('school_id', 'text').execute();
  await db.schema.alterTable('incident_revisions').addColumn('sensitivity', 'text').execute();
  await db.schema.alterTable('incident_revisions').addColumn('subject_user_id', 'text').execute();
  await db.schema
    .createTable('incident_revision_students')
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addPrimaryKeyConstraint('incident_revision_students_pk', [
      'incident_id',
      'revision',
      'student_id',
    ] as never)
    .execute();

  // Earlier revisions were written with these facts in their snapshot; the school never changed.
  const rows = await sql<{
    incident_id: string;
    revision: number;
    snapshot: string;
    school_id: string;
  }>`select r.incident_id, r.revision, r.snapshot, i.school_id
     from incident_revisions r join incidents i on i.id = r.incident_id`.execute(db);
  for (const row of rows.rows) {
    const snapshot = JSON.parse(row.snapshot) as {
      categoryId?: string;
      sensitivity?: string;
      subjectUserId?: string | null;
      studentIds?: string[];
    };
    // Every snapshot names its sensitivity; were one not to, its category's (or the narrowest).
    let sensitivity = snapshot.sensitivity;
    if (!sensitivity) {
      const category = await sql<{ sensitivity: string }>`select sensitivity from categories
        where id = ${snapshot.categoryId ?? ''}`.execute(db);
      sensitivity = category.rows[0]?.sensitivity ?? 'allegation';
    }
    await sql`update incident_revisions
      set school_id = ${row.school_id}, sensitivity = ${sensitivity},
          subject_user_id = ${snapshot.subjectUserId ?? null}
      where incident_id = ${row.incident_id} and revision = ${row.revision}`.execute(db);
    for (const studentId of new Set(snapshot.studentIds ?? [])) {
      await sql`insert into incident_revision_students (incident_id, revision, student_id)
        values (${row.incident_id}, ${row.revision}, ${studentId})`.execute(db);
    }
  }
}
