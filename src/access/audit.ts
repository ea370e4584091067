import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import { chunks, sqlTrue } from '../db/sql.ts';
import type { DB } from '../db/tables.ts';
import { currentRecord, incidentReadable, readableRevisions } from './incidents.ts';
import { asCaller, type Reader } from './readers.ts';
import { type AccessTime, heldBlocks, studentVisibleTo, visibleAmong } from './visibility.ts';

/**
 * What the audit and access logs show a reader (spec section 2: "contents still filtered by what
 * the viewer may see"). A row about a record follows that record's own policy: a child's rows
 * their visibility, an incident's (and its actions' and documents') the incident policy, step-up
 * included. Inside the rows that remain, any id of a record the reader may not read (a child in a
 * group's link, an incident in a document read or in a refused request's path) is withheld.
 */

type AuditBuilder = ExpressionBuilder<DB & { e: DB['audit_events'] }, 'e'>;

/**
 * A child's trail follows the child; once deleted, it stays with those who saw them when they
 * were deleted: a path that held then and holds now (the child's own group memberships were
 * closed by the deletion itself), a role at their school, and no block since. Deleting a child
 * must not open their record to anyone else.
 */
function studentTrailReadable(
  db: Kysely<DB>,
  eb: ExpressionBuilder<DB & { s: DB['students'] }, 's'>,
  t: AccessTime,
  reader: Reader,
): Expression<SqlBool> {
  const user = reader.userId;
  const student = sql.ref<string>('s.id');
  const deletedAt = sql.ref<string>('s.deleted_at');
  return eb.or([
    studentVisibleTo(db, eb, t, reader),
    eb.and([
      eb('s.organisation_id', '=', t.organisationId),
      eb('s.deleted_at', 'is not', null),
      reader.schools === 'all'
        ? sql<SqlBool>`1 = 1`
        : reader.schools.length === 0
          ? sql<SqlBool>`1 = 0`
          : eb('s.school_id', 'in', [...reader.schools]),
      eb.not(eb.exists(heldBlocks(db, t, { user, student }).select('b.id'))),
      eb.or([
        eb.exists(
          db
            .selectFrom('user_group_members as m')
            .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
            .innerJoin('student_group_members as sgm', 'sgm.student_group_id', 'l.student_group_id')
            .select('m.user_id')
            .where('m.user_id', '=', user)
            .where('m.valid_to', 'is', null)
            .where('l.valid_to', 'is', null)
            .where('sgm.student_id', '=', student)
            .where((eb2) =>
              eb2.or([eb2('sgm.valid_to', 'is', null), eb2('sgm.valid_to', '>=', deletedAt)]),
            ),
        ),
        eb.exists(
          db
            .selectFrom('user_group_members as m')
            .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
            .select('m.user_id')
            .where('m.user_id', '=', user)
            .where('m.valid_to', 'is', null)
            .where('l.valid_to', 'is', null)
            .where('l.student_id', '=', student),
        ),
        eb.exists(
          db
            .selectFrom('student_links as l')
            .select('l.id')
            .where('l.user_id', '=', user)
            .where('l.valid_to', 'is', null)
            .where('l.student_id', '=', student),
        ),
      ]),
    ]),
  ]);
}

/** An incident's trail (deletion included) follows the incident policy. */
function incidentTrailReadable(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used inside queries over incidents
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  reader: Reader,
) {
  return incidentReadable(db, eb, t, asCaller(reader), currentRecord, 'include');
}

const recordKinds = ['student', 'incident', 'action', 'document'] as const;

