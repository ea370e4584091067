import { type Kysely, sql } from 'kysely';
import { actionAbilities, actionReadable, assignedToReader } from '../../access/actions.ts';
import { alertReadable } from '../../access/alerts.ts';
import {
  type AssignmentWarning,
  assignmentWarnings,
  requireUnblockedAssignee,
} from '../../access/assignments.ts';
import { requirePermission, requireSomewhere } from '../../access/decide.ts';
import { heldBackByStepUp } from '../../access/incidents.ts';
import type { Principal } from '../../access/principal.ts';
import { asCaller, type Reader } from '../../access/readers.ts';
import { assignableExists, visibleUserGroupIds } from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import { sqlTrue } from '../../db/sql.ts';
import type { ActionsTable, AssigneeType, DB } from '../../db/tables.ts';
import { HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import type { Caller, IncidentService } from '../incidents/service.ts';
import { raiseAlerts } from '../notifications/alerts.ts';

export interface ActionView {
  id: string;
  incidentId: string;
  title: string;
  dueAt: string | null;
  overdue: boolean;
  /** `name` only where the list names assignees (an incident's actions). */
  assignee: { type: AssigneeType; id: string; name?: string };
  completedAt: string | null;
  completedBy: string | null;
  createdAt: string;
  /** What the caller may do with it (`actionAbilities`); the server still decides each request. */
  abilities: { complete: boolean; update: boolean; delete: boolean };
}

/**
 * The one writer of new actions, inside the caller's change: an action set here and one an
 * accepted transfer brings to another organisation's school (`modules/transfers`). It writes the
 * row and nothing else: alerts and the audit entry are the caller's.
 */
export async function insertAction(change: Change, row: ActionsTable): Promise<void> {
  await change.db.insertInto('actions').values(row).execute();
}

/** An action as it leaves the server, with the caller's abilities from the action policy. */
function present(
  row: ActionsTable,
  now: string,
  principal: Principal,
  context: { school_id: string; mine: boolean },
): ActionView {
  return {
    id: row.id,
    incidentId: row.incident_id,
    title: row.title,
    dueAt: row.due_at,
    overdue: row.completed_at === null && row.due_at !== null && row.due_at < now,
    assignee: { type: row.assignee_type, id: row.assignee_id },
    completedAt: row.completed_at,
    completedBy: row.completed_by,
    createdAt: row.created_at,
    abilities: actionAbilities(principal, context, context.mine),
  };
}

/** Actions on incidents, and the caller's alerts (spec section 2 rows for actions and alerts). */
export class ActionService {
  constructor(
    private readonly database: Database,
    private readonly incidents: IncidentService,
  ) {}

  get #db(): Kysely<DB> {
    return this.database.db;
  }

  /** An action the caller reads (404 otherwise), with whether it is theirs to complete. */
  /**
   * An action the caller reads, with whether it is theirs to complete: 404, or 403
   * `mfa_required` when only the step-up is missing (as for its incident).
   */
  async #visibleAction(db: Kysely<DB>, caller: Caller, actionId: string) {
    const t = { organisationId: caller.principal.organisationId };
    const row = await this.incidents.withStepUp(db, caller, 'Action', (reader) => {
      const who = asCaller(reader);
      return db
        .selectFrom('actions as a')
        .innerJoin('incidents as i', 'i.id', 'a.incident_id')
        .selectAll('a')
        .select('i.school_id')
        .select((eb) => sql<boolean>`${assignedToReader(db, eb, t, who)}`.as('mine'))
        .where('a.id', '=', actionId)
        .where((eb) => actionReadable(db, eb, t, who))
        .executeTakeFirst();
    });
    const { school_id, mine, ...action } = row;
    return { action: action as ActionsTable, context: { school_id, mine: sqlTrue(mine) } };
  }

  #visibleIncident(db: Kysely<DB>, caller: Caller, incidentId: string) {
    return this.incidents.readableForWork(db, caller, incidentId);
  }

  /** A person of the organisation, or a group the caller may see (404 otherwise). */
  async #checkAssignee(
    change: Change,
    principal: Principal,
    a: { type: AssigneeType; id: string },
  ) {
    const found = await assignableExists(change.db, principal, a);
    if (!found)
      throw new HavenError(404, 'not_found', 'Not found', 'Assignee not found', {
        field: 'assignee.id',
      });
  }

  async list(caller: Caller, incidentId: string) {
    const incident = await this.#visibleIncident(this.#db, caller, incidentId);
    const db = this.#db;
    const t = { organisationId: caller.principal.organisationId };
    const who = asCaller(await this.incidents.reader(caller));
    const rows = await db
      .selectFrom('actions as a')
      .innerJoin('incidents as i', 'i.id', 'a.incident_id')
      .selectAll('a')
      .select((eb) => sql<boolean>`${assignedToReader(db, eb, t, who)}`.as('mine'))
      .where('a.incident_id', '=', incidentId)
      .where((eb) => actionReadable(db, eb, t, who))
      .orderBy('a.created_at')
      .execute();
    const now = new Date().toISOString();
    const names = await this.#assigneeNames(caller.principal, rows);
    return {
      items: rows.map(({ mine, ...r }) => {
        const view = present(r, now, caller.principal, {
          school_id: incident.school_id,
          mine: sqlTrue(mine),
        });
        const name = names.get(`${r.assignee_type}:${r.assignee_id}`);
        return name === undefined ? view : { ...view, assignee: { ...view.assignee, name } };
      }),
    };
  }

  /** Who the actions are assigned to, by name: people and groups of the caller's organisation. */
  /** Whom actions are for, by name; a group the caller may not see is not named. */
  async #assigneeNames(principal: Principal, rows: ActionsTable[]) {
    const organisationId = principal.organisationId;
    const idsOf = (type: AssigneeType) => [
      ...new Set(rows.filter((r) => r.assignee_type === type).map((r) => r.assignee_id)),
    ];
    const named = async (table: 'users' | 'user_groups', ids: string[]) =>
      ids.length === 0
        ? []
        : this.#db
            .selectFrom(table)
            .select(['id', 'name'])
            .where('organisation_id', '=', organisationId)
            .where('id', 'in', ids)
            .execute();
    const [users, groups, seen] = await Promise.all([
      named('users', idsOf('user')),
      named('user_groups', idsOf('user_group')),
      visibleUserGroupIds(this.#db, principal, idsOf('user_group')),
    ]);
    return new Map([
      ...users.map((u) => [`user:${u.id}`, u.name] as const),
      ...groups.map(
        (g) => [`user_group:${g.id}`, seen.has(g.id) ? g.name : 'a group you cannot see'] as const,
      ),
    ]);
  }

  async create(
    caller: Caller,
    incidentId: string,
    input: {
      title: string;
      dueAt?: string | undefined;
      assignee: { type: AssigneeType; id: string };
    },
    origin: ChangeOrigin,
  ): Promise<ActionView & { warnings: AssignmentWarning[] }> {
    return runChange(this.database, origin, async (change) => {
      const incident = await this.#visibleIncident(change.db, caller, incidentId);
      requirePermission(caller.principal, 'actions.create', {
        type: 'school',
        id: incident.school_id,
      });
      await this.#checkAssignee(change, caller.principal, input.assignee);
      const t = { organisationId: caller.principal.organisationId };
      await requireUnblockedAssignee(change.db, t, incident.id, input.assignee);
      const row: ActionsTable = {
        id: newId(),
        organisation_id: caller.principal.organisationId,
        incident_id: incident.id,
        title: input.title,
        due_at: input.dueAt ? new Date(input.dueAt).toISOString() : null,
        assignee_type: input.assignee.type,
        assignee_id: input.assignee.id,
        created_by: caller.principal.userId,
        created_at: change.now,
        updated_at: change.now,
        completed_at: null,
        completed_by: null,
        deleted_at: null,
      };
      await insertAction(change, row);
      await raiseAlerts(change, row.organisation_id, [
        {
          kind: 'action_assigned',
          to: { type: row.assignee_type, id: row.assignee_id },
          incidentId: row.incident_id,
          actionId: row.id,
        },
      ]);
      const view = present(row, change.now, caller.principal, {
        school_id: incident.school_id,
        mine: row.assignee_type === 'user' && row.assignee_id === caller.principal.userId,
      });
      change.record({
        action: 'action.create',
        targetType: 'action',
        targetId: row.id,
        after: view,
      });
      return {
        ...view,
        warnings: await assignmentWarnings(change.db, t, incident.id, input.assignee),
      };
    });
  }

  /**
   * What giving an action on this incident to `assignee` would answer, before saving: 409
   * `assignee_blocked`, or the warnings (`src/access/assignments.ts`). Nothing is changed.
   */
  async checkAssignee(
    caller: Caller,
    incidentId: string,
    assignee: { type: AssigneeType; id: string },
  ): Promise<{ warnings: AssignmentWarning[] }> {
    const db = this.#db;
    const incident = await this.#visibleIncident(db, caller, incidentId);
    requirePermission(caller.principal, 'actions.create', {
      type: 'school',
      id: incident.school_id,
    });
    if (!(await assignableExists(db, caller.principal, assignee)))
      throw new HavenError(404, 'not_found', 'Not found', 'Assignee not found', {
        field: 'assignee.id',
      });
    const t = { organisationId: caller.principal.organisationId };
    await requireUnblockedAssignee(db, t, incident.id, assignee);
    return { warnings: await assignmentWarnings(db, t, incident.id, assignee) };
  }

  async update(
    caller: Caller,
    actionId: string,
    patch: {
      title?: string | undefined;
      dueAt?: string | null | undefined;
      assignee?: { type: AssigneeType; id: string } | undefined;
    },
    origin: ChangeOrigin,
  ): Promise<ActionView & { warnings: AssignmentWarning[] }> {
    return runChange(this.database, origin, async (change) => {
      const { action: before, context } = await this.#visibleAction(change.db, caller, actionId);
      requirePermission(caller.principal, 'actions.update', {
        type: 'school',
        id: context.school_id,
      });
      const t = { organisationId: caller.principal.organisationId };
      if (patch.assignee) {
        await this.#checkAssignee(change, caller.principal, patch.assignee);
        await requireUnblockedAssignee(change.db, t, before.incident_id, patch.assignee);
      }
      const after: ActionsTable = {
        ...before,
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.dueAt !== undefined
          ? { due_at: patch.dueAt === null ? null : new Date(patch.dueAt).toISOString() }
          : {}),
        ...(patch.assignee
          ? { assignee_type: patch.assignee.type, assignee_id: patch.assignee.id }
          : {}),
        updated_at: change.now,
      };
      await change.db
        .updateTable('actions')
        .set({
          title: after.title,
          due_at: after.due_at,
          assignee_type: after.assignee_type,
          assignee_id: after.assignee_id,
          updated_at: after.updated_at,
        })
        .where('id', '=', actionId)
        .execute();
      const view = present(after, change.now, caller.principal, context);
      change.record({
        action: 'action.update',
        targetType: 'action',
        targetId: actionId,
        before: present(before, change.now, caller.principal, context),
        after: view,
      });
      // A new assignee is told who among them cannot read the record (they would not see it).
      const warnings = patch.assignee
        ? await assignmentWarnings(change.db, t, before.incident_id, patch.assignee)
        : [];
      return { ...view, warnings };
    });
  }

  async remove(caller: Caller, actionId: string, origin: ChangeOrigin): Promise<void> {
    await runChange(this.database, origin, async (change) => {
      const { context } = await this.#visibleAction(change.db, caller, actionId);
      requirePermission(caller.principal, 'actions.delete', {
        type: 'school',
        id: context.school_id,
      });
      await change.db
        .updateTable('actions')
        .set({ deleted_at: change.now })
        .where('id', '=', actionId)
        .execute();
      change.record({ action: 'action.delete', targetType: 'action', targetId: actionId });
    });
  }

  /** Completed by its assignee, or by a member of the group it is assigned to (Viewer and above). */
  async complete(caller: Caller, actionId: string, origin: ChangeOrigin): Promise<ActionView> {
    return runChange(this.database, origin, async (change) => {
      const { action: row, context } = await this.#visibleAction(change.db, caller, actionId);
      requirePermission(caller.principal, 'actions.complete', {
        type: 'school',
        id: context.school_id,
      });
      if (!context.mine)
        throw new HavenError(
          403,
          'not_assignee',
          'Forbidden',
          'Only the assignee, or a member of the assigned group, completes an action',
        );
      if (row.completed_at !== null) return present(row, change.now, caller.principal, context);
      const user = caller.principal.userId;
      const done = { ...row, completed_at: change.now, completed_by: user, updated_at: change.now };
      await change.db
        .updateTable('actions')
        .set({ completed_at: done.completed_at, completed_by: user, updated_at: change.now })
        .where('id', '=', actionId)
        .execute();
      const view = present(done, change.now, caller.principal, context);
      change.record({
        action: 'action.complete',
        targetType: 'action',
        targetId: actionId,
        after: view,
      });
      return view;
    });
  }

  /** My open actions (mine or my groups'), overdue first, then by due date. */
  async mine(caller: Caller) {
    requireSomewhere(caller.principal, 'actions.complete');
    const db = this.#db;
    const t = { organisationId: caller.principal.organisationId };
    const reader = await this.incidents.reader(caller);
    const who = asCaller(reader);
    const now = new Date().toISOString();
    const rows = await db
      .selectFrom('actions as a')
      .innerJoin('incidents as i', 'i.id', 'a.incident_id')
      .selectAll('a')
      .select('i.school_id')
      .where('a.completed_at', 'is', null)
      .where((eb) => assignedToReader(db, eb, t, who))
      .where((eb) => actionReadable(db, eb, t, who))
      .orderBy(sql`case when a.due_at is not null and a.due_at < ${now} then 0 else 1 end`)
      .orderBy(sql`case when a.due_at is null then 1 else 0 end`)
      .orderBy('a.due_at')
      .orderBy('a.id')
      .limit(200)
      .execute();
    return {
      items: rows.map(({ school_id, ...r }) =>
        present(r, now, caller.principal, { school_id, mine: true }),
      ),
      stepUpNeeded: await this.#mineHeldBack(caller, reader),
    };
  }

  /**
   * My open actions that only a two-factor step-up would list (their incident needs it): one
   * count, none at all when this session already reads every school's sensitive records.
   */
  async #mineHeldBack(caller: Caller, reader: Reader): Promise<number> {
    if (reader.sensitiveSchools === 'all') return 0;
    const db = this.#db;
    const t = { organisationId: caller.principal.organisationId };
    const assumed = asCaller(await this.incidents.reader(caller, 'assume'));
    const row = await db
      .selectFrom('actions as a')
      .innerJoin('incidents as i', 'i.id', 'a.incident_id')
      .where('a.completed_at', 'is', null)
      .where((eb) => assignedToReader(db, eb, t, assumed))
      .where((eb) => actionReadable(db, eb, t, assumed))
      .where((eb) => heldBackByStepUp(eb, reader))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * My alerts, newest first: those addressed to me or a group I am in, about records I may read
   * now, and security alerts. Due-action reminders are raised by the notification worker.
   */
  async alerts(caller: Caller) {
    requireSomewhere(caller.principal, 'alerts.manage');
    const db = this.#db;
    const user = caller.principal.userId;
    const org = caller.principal.organisationId;
    // An alert says only that there is a record: one that needs a step-up is listed (so a DSL
    // learns of a new child-protection concern at once), its action's title held back until then.
    const actual = await this.incidents.reader(caller);
    const who = asCaller(await this.incidents.reader(caller, 'assume'));
    const rows = await db
      .selectFrom('alerts as al')
      .leftJoin('incidents as i', 'i.id', 'al.incident_id')
      .leftJoin('actions as a', 'a.id', 'al.action_id')
      .leftJoin('alert_states as st', (j) =>
        j.onRef('st.alert_id', '=', 'al.id').on('st.user_id', '=', user),
      )
      .select([
        'al.id',
        'al.kind',
        'al.incident_id',
        'al.action_id',
        'al.created_at',
        'a.title',
        'al.message',
        'st.read_at',
        'i.sensitivity',
        'i.school_id',
      ])
      .where('st.dismissed_at', 'is', null)
      .where((eb) => alertReadable(db, eb, { organisationId: org }, who))
      .orderBy('al.created_at', 'desc')
      .orderBy('al.id', 'desc')
      .limit(200)
      .execute();
    const held = (r: { sensitivity: string | null; school_id: string | null }) =>
      r.sensitivity !== null &&
      r.sensitivity !== 'standard' &&
      actual.sensitiveSchools !== 'all' &&
      !actual.sensitiveSchools.includes(r.school_id ?? '');
    return {
      items: rows.map(({ title, ...r }) => ({
        id: r.id,
        kind: r.kind,
        incidentId: r.incident_id,
        actionId: r.action_id,
        title: held(r) ? null : title,
        message: r.message,
        createdAt: r.created_at,
        read: r.read_at !== null,
        stepUpNeeded: held(r),
      })),
    };
  }

  /** Marks one of my alerts read or dismissed; someone else's alert does not exist for me. */
  async setAlertState(
    caller: Caller,
    alertId: string,
    state: 'read' | 'dismissed',
    origin: ChangeOrigin,
  ) {
    requireSomewhere(caller.principal, 'alerts.manage');
    const user = caller.principal.userId;
    await runChange(this.database, origin, async (change) => {
      const who = asCaller(await this.incidents.reader(caller, 'assume', change.db));
      const alert = await change.db
        .selectFrom('alerts as al')
        .leftJoin('incidents as i', 'i.id', 'al.incident_id')
        .leftJoin('actions as a', 'a.id', 'al.action_id')
        .select('al.id')
        .where('al.id', '=', alertId)
        .where((eb) =>
          alertReadable(change.db, eb, { organisationId: caller.principal.organisationId }, who),
        )
        .executeTakeFirst();
      if (!alert) throw notFound('Alert');
      const existing = await change.db
        .selectFrom('alert_states')
        .selectAll()
        .where('alert_id', '=', alertId)
        .where('user_id', '=', user)
        .executeTakeFirst();
      const next = {
        read_at: existing?.read_at ?? change.now,
        dismissed_at:
          state === 'dismissed'
            ? (existing?.dismissed_at ?? change.now)
            : (existing?.dismissed_at ?? null),
      };
      if (existing)
        await change.db
          .updateTable('alert_states')
          .set(next)
          .where('alert_id', '=', alertId)
          .where('user_id', '=', user)
          .execute();
      else
        await change.db
          .insertInto('alert_states')
          .values({ alert_id: alertId, user_id: user, ...next })
          .execute();
    });
  }
}
