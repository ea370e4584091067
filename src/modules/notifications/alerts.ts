import type { Kysely } from 'kysely';
import { chunks } from '../../db/sql.ts';
import type { AlertsTable, AssigneeType, DB } from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';

/**
 * The one writer of `alerts` (in-app alerts). Each kind says what it is about: a record (an
 * incident, or an action on one), or, for the kinds that name no record, a text that never names
 * a child. Callers decide whom to tell and claim their "once" first where they need one (an access
 * review's reminder key, a transfer's `overdue_alerted_at`); the writer itself keeps only the
 * database's rule that an action's due alert is raised once. Who may read an alert is decided
 * when it is read (`alertReadable`, src/access/alerts.ts), never here.
 */

/** Whom an alert about a record names: a user, or a user group (each member sees it). */
export interface AlertParty {
  type: AssigneeType;
  id: string;
}

/** One alert, by kind (migration 0022: a kind about no record carries a message instead). */
export type Alert =
  /** A record given to the party; a new concern its category's rules tell the party of. */
  | { kind: 'incident_assigned' | 'incident_logged'; to: AlertParty; incidentId: string }
  /** An action given to the party; an action of the party's now due (once per action). */
  | {
      kind: 'action_assigned' | 'action_due';
      to: AlertParty;
      incidentId: string;
      actionId: string;
    }
  /** About the organisation, an access review or a transfer: to one user, with its text. */
  | { kind: 'security' | 'access_review' | 'transfer_overdue'; userId: string; message: string };

/** Where alerts are written: the change's (or the worker's) transaction, and its instant. */
export interface AlertWriter {
  db: Kysely<DB>;
  now: string;
}

/**
 * Writes `alerts` for one organisation in the writer's transaction, all at its instant; answers
 * how many were written (an action's due alert already raised is skipped, not an error).
 */
export async function raiseAlerts(
  writer: AlertWriter,
  organisationId: string,
  alerts: readonly Alert[],
): Promise<number> {
  const rows = alerts.map((alert) => alertRow(organisationId, writer.now, alert));
  const once = rows.filter((r) => r.kind === 'action_due');
  const plain = rows.filter((r) => r.kind !== 'action_due');
  let written = 0;
  for (const slice of chunks(plain)) {
    await writer.db.insertInto('alerts').values(slice).execute();
    written += slice.length;
  }
  // `alerts_one_due_per_action` (migration 0004): two workers, or two passes, raise it once.
  for (const slice of chunks(once)) {
    const result = await writer.db
      .insertInto('alerts')
      .values(slice)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}

function alertRow(organisationId: string, now: string, alert: Alert): AlertsTable {
  const row = { id: newId(), organisation_id: organisationId, kind: alert.kind, created_at: now };
  switch (alert.kind) {
    case 'incident_assigned':
    case 'incident_logged':
      return {
        ...row,
        recipient_type: alert.to.type,
        recipient_id: alert.to.id,
        incident_id: alert.incidentId,
        action_id: null,
        message: null,
      };
    case 'action_assigned':
    case 'action_due':
      return {
        ...row,
        recipient_type: alert.to.type,
        recipient_id: alert.to.id,
        incident_id: alert.incidentId,
        action_id: alert.actionId,
        message: null,
      };
    case 'security':
    case 'access_review':
    case 'transfer_overdue':
      return {
        ...row,
        recipient_type: 'user',
        recipient_id: alert.userId,
        incident_id: null,
        action_id: null,
        message: alert.message,
      };
  }
}
