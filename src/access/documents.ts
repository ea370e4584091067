import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import { can } from './decide.ts';
import { incidentReadable } from './incidents.ts';
import type { Principal } from './principal.ts';
import { type ReaderRef, seesStudent } from './readers.ts';
import type { AccessTime } from './visibility.ts';

/**
 * A document is exactly as readable as the record it is filed on: an incident's documents by the
 * incident's readers (step-up included), a child's documents by those who see the child. As a
 * condition on `documents as d`.
 */
export function documentReadable(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over documents
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  who: ReaderRef,
): Expression<SqlBool> {
  return eb.and([
    eb('d.organisation_id', '=', t.organisationId),
    eb('d.deleted_at', 'is', null),
    eb.or([
      eb.exists(
        db
          .selectFrom('incidents as i')
          .select('i.id')
          .where('i.id', '=', sql.ref<string>('d.incident_id'))
          .where((eb2) => incidentReadable(db, eb2, t, who)),
      ),
      eb.exists(
        db
          .selectFrom('students as s')
          .select('s.id')
          .where('s.id', '=', sql.ref<string>('d.student_id'))
          .where((eb2) => seesStudent(db, eb2, t, who)),
      ),
    ]),
  ]);
}

/** What the caller may do with a document they read, at the school of its record. */
export function documentAbilities(principal: Principal, record: { school_id: string }) {
  return { delete: can(principal, 'documents.manage', { type: 'school', id: record.school_id }) };
}
