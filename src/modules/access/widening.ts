import type { Kysely } from 'kysely';
import type { AssignmentWarning } from '../../access/assignments.ts';
import { incidentReadable, incidentReaders, possibleReaders } from '../../access/incidents.ts';
import { asCaller, type Caller, readerOf } from '../../access/readers.ts';
import type { GrantableRole } from '../../access/roles.ts';
import type { Scope } from '../../access/scopes.ts';
import type { AccessTime } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { type Change, runTrial } from '../audit/change.ts';
import type { BlockService } from '../blocks/service.ts';
import type { IncidentPatch } from '../incidents/schema.ts';
import type { IncidentService } from '../incidents/service.ts';
import type { DirectLinkService } from '../links/service.ts';
import type { RoleGrantService } from '../role-grants/service.ts';
import type { BatchOperation, UserGroupService } from '../user-groups/service.ts';

/** A change that may let more people read child-protection or allegation records. */
export type WideningChange =
  | {
      kind: 'incident_assignee';
      incidentId: string;
      assignee: { type: 'user' | 'user_group'; id: string };
    }
  | { kind: 'incident_update'; incidentId: string; patch: IncidentPatch }
  | {
      kind: 'student_link';
      userGroupId: string;
      studentGroupId?: string;
      studentId?: string;
      confirm?: boolean;
      rationale?: string;
    }
  | { kind: 'group_members'; userGroupId: string; userIds: string[] }
  | { kind: 'user_group_batch'; userGroupId: string; operations: BatchOperation[] }
  | {
      kind: 'role_grant';
      subject: { type: 'user' | 'user_group'; id: string };
      role: GrantableRole;
      scope: Scope;
    }
  | { kind: 'block_removal'; blockId: string }
  | { kind: 'direct_link'; userId: string; studentId: string };

export interface WideningPreview {
  /** Sensitive records (that the caller can read) someone would newly read. */
  sensitiveRecords: number;
  /** People who cannot read those records now and would after the change. */
  newViewers: number;
  examples: { id: string; name: string }[];
  /** True when only the first `candidateLimit` people were tried: the counts are "at least". */
  partial: boolean;
  /**
   * For an assignment: who among the assignees cannot read the record even so, as the save would
   * answer (`src/access/assignments.ts`); the web app shows them before saving.
   */
  warnings: AssignmentWarning[];
}

const exampleCount = 5;
/**
 * People asked about in one preview. A group of thousands (a trust's "All staff") is judged on
 * its first members by id and the answer says it is partial ("at least N"), so a preview never
 * takes much longer than the change it asks about.
 */
export const candidateLimit = 1000;

/**
 * "How many more people would read child-protection or allegation records after this change?"
 * (`POST /access/widening-preview`). The preview IS the change: the very command the save runs
 * (with its own checks and errors), inside a transaction that is always rolled back; readers
 * before and after are counted by the incident policy (`incidentReaders`), the same function that
 * filters every read. Only records the caller can read are counted, so a preview never tells
 * anyone about records they may not know of.
 */
export class WideningPreviewService {
  constructor(
    private readonly database: Database,
    private readonly options: { mfaWindowMs: number },
    private readonly incidents: IncidentService,
    private readonly userGroups: UserGroupService,
    private readonly roleGrants: RoleGrantService,
    private readonly blocks: BlockService,
    private readonly directLinks: DirectLinkService,
  ) {}

