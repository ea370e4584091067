import type { Kysely } from 'kysely';
import { heldBackByStepUp, incidentReadable } from '../../access/incidents.ts';
import { asCaller, type Caller, type Reader } from '../../access/readers.ts';
import { type AccessTime, accessPaths } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { notFound } from '../../lib/errors.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { type IncidentService, mfaRequired } from '../incidents/service.ts';
import { assembleSafeguardingFile, type SafeguardingFile } from './document.ts';

export const fileFormats = ['json', 'pdf'] as const;
export type FileFormat = (typeof fileFormats)[number];

/**
 * The child's safeguarding file for the caller (`GET /students/:id/safeguarding-file`). The file
 * is read and its export written to the access log in one change: one transaction, which holds the
 * organisation's audit-chain lock from its first statement, so no audited write of the
 * organisation lands between two of its reads, and the log row commits with the read or not at all.
 */
export class SafeguardingFileService {
  constructor(
    private readonly database: Database,
    private readonly incidents: IncidentService,
  ) {}

  /**
   * The file as the caller reads it now. 404 for a child they do not see; 403 `mfa_required`
   * when a two-factor step-up would add records to it (the file is never silently short of what
   * its reader could read). Refusals write nothing: the change is rolled back.
   */
  async export(
    caller: Caller,
    studentId: string,
    format: FileFormat,
    origin: ChangeOrigin,
  ): Promise<SafeguardingFile> {
    const { principal } = caller;
    // A change, not `runRead`: the change chain's lock is what makes the file one snapshot (no
    // audited write of the organisation commits between two of its reads), so its access row
    // stays in the organisation's change chain.
    return runChange(this.database, origin, async (change) => {
      const db = change.db;
      const t: AccessTime = { organisationId: principal.organisationId };
      const reader = await this.incidents.reader(caller, 'actual', db);
      const me = await db
        .selectFrom('users')
        .select(['id', 'name'])
        .where('id', '=', principal.userId)
        .where('organisation_id', '=', principal.organisationId)
        .executeTakeFirstOrThrow();
      const file = await assembleSafeguardingFile(db, t, reader, studentId, {
        at: change.now,
        by: me,
        asSeenBy: me,
      });
      if (!file) throw notFound('Student');
      if (await this.#stepUpWouldAdd(db, t, caller, reader, studentId)) throw mfaRequired();
      const path = await db
        .selectFrom(accessPaths(db, t, { user: principal.userId, student: studentId }).as('p'))
        .selectAll('p')
        .orderBy('p.kind')
        .orderBy('p.link_id')
        .limit(1)
        .executeTakeFirst();
      // Only what the row's readers (those who see the child) may know: no count, no record ids.
      change.record({
        category: 'access',
        action: 'student.safeguarding_file',
        targetType: 'student',
        targetId: studentId,
        after: { outcome: 'allowed', format, path: path ?? null },
      });
      return file;
    });
  }

  /** Whether the child has a concern the caller would read after a step-up but cannot now. */
  async #stepUpWouldAdd(
    db: Kysely<DB>,
    t: AccessTime,
    caller: Caller,
    actual: Reader,
    studentId: string,
  ): Promise<boolean> {
    if (actual.sensitiveSchools === 'all') return false;
    const assumed = await this.incidents.reader(caller, 'assume', db);
    const held = await db
      .selectFrom('incidents as i')
      .innerJoin('incident_students as f', 'f.incident_id', 'i.id')
      .select('i.id')
      .where('f.student_id', '=', studentId)
      .where((eb) => incidentReadable(db, eb, t, asCaller(assumed)))
      .where((eb) => heldBackByStepUp(eb, actual))
      .limit(1)
      .executeTakeFirst();
    return held !== undefined;
  }
}
