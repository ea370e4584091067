import { z } from 'zod';
import {
  auditRowReadable,
  hiddenRecordIds,
  idsIn,
  rowsOfUnreadableVersions,
  withhold,
} from '../../access/audit.ts';
import { requirePermission, schoolsWith } from '../../access/decide.ts';
import { type Caller, readerOf } from '../../access/readers.ts';
import type { Database } from '../../db/database.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';

export interface AuditQuery {
  category?: 'change' | 'denied' | 'access' | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const auditCursor = z.tuple([z.string()]);

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export class AuditService {
  constructor(
    private readonly database: Database,
    private readonly options: { mfaWindowMs: number },
  ) {}

  /**
   * Newest first. Admin or higher at organisation scope (`audit_log.view`). Rows about records
   * the caller may not read are left out, and ids of such records withheld from the rest
   * (`src/access/audit.ts`).
   */
  async list(
    caller: Caller,
    query: AuditQuery,
    permission: 'audit_log.view' | 'reports.access_audit' = 'audit_log.view',
  ) {
    const { principal } = caller;
    requirePermission(principal, permission, {
      type: 'organisation',
      id: principal.organisationId,
    });
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
      ])
      .where('e.organisation_id', '=', principal.organisationId)
      .where((eb) => auditRowReadable(db, eb, t, reader, schoolsWith(principal, 'blocks.manage')));
    if (query.category) select = select.where('e.category', '=', query.category);
    if (query.action) select = select.where('e.action', '=', query.action);
    if (query.actorId) select = select.where('e.actor_user_id', '=', query.actorId);
    if (query.targetId) select = select.where('e.target_id', '=', query.targetId);
    if (after) select = select.where('e.id', '<', after[0]);
    const rows = await select
      .orderBy('e.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const mentioned = new Set<string>();
    for (const row of rows.slice(0, query.limit))
      for (const text of [row.target_id, row.before_json, row.after_json, row.meta_json])
        idsIn(text, mentioned);
    const hidden = await hiddenRecordIds(db, t, reader, mentioned);
    const unreadable = await rowsOfUnreadableVersions(db, t, reader, rows.slice(0, query.limit));
    return toPage(
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
          },
          hidden,
        ),
      (row) => [row.id],
    );
  }
}
