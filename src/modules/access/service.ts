import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import type { Clearance } from '../../access/clearances.ts';
import {
  can,
  canSomewhere,
  requirePermission,
  requireSomewhere,
  viewerOf,
} from '../../access/decide.ts';
import { effectivePermissions, explainStudentAccess, pathsFor } from '../../access/explain.ts';
import { loadPrincipal, type Principal } from '../../access/principal.ts';
import { incidentVisibleTo, type RecordViewer } from '../../access/records.ts';
import {
  type AccessTime,
  planWhoCanSee,
  reachingUserIds,
  roleHolderIds,
  userLive,
  userSeesStudent,
  type WhoShape,
} from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { Change } from '../audit/change.ts';
import { findSchool, scopeNames } from '../organisations/repository.ts';
import { findVisibleStudent, visibleStudentIds } from '../students/repository.ts';
import { UserGroupEditor } from '../user-groups/editor.ts';
import { findUserGroup } from '../user-groups/repository.ts';
import { applyOperation, type BatchOperation } from '../user-groups/service.ts';
import { findUser } from '../users/repository.ts';
import { presentHeldGrant } from '../users/service.ts';

const userCursor = z.tuple([z.string(), z.string()]);

/** A change that may let more people see child-protection or allegation records. */
export type WideningChange =
  | {
      kind: 'incident_assignee';
      incidentId: string;
      assignee: { type: 'user' | 'user_group'; id: string };
    }
  | { kind: 'student_link'; userGroupId: string; studentGroupId?: string; studentId?: string }
  | { kind: 'group_members'; userGroupId: string; userIds: string[] }
  | { kind: 'user_group_batch'; userGroupId: string; operations: BatchOperation[] };

export interface WideningPreview {
  /** Sensitive records (that the caller can see) someone would newly see. */
  sensitiveRecords: number;
  /** People who cannot see those records now and would after the change. */
  newViewers: number;
  examples: { id: string; name: string }[];
  /** True when only the first `candidateLimit` people were tried: the counts are "at least". */
  partial: boolean;
}

/** Thrown to undo the trial change: the preview never commits. */
class TrialOver extends Error {}

/** The caller as the record filter needs anyone: every clearance they hold, step-up assumed. */
function recordViewer(principal: Principal): RecordViewer {
  return {
    ...viewerOf(principal),
    clearances: [...principal.clearances] as Clearance[],
    sensitiveSchools: 'all',
  };
}

const exampleCount = 5;
/**
 * People tried one by one in a preview. A group of thousands (a trust's "All staff") is judged
 * on its first members by id and the answer says it is partial ("at least N"), so a preview
 * never takes longer than the change it asks about.
 */
const candidateLimit = 1000;

export class AccessService {
  constructor(private readonly database: Database) {}

