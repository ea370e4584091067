import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  auditRowInSchools,
  auditRowReadable,
  hiddenRecordIds,
  idsIn,
  rowsOfUnreadableVersions,
  withhold,
} from '../../access/audit.ts';
import { permissionDenied, requirePermission, schoolsWith } from '../../access/decide.ts';
import { unreadableImportRuns } from '../../access/imports.ts';
import type { Permission } from '../../access/permissions.ts';
import type { Principal } from '../../access/principal.ts';
import { type Caller, readerOf } from '../../access/readers.ts';
import { unseenUserGroupIds, visibleUserGroupIds } from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { notFound } from '../../lib/errors.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { findSchool } from '../organisations/repository.ts';
import {
  type AccessRecord,
  type AllowedBy,
  allowedBy,
  groupsInPath,
  recordLabels,
  withholdPathGroups,
} from './access-log.ts';
import { namesFor } from './names.ts';

export interface AuditQuery {
  category?: 'change' | 'denied' | 'access' | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  /** Only rows that belong to this school (`auditRowInSchools`); the caller must oversee it. */
  schoolId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const auditCursor = z.tuple([z.string()]);

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

interface LogRow {
  id: string;
  target_type: string | null;
  target_id: string | null;
  before_json: string | null;
  after_json: string | null;
  meta_json: string | null;
  hash_version: number;
  shredded_at: string | null;
}

/**
 * The rows with `destroyed` set on those about a destroyed record: shredded ones (their payloads
 * are gone) and those written before migration 0023, which cannot be shredded without breaking
 * the chain and so keep their payloads in the database: theirs are blanked here, before anything
 * reads them. Rows about a destroyed record's documents are not readable at all (the documents'
 * rows are gone); rows written by the destruction itself, and after, hold no content.
 */
async function blankDestroyed<R extends LogRow>(
  db: Kysely<DB>,
  organisationId: string,
  rows: R[],
): Promise<(R & { destroyed: boolean })[]> {
  const whole = rows.filter((r) => r.hash_version === 1 && r.target_id !== null);
  const ids = (type: string) => [
    ...new Set(whole.filter((r) => r.target_type === type).map((r) => r.target_id!)),
  ];
  const [incidentIds, actionIds] = [ids('incident'), ids('action')];
  const destroyed = new Set<string>();
  if (incidentIds.length > 0)
    for (const i of await db
      .selectFrom('incidents')
      .select('id')
      .where('organisation_id', '=', organisationId)
      .where('id', 'in', incidentIds)
      .where('destroyed_at', 'is not', null)
      .execute())
      destroyed.add(`incident:${i.id}`);
  if (actionIds.length > 0)
    for (const a of await db
      .selectFrom('actions as a')
      .innerJoin('incidents as i', 'i.id', 'a.incident_id')
      .select('a.id')
      .where('a.organisation_id', '=', organisationId)
      .where('a.id', 'in', actionIds)
      .where('i.destroyed_at', 'is not', null)
      .execute())
      destroyed.add(`action:${a.id}`);
  return rows.map((row) => {
    if (row.shredded_at !== null) return { ...row, destroyed: true };
    if (row.hash_version === 1 && destroyed.has(`${row.target_type}:${row.target_id}`))
      return { ...row, before_json: null, after_json: null, meta_json: null, destroyed: true };
    return { ...row, destroyed: false };
  });
}

type LogPermission = Extract<Permission, 'audit_log.view' | 'reports.access_audit'>;

export class AuditService {
  constructor(
    private readonly database: Database,
    private readonly options: { mfaWindowMs: number },
  ) {}

  /**
   * The schools whose rows the caller reads: every row for Admin and above at the organisation
   * (`'all'`), otherwise the rows of the schools where they are Admin or above (directly or
   * through a school group); `schoolId` narrows either to one school they oversee (403 otherwise).
   */
  async #oversight(
    principal: Principal,
    permission: LogPermission,
    schoolId: string | undefined,
  ): Promise<'all' | string[]> {
    if (schoolId !== undefined) {
      if (!(await findSchool(this.database.db, principal.organisationId, schoolId)))
        throw notFound('School');
      requirePermission(principal, permission, { type: 'school', id: schoolId });
      return [schoolId];
    }
    const schools = schoolsWith(principal, permission);
    if (schools !== 'all' && schools.length === 0) throw permissionDenied(permission);
    return schools;
  }