/** The condition on `audit_events as e` for the rows a reader may read. */
export function auditRowReadable(
  db: Kysely<DB>,
  eb: AuditBuilder,
  t: AccessTime,
  reader: Reader,
  /** Where the reader decides blocks (`blocks.manage`): a block's row is a safeguarding decision. */
  blockSchools: 'all' | readonly string[],
): Expression<SqlBool> {
  const target = sql.ref<string>('e.target_id');
  const decidesBlocks = (eb2: ExpressionBuilder<DB & { s: DB['students'] }, 's'>) =>
    blockSchools === 'all'
      ? sql<SqlBool>`1 = 1`
      : blockSchools.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb2('s.school_id', 'in', [...blockSchools]);
  return eb.or([
    eb('e.target_type', 'is', null),
    eb('e.target_id', 'is', null),
    eb('e.target_type', 'not in', [...recordKinds]),
    eb.and([
      eb('e.target_type', '=', 'student'),
      eb.exists(
        db
          .selectFrom('students as s')
          .select('s.id')
          .where('s.id', '=', target)
          .where((eb2) => studentTrailReadable(db, eb2, t, reader))
          // Who is blocked from a child, and why, is read where blocks are decided.
          .where((eb2) => eb2.or([eb.not(eb('e.action', 'like', 'block.%')), decidesBlocks(eb2)])),
      ),
    ]),
    eb.and([
      eb('e.target_type', '=', 'incident'),
      eb.exists(
        db
          .selectFrom('incidents as i')
          .select('i.id')
          .where('i.id', '=', target)
          .where((eb2) => incidentTrailReadable(db, eb2, t, reader)),
      ),
    ]),
    eb.and([
      eb('e.target_type', '=', 'action'),
      eb.exists(
        db
          .selectFrom('actions as a')
          .innerJoin('incidents as i', 'i.id', 'a.incident_id')
          .select('a.id')
          .where('a.id', '=', target)
          .where((eb2) => incidentTrailReadable(db, eb2, t, reader)),
      ),
    ]),
    eb.and([
      eb('e.target_type', '=', 'document'),
      eb.exists(
        db
          .selectFrom('documents as d')
          .leftJoin('incidents as i', 'i.id', 'd.incident_id')
          .leftJoin('students as s', 's.id', 'd.student_id')
          .select('d.id')
          .where('d.id', '=', target)
          .where((eb2) =>
            eb2.or([
              eb2.and([
                eb2('d.incident_id', 'is not', null),
                incidentTrailReadable(db, eb2, t, reader),
              ]),
              eb2.and([
                eb2('d.student_id', 'is not', null),
                studentTrailReadable(db, eb2 as never, t, reader),
              ]),
            ]),
          ),
      ),
    ]),
  ]);
}

// biome-ignore lint/suspicious/noExplicitAny: used inside subqueries of any alias
type AnyBuilder = ExpressionBuilder<any, any>;

/**
 * A scope held in the columns `type` and `id` lies within the schools: it is one of them, or a
 * school group all of whose current schools are among them (and that has at least one).
 */
function scopeWithin(
  eb: AnyBuilder,
  type: Expression<string>,
  id: Expression<string>,
  schools: readonly string[],
): Expression<SqlBool> {
  const groupSchools = () =>
    eb
      .selectFrom('school_group_schools as sgs')
      .select('sgs.school_id')
      .where('sgs.school_group_id', '=', id)
      .where('sgs.valid_to', 'is', null);
  return eb.or([
    eb.and([eb(type, '=', 'school'), eb(id, 'in', [...schools])]),
    eb.and([
      eb(type, '=', 'school_group'),
      eb.exists(groupSchools()),
      eb.not(eb.exists(groupSchools().where('sgs.school_id', 'not in', [...schools]))),
    ]),
  ]);
}

/**
 * The person belongs to the schools: they hold at least one role now, directly or through a
 * group, and every role they hold is at a scope within the schools. Someone who also holds a role
 * elsewhere (or at the organisation), or no role at all, is the organisation's to oversee.
 */
function personWithin(
  db: Kysely<DB>,
  eb: AnyBuilder,
  user: Expression<string>,
  t: AccessTime,
  schools: readonly string[],
): Expression<SqlBool> {
  const grants = () =>
    db
      .selectFrom('role_grants as g')
      .select('g.id')
      .where('g.organisation_id', '=', t.organisationId)
      .where('g.valid_to', 'is', null)
      .where((eb2) =>
        eb2.or([
          eb2('g.user_id', '=', user),
          eb2(
            'g.user_group_id',
            'in',
            eb2
              .selectFrom('user_group_members as m')
              .select('m.user_group_id')
              .where('m.user_id', '=', user)
              .where('m.valid_to', 'is', null),
          ),
        ]),
      );
  return eb.and([
    eb.exists(grants()),
    eb.not(
      eb.exists(
        grants().where((eb2) =>
          eb2.not(scopeWithin(eb2, sql.ref('g.scope_type'), sql.ref('g.scope_id'), schools)),
        ),
      ),
    ),
  ]);
}

/** Rows without a record of their own (sign-ins, exports, imports, refusals) follow who acted. */
const actorKinds = ['session', 'incident_list', 'student_list', 'student_import', 'user_import'];

/** Row kinds whose record carries its own scope: the kind, its table, and its scope columns. */
const scopedKinds = [
  ['user_group', 'user_groups', ['home_scope_type', 'home_scope_id']],
  ['role_grant', 'role_grants', ['scope_type', 'scope_id']],
  ['access_audit_run', 'access_audit_runs', ['scope_type', 'scope_id']],
  ['access_review', 'access_reviews', ['scope_type', 'scope_id']],
] as const;

