import { sql } from 'kysely';
import { z } from 'zod';
import { requirePermission, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import { incidentVisibleTo } from '../../access/records.ts';
import { heldBlocks, studentVisibleTo } from '../../access/visibility.ts';
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
  constructor(private readonly database: Database) {}

  /** Newest first. Admin or higher at organisation scope (`audit_log.view`). */
  async list(
    principal: Principal,
    query: AuditQuery,
    permission: 'audit_log.view' | 'reports.access_audit' = 'audit_log.view',
  ) {
    requirePermission(principal, permission, {
      type: 'organisation',
      id: principal.organisationId,
    });
    const after = decodeCursor(query.cursor, auditCursor);
    const t = { organisationId: principal.organisationId };
    let select = this.database.db
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
      // Contents are filtered by what the reader may see: rows about a child they cannot see are left out.
      .where((eb) =>
        eb.or([
          eb('e.target_type', 'is', null),
          eb('e.target_type', 'not in', ['student', 'incident']),
          eb('e.target_id', 'is', null),
          // Rows about an incident follow the incident's visibility (section 4), step-up aside.
          eb.and([
            eb('e.target_type', '=', 'incident'),
            eb.exists(
              eb
                .selectFrom('incidents as i')
                .select('i.id')
                .whereRef('i.id', '=', 'e.target_id')
                .where((eb2) =>
                  incidentVisibleTo(this.database.db, eb2, t, {
                    ...viewerOf(principal),
                    clearances: [...principal.clearances],
                    sensitiveSchools: 'all',
                  }),
                ),
            ),
          ]),
          eb.and([
            eb('e.target_type', '=', 'student'),
            eb.exists(
              eb
                .selectFrom('students as s')
                .select('s.id')
                .whereRef('s.id', '=', 'e.target_id')
                .where((eb2) =>
                  eb2.or([
                    studentVisibleTo(this.database.db, eb2, t, viewerOf(principal)),
                    // A deleted child's trail (who deleted it) stays readable, except to those blocked from the child.
                    eb2.and([
                      eb2('s.deleted_at', 'is not', null),
                      eb2.not(
                        eb2.exists(
                          heldBlocks(this.database.db, t, {
                            user: principal.userId,
                            student: sql.ref<string>('s.id'),
                          }).select('b.id'),
                        ),
                      ),
                    ]),
                  ]),
                ),
            ),
          ]),
        ]),
      );
    if (query.category) select = select.where('e.category', '=', query.category);
    if (query.action) select = select.where('e.action', '=', query.action);
    if (query.actorId) select = select.where('e.actor_user_id', '=', query.actorId);
    if (query.targetId) select = select.where('e.target_id', '=', query.targetId);
    if (after) select = select.where('e.id', '<', after[0]);
    const rows = await select
      .orderBy('e.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      (row) => ({
        id: row.id,
        seq: row.seq,
        chain: row.chain_id,
        at: row.at,
        category: row.category,
        action: row.action,
        actor: row.actor_user_id ? { id: row.actor_user_id, name: row.actor_name ?? '' } : null,
        target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
        before: parseJson(row.before_json),
        after: parseJson(row.after_json),
        meta: parseJson(row.meta_json),
      }),
      (row) => [row.id],
    );
  }
}