  /**
   * Newest first. Admin or higher at the organisation reads every row; an Admin of some schools
   * the rows that belong to them (`auditRowInSchools`). Rows about records the caller may not read
   * are left out, and ids of such records withheld from the rest (`src/access/audit.ts`). `names`
   * names the people, groups, schools and children the rows mention, as far as the caller may
   * name them; an access row also says which record was read and which way in allowed it.
   */
  async list(caller: Caller, query: AuditQuery, permission: LogPermission = 'audit_log.view') {
    const { principal } = caller;
    const schools = await this.#oversight(principal, permission, query.schoolId);
    const db = this.database.db;
    const reader = await readerOf(db, caller, this.options.mfaWindowMs);
    const after = decodeCursor(query.cursor, auditCursor);
    const t = { organisationId: principal.organisationId };
    let select = db
      .selectFrom('audit_events as e')
      .leftJoin('users as u', 'u.id', 'e.actor_user_id')
      .select([
        'e.id',
        'e.seq',
        'e.chain_id',
        'e.at',
        'e.category',
        'e.action',
        'e.actor_user_id',
        'u.name as actor_name',
        'e.target_type',
        'e.target_id',
        'e.before_json',
        'e.after_json',
        'e.meta_json',
        'e.hash_version',
        'e.shredded_at',
      ])
      .where('e.organisation_id', '=', principal.organisationId)
      .where((eb) => auditRowReadable(db, eb, t, reader, schoolsWith(principal, 'blocks.manage')));
    if (schools !== 'all') select = select.where((eb) => auditRowInSchools(db, eb, t, schools));
    if (query.category) select = select.where('e.category', '=', query.category);
    if (query.action) select = select.where('e.action', '=', query.action);
    if (query.actorId) select = select.where('e.actor_user_id', '=', query.actorId);
    if (query.targetId) select = select.where('e.target_id', '=', query.targetId);
    if (after) select = select.where('e.id', '<', after[0]);
    const rows = await blankDestroyed(
      db,
      principal.organisationId,
      await select
        .orderBy('e.id', 'desc')
        .limit(query.limit + 1)
        .execute(),
    );
    const page = rows.slice(0, query.limit);
    const mentioned = new Set<string>();
    for (const row of page) {
      if (row.actor_user_id) mentioned.add(row.actor_user_id);
      for (const text of [row.target_id, row.before_json, row.after_json, row.meta_json])
        idsIn(text, mentioned);
    }
    const hidden = await hiddenRecordIds(db, t, reader, mentioned);
    // A user group the reader may not see is named nowhere to them, in a row's payload either
    // (a set on their school's group may name a group homed elsewhere as its assignee).
    for (const id of await unseenUserGroupIds(db, principal, mentioned)) hidden.add(id);
    // An import run is its starter's (its rows name the run, and the run names children).
    for (const id of await unreadableImportRuns(db, principal, mentioned)) hidden.add(id);
    const unreadable = await rowsOfUnreadableVersions(db, t, reader, page);
    const names = await namesFor(db, principal, schools, mentioned, hidden);
    const access = page.filter((row) => row.category === 'access');
    const paths = new Map(
      access.map((row) => [row.id, (parseJson(row.after_json) as { path?: unknown })?.path]),
    );
    const [labels, visibleGroups] = await Promise.all([
      recordLabels(db, principal.organisationId, access),
      visibleUserGroupIds(db, principal, [...paths.values()].flatMap(groupsInPath)),
    ]);
    const accessOf = (row: (typeof rows)[number]) => {
      if (row.category !== 'access') return {};
      const stored = (parseJson(row.after_json) ?? {}) as Record<string, unknown>;
      const record: AccessRecord | null = row.target_type
        ? {
            type: row.target_type,
            id: row.target_id,
            label: row.target_id
              ? (labels.get(row.target_id) ??
                (row.target_type === 'student' ? (names.get(row.target_id) ?? null) : null))
              : null,
          }
        : null;
      const way: AllowedBy | null = allowedBy(stored.path, names, visibleGroups);
      return {
        after: row.destroyed
          ? null
          : 'path' in stored
            ? { ...stored, path: withholdPathGroups(stored.path, visibleGroups) }
            : stored,
        record,
        allowedBy: way,
      };
    };
    const answer = toPage(
      rows,
      query.limit,
      (row) =>
        withhold(
          {
            id: row.id,
            seq: row.seq,
            chain: row.chain_id,
            at: row.at,
            category: row.category,
            action: row.action,
            actor: row.actor_user_id ? { id: row.actor_user_id, name: row.actor_name ?? '' } : null,
            target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
            // A version of a record the reader could not read is not shown through its edit either.
            before: unreadable.has(row.id) ? null : parseJson(row.before_json),
            after: unreadable.has(row.id) ? null : parseJson(row.after_json),
            meta: parseJson(row.meta_json),
            withheld: unreadable.has(row.id),
            destroyed: row.destroyed,
            ...accessOf(row),
          },
          hidden,
        ),
      (row) => [row.id],
    );
    return { ...answer, names: Object.fromEntries(names) };
  }
}