  async preview(caller: Caller, change: WideningChange): Promise<WideningPreview> {
    const { principal } = caller;
    const t: AccessTime = { organisationId: principal.organisationId };
    const origin = { organisationId: principal.organisationId, userId: principal.userId };
    return runTrial(this.database, origin, async (trial) => {
      const trx = trial.db;
      const records = await this.#records(trx, t, caller, change);
      const people = await this.#people(trx, t, change, records);
      const sensitiveBefore = await sensitiveAmong(trx, records);
      const before = await incidentReaders(trx, t, records, people.userIds);
      const warnings = await this.#apply(trial, caller, change);
      const after = await incidentReaders(trx, t, records, people.userIds);
      let partial = people.partial;
      let asked = records;
      if (change.kind === 'incident_assignee' || change.kind === 'incident_update') {
        // One record: asked about only if it is sensitive before or after the change (lowering
        // it is the widening), and whoever can reach it after the change is asked about too.
        const sensitiveAfter = await sensitiveAmong(trx, records);
        asked = records.filter((id) => sensitiveBefore.has(id) || sensitiveAfter.has(id));
        const later = await possibleReaders(trx, t, asked, candidateLimit);
        const fresh = later.userIds.filter((id) => !people.userIds.includes(id));
        after.push(...(await incidentReaders(trx, t, asked, fresh)));
        partial ||= later.partial;
      }
      const keep = new Set(asked);
      const summary = await this.#summarise(
        trx,
        before.filter((p) => keep.has(p.incident_id)),
        after.filter((p) => keep.has(p.incident_id)),
        partial,
      );
      return { ...summary, warnings };
    });
  }

  /** The sensitive records the change could open, among those the caller reads (step-up assumed). */
  async #records(
    db: Kysely<DB>,
    t: AccessTime,
    caller: Caller,
    change: WideningChange,
  ): Promise<string[]> {
    const reader = await readerOf(db, caller, this.options.mfaWindowMs, 'assume');
    let query = db
      .selectFrom('incidents as i')
      .select('i.id')
      .where((eb) => incidentReadable(db, eb, t, asCaller(reader)));
    if (change.kind === 'incident_assignee' || change.kind === 'incident_update') {
      // The command itself decides 404 or 403 for a record the caller may not change.
      query = query.where('i.id', '=', change.incidentId);
    } else {
      query = query.where('i.sensitivity', '!=', 'standard');
    }
    return (await query.execute()).map((r) => r.id);
  }

  /** Who the change could open records to: at most `candidateLimit` people, by id. */
  async #people(
    db: Kysely<DB>,
    t: AccessTime,
    change: WideningChange,
    records: string[],
  ): Promise<{ userIds: string[]; partial: boolean }> {
    const capped = (ids: Iterable<string>) => {
      const sorted = [...new Set(ids)].sort();
      return { userIds: sorted.slice(0, candidateLimit), partial: sorted.length > candidateLimit };
    };
    const members = async (groupId: string) =>
      (
        await db
          .selectFrom('user_group_members')
          .select('user_id')
          .where('user_group_id', '=', groupId)
          .where('organisation_id', '=', t.organisationId)
          .where('valid_to', 'is', null)
          .orderBy('user_id')
          .limit(candidateLimit + 1)
          .execute()
      ).map((r) => r.user_id);
    switch (change.kind) {
      case 'incident_assignee':
      case 'incident_update':
        return possibleReaders(db, t, records, candidateLimit);
      case 'student_link':
        return capped(await members(change.userGroupId));
      case 'group_members':
        return capped(change.userIds);
      case 'user_group_batch':
        return capped([
          ...(await members(change.userGroupId)),
          ...change.operations.flatMap((op) => (op.op === 'addMembers' ? op.userIds : [])),
        ]);
      case 'role_grant':
        return capped(
          change.subject.type === 'user' ? [change.subject.id] : await members(change.subject.id),
        );
      case 'block_removal': {
        const block = await db
          .selectFrom('blocks')
          .select('user_id')
          .where('id', '=', change.blockId)
          .where('organisation_id', '=', t.organisationId)
          .executeTakeFirst();
        return capped(block ? [block.user_id] : []);
      }
      case 'direct_link':
        return capped([change.userId]);
    }
  }

  /** The real command, with the checks, errors and warnings the save itself gives. */
  async #apply(
    trial: Change,
    caller: Caller,
    change: WideningChange,
  ): Promise<AssignmentWarning[]> {
    const { principal } = caller;
    switch (change.kind) {
      case 'incident_assignee':
        return this.incidents.assignIn(trial, caller, change.incidentId, change.assignee);
      case 'incident_update':
        await this.incidents.updateIn(trial, caller, change.incidentId, change.patch);
        return [];
      case 'student_link':
        await this.userGroups.batchIn(trial, principal, change.userGroupId, [
          {
            op: 'addStudentLink',
            studentGroupId: change.studentGroupId,
            studentId: change.studentId,
            confirm: change.confirm,
            rationale: change.rationale,
          },
        ]);
        return [];
      case 'group_members':
        await this.userGroups.batchIn(trial, principal, change.userGroupId, [
          { op: 'addMembers', userIds: change.userIds },
        ]);
        return [];
      case 'user_group_batch':
        await this.userGroups.batchIn(trial, principal, change.userGroupId, change.operations);
        return [];
      case 'role_grant':
        await this.roleGrants.grantIn(trial, principal, change);
        return [];
      case 'block_removal':
        await this.blocks.removeIn(trial, principal, change.blockId);
        return [];
      case 'direct_link':
        await this.directLinks.linkIn(trial, principal, change.userId, change.studentId);
        return [];
    }
  }

  async #summarise(
    db: Kysely<DB>,
    before: { user_id: string; incident_id: string }[],
    after: { user_id: string; incident_id: string }[],
    partial: boolean,
  ): Promise<Omit<WideningPreview, 'warnings'>> {
    const had = new Set(before.map((p) => `${p.user_id} ${p.incident_id}`));
    const gained = after.filter((p) => !had.has(`${p.user_id} ${p.incident_id}`));
    const newViewerIds = [...new Set(gained.map((p) => p.user_id))];
    const examples =
      newViewerIds.length === 0
        ? []
        : await db
            .selectFrom('users')
            .select(['id', 'name'])
            .where('id', 'in', newViewerIds.slice(0, 500))
            .orderBy('name')
            .orderBy('id')
            .limit(exampleCount)
            .execute();
    return {
      sensitiveRecords: new Set(gained.map((p) => p.incident_id)).size,
      newViewers: newViewerIds.length,
      examples,
      partial,
    };
  }
}

/** Which of these records are child-protection or allegation records now. */
async function sensitiveAmong(db: Kysely<DB>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('incidents')
    .select('id')
    .where('id', 'in', [...ids])
    .where('sensitivity', '!=', 'standard')
    .execute();
  return new Set(rows.map((r) => r.id));
}