/**
 * The condition on `audit_events as e` for the rows that belong to these schools (issue 14, item
 * 5; docs/decisions.md 2026-11-30): a row about a child, incident, action, document, category or
 * student group of one of them; a user group homed within them; a role grant, an Access Audit
 * Report run or an access review at a scope within them; the school itself (its settings, its
 * notification defaults); a person all of whose roles
 * are within them; and a row without a record of its own (a sign-in, an export, a refusal) of such
 * a person. Everything else (the organisation, its school groups, single sign-on, SCIM tokens,
 * email retries, anything of another school or of several) stays with the organisation's Admins.
 * The record policy (`auditRowReadable`) still applies on top.
 */
export function auditRowInSchools(
  db: Kysely<DB>,
  eb: AuditBuilder,
  t: AccessTime,
  schools: readonly string[],
): Expression<SqlBool> {
  if (schools.length === 0) return sql<SqlBool>`1 = 0`;
  const target = sql.ref<string>('e.target_id');
  const type = (kind: string) => eb('e.target_type', '=', kind);
  const inSchools = [...schools];
  return eb.or([
    eb.and([
      type('student'),
      eb.exists(
        db
          .selectFrom('students as s')
          .select('s.id')
          .where('s.id', '=', target)
          .where('s.school_id', 'in', inSchools),
      ),
    ]),
    eb.and([
      type('incident'),
      eb.exists(
        db
          .selectFrom('incidents as i')
          .select('i.id')
          .where('i.id', '=', target)
          .where('i.school_id', 'in', inSchools),
      ),
    ]),
    eb.and([
      type('action'),
      eb.exists(
        db
          .selectFrom('actions as a')
          .innerJoin('incidents as i', 'i.id', 'a.incident_id')
          .select('a.id')
          .where('a.id', '=', target)
          .where('i.school_id', 'in', inSchools),
      ),
    ]),
    eb.and([
      type('document'),
      eb.exists(
        db
          .selectFrom('documents as d')
          .leftJoin('incidents as i', 'i.id', 'd.incident_id')
          .leftJoin('students as s', 's.id', 'd.student_id')
          .select('d.id')
          .where('d.id', '=', target)
          .where((eb2) =>
            eb2.or([eb2('i.school_id', 'in', inSchools), eb2('s.school_id', 'in', inSchools)]),
          ),
      ),
    ]),
    eb.and([
      type('student_group'),
      eb.exists(
        db
          .selectFrom('student_groups as sg')
          .select('sg.id')
          .where('sg.id', '=', target)
          .where('sg.school_id', 'in', inSchools),
      ),
    ]),
    eb.and([
      type('category'),
      eb.exists(
        db
          .selectFrom('categories as c')
          .select('c.id')
          .where('c.id', '=', target)
          .where('c.school_id', 'in', inSchools),
      ),
    ]),
    ...scopedKinds.map(([kind, table, columns]) =>
      eb.and([
        type(kind),
        eb.exists(
          db
            // Each of these tables has an `id` and its scope columns; typed as the first of them.
            .selectFrom(`${table} as x` as 'user_groups as x')
            .select('x.id')
            .where('x.id', '=', target)
            .where((eb2) =>
              scopeWithin(eb2, sql.ref(`x.${columns[0]}`), sql.ref(`x.${columns[1]}`), inSchools),
            ),
        ),
      ]),
    ),
    eb.and([type('school'), eb('e.target_id', 'in', inSchools)]),
    eb.and([type('user'), personWithin(db, eb, target, t, inSchools)]),
    eb.and([
      eb.or([eb('e.target_id', 'is', null), eb('e.target_type', 'in', actorKinds)]),
      eb('e.actor_user_id', 'is not', null),
      personWithin(db, eb, sql.ref<string>('e.actor_user_id'), t, inSchools),
    ]),
  ]);
}

/** Haven's ids inside any text of a row: 26 lower-case Crockford base32 characters. */
const ID_PATTERN = /(?<![0-9a-z])[0-9a-hjkmnp-tv-z]{26}(?![0-9a-z])/g;

export function idsIn(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    for (const match of value.matchAll(ID_PATTERN)) into.add(match[0]);
  } else if (Array.isArray(value)) {
    for (const item of value) idsIn(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) idsIn(item, into);
  }
  return into;
}

/**
 * Of these ids, those naming a child, incident, action or document of the organisation that the
 * reader may not read: the ids to withhold. Ids of people, groups and schools stay (an Admin may
 * list those anyway).
 */
