import { type Kysely, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/** Documents on incidents and students: the bytes live encrypted in the document store. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, bigint } = columnTypes(db);
  await db.schema
    .createTable('documents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('incident_id', 'text', (c) => c.references('incidents.id'))
    .addColumn('student_id', 'text', (c) => c.references('students.id'))
    .addColumn('filename', 'text', (c) => c.notNull())
    // Detected from the bytes, never the type the uploader declared.
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', bigint, (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('uploaded_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .addCheckConstraint('documents_one_owner', sql`(incident_id is null) <> (student_id is null)`)
    .execute();
  await db.schema
    .createIndex('documents_by_incident')
    .on('documents')
    .column('incident_id')
    .execute();
  await db.schema
    .createIndex('documents_by_student')
    .on('documents')
    .column('student_id')
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Haven migrations are forward-only');
}