  /** Explaining someone else's access, or listing who can see a child, is an access-audit task (Admin). */
  #requireAudit(principal: Principal, userId?: string) {
    if (userId !== principal.userId) requireSomewhere(principal, 'reports.access_audit');
  }

  /** The caller must be able to see the child they ask about; otherwise it does not exist for them. */
  async #visibleStudent(principal: Principal, studentId: string) {
    const student = await findVisibleStudent(
      this.database.db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      studentId,
    );
    if (!student) throw notFound('Student');
    const school = await findSchool(this.database.db, principal.organisationId, student.school_id);
    return { student, schoolName: school?.name ?? '' };
  }

  async explain(
    principal: Principal,
    query: { userId: string; studentId: string; asOf?: string | undefined },
  ) {
    this.#requireAudit(principal, query.userId);
    const db = this.database.db;
    const user = await findUser(db, principal.organisationId, query.userId);
    if (!user) throw notFound('User');
    const { student, schoolName } = await this.#visibleStudent(principal, query.studentId);
    const t: AccessTime = { organisationId: principal.organisationId, asOf: query.asOf };
    const explanation = await explainStudentAccess(db, t, user.id, {
      id: student.id,
      schoolId: student.school_id,
      schoolName,
      createdAt: student.created_at,
      deletedAt: student.deleted_at,
    });
    return {
      ...explanation,
      asOf: query.asOf ?? null,
      user: { id: user.id, name: user.name },
      student: { id: student.id, name: `${student.given_name} ${student.family_name}` },
    };
  }

  /** Who can see a child, each with their paths, paginated by name (`GET /students/:id/access`). */
  async whoCanSee(
    principal: Principal,
    studentId: string,
    query: {
      asOf?: string | undefined;
      limit: number;
      cursor?: string | undefined;
      /** Overrides the planner (tests hold every shape to the same answer). */
      shape?: WhoShape | undefined;
    },
  ) {
    this.#requireAudit(principal);
    const db = this.database.db;
    const { student } = await this.#visibleStudent(principal, studentId);
    const t: AccessTime = { organisationId: principal.organisationId, asOf: query.asOf };
    const after = decodeCursor(query.cursor, userCursor);
    const target = { id: student.id, schoolId: student.school_id };
    const plan = query.shape ? { shape: query.shape } : await planWhoCanSee(db, t, target);
    let select = db
      .selectFrom('users as u')
      .select(['u.id', 'u.name', 'u.email'])
      .where((eb) => userSeesStudent(db, eb, t, target));
    if (plan.shape === 'holders')
      select = select.where('u.id', 'in', roleHolderIds(db, t, student.school_id));
    if (plan.shape === 'reachers')
      select = select.where('u.id', 'in', reachingUserIds(db, t, student.id));
    if (after) {
      select = select.where((eb) =>
        eb.or([
          eb('u.name', '>', after[0]),
          eb.and([eb('u.name', '=', after[0]), eb('u.id', '>', after[1])]),
        ]),
      );
    }
    const rows = await select
      .orderBy('u.name')
      .orderBy('u.id')
      .limit(query.limit + 1)
      .execute();
    const page = toPage(
      rows,
      query.limit,
      (row) => row,
      (row) => [row.name, row.id],
    );
    const paths = await pathsFor(db, t, {
      users: page.items.map((u) => u.id),
      student: student.id,
    });
    return {
      asOf: query.asOf ?? null,
      items: page.items.map((u) => ({ user: u, paths: paths.get(u.id) ?? [] })),
      nextCursor: page.nextCursor,
    };
  }

  async effective(principal: Principal, userId: string, asOf: string | undefined) {
    this.#requireAudit(principal, userId);
    const db = this.database.db;
    const user = await findUser(db, principal.organisationId, userId);
    if (!user) throw notFound('User');
    const t: AccessTime = { organisationId: principal.organisationId, asOf };
    const [held, names] = await Promise.all([
      effectivePermissions(db, t, userId),
      scopeNames(db, principal.organisationId),
    ]);
    // Children the caller cannot see are shown without name or identifier.
    const mentioned = [
      ...held.paths.flatMap((p) => (p.studentId ? [p.studentId] : [])),
      ...held.blocks.map((b) => b.studentId),
    ];
    const visible = await visibleStudentIds(
      db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      mentioned,
    );
    const studentNames = new Map(
      visible.size === 0
        ? []
        : (
            await db
              .selectFrom('students')
              .select(['id', 'given_name', 'family_name'])
              .where('id', 'in', [...visible])
              .execute()
          ).map((s) => [s.id, `${s.given_name} ${s.family_name}`]),
    );
    const shownBlocks = held.blocks.filter((b) => visible.has(b.studentId));
    return {
      asOf: asOf ?? null,
      user: {
        id: user.id,
        name: user.name,
        email: user.email,
        status: user.disabled_at ? 'disabled' : 'active',
      },
      roles: held.roles.map((g) => presentHeldGrant(g, names)),
      clearances: held.clearances,
      memberships: held.memberships,
      paths: held.paths.map((p) => ({
        ...p,
        studentId: p.studentId && visible.has(p.studentId) ? p.studentId : null,
        student:
          p.studentId && visible.has(p.studentId)
            ? { id: p.studentId, name: studentNames.get(p.studentId) ?? '' }
            : null,
        redacted: p.studentId !== null && !visible.has(p.studentId),
      })),
      blocks: shownBlocks.map((b) => ({
        id: b.id,
        student: { id: b.studentId, name: studentNames.get(b.studentId) ?? '' },
        reason: b.reason,
        since: b.since,
        by: b.by,
      })),
      hiddenBlocks: held.blocks.length - shownBlocks.length,
      visibleStudents: held.visibleStudents,
    };
  }

  /**
   * How many more people would see child-protection or allegation records after a change
   * (`POST /access/widening-preview`). The change is made for real inside a transaction that is
   * always rolled back, so "after" is answered by the very filter that decides every read
   * (`incidentVisibleTo`), not by a second reckoning of it. Only records the caller can see
   * are counted: the preview must not reveal records the caller may not know of.
   */
  async wideningPreview(principal: Principal, change: WideningChange): Promise<WideningPreview> {
    const db = this.database.db;
    const org = principal.organisationId;
    const callerViewer = recordViewer(principal);
    const t: AccessTime = { organisationId: org };
    const sensitive = () =>
      db
        .selectFrom('incidents as i')
        .select(['i.id', 'i.school_id'])
        .where('i.sensitivity', '!=', 'standard')
        .where((eb) => incidentVisibleTo(db, eb, t, callerViewer));

    let records: { id: string; school_id: string }[];
    let candidates: string[];
    let apply: (trx: Transaction<DB>, now: string) => Promise<void>;

    if (change.kind === 'incident_assignee') {
      const incident = await db
        .selectFrom('incidents as i')
        .select(['i.id', 'i.school_id', 'i.sensitivity'])
        .where('i.id', '=', change.incidentId)
        .where((eb) => incidentVisibleTo(db, eb, t, callerViewer))
        .executeTakeFirst();
      if (!incident) throw notFound('Incident');
      requirePermission(principal, 'incidents.assign', { type: 'school', id: incident.school_id });
      records = incident.sensitivity === 'standard' ? [] : [incident];
      const { assignee } = change;
      if (assignee.type === 'user') {
        candidates = [assignee.id];
      } else {
        await this.#userGroup(org, assignee.id);
        candidates = await this.#memberIds(assignee.id);
      }
      apply = async (trx, now) => {
        await trx
          .insertInto('incident_assignees')
          .values({
            incident_id: incident.id,
            assignee_type: assignee.type,
            assignee_id: assignee.id,
            assigned_by: principal.userId,
            assigned_at: now,
          })
          .execute();
      };
    } else if (change.kind === 'student_link') {
      requireSomewhere(principal, 'user_groups.manage');
      await this.#userGroup(org, change.userGroupId);
      const { studentId, studentGroupId } = change;
      if (studentId !== undefined) await this.#visibleStudent(principal, studentId);
      if (studentGroupId !== undefined) {
        const group = await db
          .selectFrom('student_groups')
          .select('id')
          .where('id', '=', studentGroupId)
          .where('organisation_id', '=', org)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (!group) throw notFound('Student group');
      }
      const involved = studentId
        ? [studentId]
        : (
            await db
              .selectFrom('student_group_members as sgm')
              .select('sgm.student_id')
              .where('sgm.student_group_id', '=', studentGroupId!)
              .where('sgm.valid_to', 'is', null)
              .execute()
          ).map((r) => r.student_id);
      records =
        involved.length === 0
          ? []
          : await sensitive()
              .where('i.id', 'in', (eb) =>
                eb
                  .selectFrom('incident_students as is')
                  .select('is.incident_id')
                  .where('is.student_id', 'in', involved),
              )
              .execute();
      candidates = await this.#memberIds(change.userGroupId);
      apply = async (trx, now) => {
        await trx
          .insertInto('student_links')
          .values({
            id: newId(),
            organisation_id: org,
            user_group_id: change.userGroupId,
            user_id: null,
            student_group_id: studentGroupId ?? null,
            student_id: studentId ?? null,
            created_by: principal.userId,
            removed_by: null,
            valid_from: now,
            valid_to: null,
          })
          .execute();
      };
    } else if (change.kind === 'user_group_batch') {
      const group = await findUserGroup(db, org, change.userGroupId);
      if (!group) throw notFound('User group');
      // Asked before trying anything: with no record to count, the batch is never tried.
      await this.#requireAdministers(principal, group.id);
      const adding = change.operations.flatMap((op) => (op.op === 'addMembers' ? op.userIds : []));
      const known =
        adding.length === 0
          ? []
          : await db
              .selectFrom('users')
              .select('id')
              .where('organisation_id', '=', org)
              .where('id', 'in', adding)
              .execute();
      candidates = [
        ...new Set([...(await this.#memberIds(change.userGroupId)), ...known.map((u) => u.id)]),
      ];
      records = await sensitive().execute();
      // The batch itself, through the same editor and checks as POST /user-groups/:id/batch: a
      // refused operation fails the preview with the error the save would give.
      apply = async (trx, now) => {
        const trial = new Change(trx, this.database.engine, now, {
          organisationId: org,
          userId: principal.userId,
        });
        const editor = new UserGroupEditor(trial, principal, group);
        for (const operation of change.operations) await applyOperation(editor, operation);
      };
    } else {
      await this.#userGroup(org, change.userGroupId);
      await this.#requireAdministers(principal, change.userGroupId);
      const current = new Set(await this.#memberIds(change.userGroupId));
      const known =
        change.userIds.length === 0
          ? []
          : await db
              .selectFrom('users')
              .select('id')
              .where('organisation_id', '=', org)
              .where('id', 'in', change.userIds)
              .execute();
      candidates = known.map((u) => u.id).filter((id) => !current.has(id));
      // A new member reaches what the group reaches, and what its assignments show.
      records = await sensitive().execute();
      apply = async (trx, now) => {
        if (candidates.length === 0) return;
        await trx
          .insertInto('user_group_members')
          .values(
            candidates.map((userId) => ({
              organisation_id: org,
              user_group_id: change.userGroupId,
              user_id: userId,
              valid_from: now,
              valid_to: null,
            })),
          )
          .execute();
      };
    }

    if (records.length === 0 || candidates.length === 0)
      return { sensitiveRecords: 0, newViewers: 0, examples: [], partial: false };
    const partial = candidates.length > candidateLimit;
    if (partial) candidates = [...candidates].sort().slice(0, candidateLimit);
    const before = await this.#readable(db, org, candidates, records);
    let after = new Map<string, Set<string>>();
    try {
      await db.transaction().execute(async (trx) => {
        await apply(trx, new Date().toISOString());
        after = await this.#readable(trx, org, candidates, records);
        throw new TrialOver();
      });
    } catch (error) {
      if (!(error instanceof TrialOver)) throw error;
    }
    const gained = new Set<string>();
    const newViewerIds: string[] = [];
    for (const userId of candidates) {
      const had = before.get(userId) ?? new Set<string>();
      const fresh = [...(after.get(userId) ?? [])].filter((id) => !had.has(id));
      if (fresh.length === 0) continue;
      newViewerIds.push(userId);
      for (const id of fresh) gained.add(id);
    }
    const examples =
      newViewerIds.length === 0
        ? []
        : await db
            .selectFrom('users')
            .select(['id', 'name'])
            .where('id', 'in', newViewerIds)
            .orderBy('name')
            .limit(exampleCount)
            .execute();
    return { sensitiveRecords: gained.size, newViewers: newViewerIds.length, examples, partial };
  }

  async #userGroup(organisationId: string, groupId: string) {
    const group = await this.database.db
      .selectFrom('user_groups')
      .select('id')
      .where('id', '=', groupId)
      .where('organisation_id', '=', organisationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!group) throw notFound('User group');
  }

  /** Admin or higher, or an owner of the group: who may change its members (spec section 5). */
  async #requireAdministers(principal: Principal, groupId: string): Promise<void> {
    if (canSomewhere(principal, 'user_groups.manage')) return;
    const owner = await this.database.db
      .selectFrom('user_group_owners')
      .select('user_id')
      .where('user_group_id', '=', groupId)
      .where('user_id', '=', principal.userId)
      .where('valid_to', 'is', null)
      .executeTakeFirst();
    if (!owner) requireSomewhere(principal, 'user_groups.manage');
  }

  async #memberIds(groupId: string): Promise<string[]> {
    const rows = await this.database.db
      .selectFrom('user_group_members')
      .select('user_id')
      .where('user_group_id', '=', groupId)
      .where('valid_to', 'is', null)
      .execute();
    return rows.map((r) => r.user_id);
  }

  /**
   * Of the given records, those each live user can read: the record filter with their own
   * roles and clearances, and the permission to view incidents at the record's school.
   */
  async #readable(
    db: Kysely<DB>,
    organisationId: string,
    userIds: readonly string[],
    records: readonly { id: string; school_id: string }[],
  ): Promise<Map<string, Set<string>>> {
    const t: AccessTime = { organisationId };
    const schoolOf = new Map(records.map((r) => [r.id, r.school_id]));
    const live = await db
      .selectFrom('users as u')
      .select('u.id')
      .where('u.organisation_id', '=', organisationId)
      .where('u.id', 'in', [...userIds])
      .where((eb) => userLive(eb, undefined))
      .execute();
    const readable = new Map<string, Set<string>>();
    for (const { id: userId } of live) {
      const principal = await loadPrincipal(db, organisationId, userId);
      const rows = await db
        .selectFrom('incidents as i')
        .select('i.id')
        .where('i.id', 'in', [...schoolOf.keys()])
        .where((eb) => incidentVisibleTo(db, eb, t, recordViewer(principal)))
        .execute();
      readable.set(
        userId,
        new Set(
          rows
            .map((r) => r.id)
            .filter((id) =>
              can(principal, 'incidents.view', { type: 'school', id: schoolOf.get(id)! }),
            ),
        ),
      );
    }
    return readable;
  }
}