export async function hiddenRecordIds(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  ids: Iterable<string>,
): Promise<Set<string>> {
  const hidden = new Set<string>();
  for (const slice of chunks([...new Set(ids)])) {
    const org = t.organisationId;
    const [students, incidents, actions, documents] = await Promise.all([
      db
        .selectFrom('students as s')
        .select((eb) => ['s.id', sql<boolean>`${studentTrailReadable(db, eb, t, reader)}`.as('ok')])
        .where('s.id', 'in', slice)
        .where('s.organisation_id', '=', org)
        .execute(),
      db
        .selectFrom('incidents as i')
        .select((eb) => [
          'i.id',
          sql<boolean>`${incidentTrailReadable(db, eb, t, reader)}`.as('ok'),
        ])
        .where('i.id', 'in', slice)
        .where('i.organisation_id', '=', org)
        .execute(),
      db
        .selectFrom('actions as a')
        .innerJoin('incidents as i', 'i.id', 'a.incident_id')
        .select((eb) => [
          'a.id',
          sql<boolean>`${incidentTrailReadable(db, eb, t, reader)}`.as('ok'),
        ])
        .where('a.id', 'in', slice)
        .where('a.organisation_id', '=', org)
        .execute(),
      db
        .selectFrom('documents as d')
        .leftJoin('incidents as i', 'i.id', 'd.incident_id')
        .select((eb) => [
          'd.id',
          'd.student_id',
          sql<boolean>`${eb.and([eb('d.incident_id', 'is not', null), incidentTrailReadable(db, eb, t, reader)])}`.as(
            'ok',
          ),
        ])
        .where('d.id', 'in', slice)
        .where('d.organisation_id', '=', org)
        .execute(),
    ]);
    for (const row of [...students, ...incidents, ...actions])
      if (!sqlTrue(row.ok)) hidden.add(row.id);
    const studentFiles = documents.filter((d) => d.student_id !== null);
    const seen = await visibleAmong(
      db,
      t,
      reader,
      studentFiles.map((d) => d.student_id!),
    );
    for (const d of documents) {
      const ok = d.student_id !== null ? seen.has(d.student_id) : sqlTrue(d.ok);
      if (!ok) hidden.add(d.id);
    }
  }
  return hidden;
}

/** The value with every hidden id withheld, wherever it appears in it. */
export function withhold<T>(value: T, hidden: ReadonlySet<string>): T {
  if (hidden.size === 0) return value;
  if (typeof value === 'string')
    return value.replace(ID_PATTERN, (id) => (hidden.has(id) ? '(withheld)' : id)) as T;
  if (Array.isArray(value)) return value.map((item) => withhold(item, hidden)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, withhold(item, hidden)]),
    ) as T;
  return value;
}

/** The versions of an incident an audit row describes: its creation is version 1, an edit two. */
function versionsDescribed(row: AuditRowText): number[] {
  if (row.target_type !== 'incident') return [];
  if (row.action === 'incident.create') return [1];
  if (row.action !== 'incident.update') return [];
  const revision = (text: string | null) =>
    Number((text ? (JSON.parse(text) as { revision?: unknown }) : {}).revision);
  return [revision(row.before_json), revision(row.after_json)].filter(Number.isFinite);
}

interface AuditRowText {
  id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before_json: string | null;
  after_json: string | null;
}

/**
 * Rows describing a version of an incident that the reader could not read as a record of that
 * version's shape (an allegation since lowered, a child since removed): their before and after
 * are withheld, as the version itself is on the revisions page.
 */
export async function rowsOfUnreadableVersions(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  rows: readonly AuditRowText[],
): Promise<Set<string>> {
  const withheld = new Set<string>();
  const byIncident = new Map<string, AuditRowText[]>();
  for (const row of rows) {
    if (versionsDescribed(row).length === 0 || !row.target_id) continue;
    byIncident.set(row.target_id, [...(byIncident.get(row.target_id) ?? []), row]);
  }
  for (const [incidentId, described] of byIncident) {
    const current = await db
      .selectFrom('incidents')
      .select('revision')
      .where('id', '=', incidentId)
      .where('organisation_id', '=', t.organisationId)
      .executeTakeFirst();
    const readable = await readableRevisions(db, t, reader, incidentId, 'include');
    // The row passed the filter, so the record as it stands is readable to them.
    if (current) readable.add(Number(current.revision));
    for (const row of described)
      if (versionsDescribed(row).some((n) => !readable.has(n))) withheld.add(row.id);
  }
  return withheld;
}
