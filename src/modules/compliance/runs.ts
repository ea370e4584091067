import { createHash } from 'node:crypto';
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import {
  accessAuditRows,
  accessAuditScopeAllowed,
  requireAccessAuditScope,
} from '../../access/access-audit.ts';
import type { Principal } from '../../access/principal.ts';
import type { Caller } from '../../access/readers.ts';
import type { Scope, ScopeType } from '../../access/scopes.ts';
import type { Database } from '../../db/database.ts';
import type { AccessAuditRunsTable, DB } from '../../db/tables.ts';
import { HavenError, invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, type Page, toPage } from '../../lib/pagination.ts';
import { nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange, runRead } from '../audit/change.ts';
import { scopeName } from '../organisations/repository.ts';
import {
  DOCUMENT_FORMAT,
  type FlagCounts,
  noFlags,
  type RunReport,
  writeDocument,
} from './document.ts';

/** A saved run as the API shows it (never its rows: those are downloaded). */
export interface RunView {
  id: string;
  createdAt: string;
  scope: Scope & { name: string };
  /** Null: as at the moment the run was taken (`createdAt`). */
  asOf: string | null;
  sha256: string;
  rowCount: number;
  byteLength: number;
  createdBy: { id: string; name: string };
  flagCounts: FlagCounts;
}

export interface RunInput {
  /** Default: the caller's organisation. */
  scope?: Scope | undefined;
  /** A past time; default: now. */
  asOf?: string | undefined;
}

export const downloadFormats = ['json', 'csv', 'pdf'] as const;

export type DownloadFormat = (typeof downloadFormats)[number];

type RunRow = AccessAuditRunsTable & { created_by_name: string };

const runCursor = z.tuple([z.string()]);

function present(row: RunRow): RunView {
  return {
    id: row.id,
    createdAt: row.created_at,
    scope: { type: row.scope_type as ScopeType, id: row.scope_id, name: row.scope_name },
    asOf: row.as_of,
    sha256: row.sha256,
    rowCount: row.row_count,
    byteLength: row.byte_length,
    createdBy: { id: row.created_by, name: row.created_by_name },
    flagCounts: { ...noFlags(), ...(JSON.parse(row.flag_counts) as Partial<FlagCounts>) },
  };
}

/**
 * The scopes whose runs the caller may see: those they may run the report for now
 * (`accessAuditScopeAllowed`), asked of every scope their roles name ('all': the organisation's).
 */
export function visibleRunScopes(principal: Principal): 'all' | Scope[] {
  if (accessAuditScopeAllowed(principal, { type: 'organisation', id: principal.organisationId }))
    return 'all';
  const candidates = new Map<string, Scope>();
  const add = (scope: Scope) => candidates.set(`${scope.type}:${scope.id}`, scope);
  for (const grant of principal.grants) add(grant.scope);
  // A role at a school group reaches its schools' runs too.
  for (const school of principal.schoolGroupsBySchool.keys()) add({ type: 'school', id: school });
  return [...candidates.values()].filter((scope) => accessAuditScopeAllowed(principal, scope));
}

function runVisible(
  eb: ExpressionBuilder<DB, 'access_audit_runs'>,
  scopes: Scope[],
): Expression<SqlBool> {
  if (scopes.length === 0) return sql<SqlBool>`1 = 0`;
  return eb.or(
    scopes.map((s) =>
      eb.and([
        eb('access_audit_runs.scope_type', '=', s.type),
        eb('access_audit_runs.scope_id', '=', s.id),
      ]),
    ),
  );
}

/** A run's stored chunk, written before the run's row (see the migration): no change to audit yet. */
async function storeChunk(db: Kysely<DB>, runId: string, seq: number, bytes: Buffer) {
  await db.insertInto('access_audit_run_chunks').values({ run_id: runId, seq, bytes }).execute();
}

/** The chunks of a run that did not finish: no row names them, so nothing was saved. */
async function clearUnfinished(db: Kysely<DB>, runId: string) {
  await db.deleteFrom('access_audit_run_chunks').where('run_id', '=', runId).execute();
}

/**
 * Saved Access Audit Report runs (issue 14, item 2): taking one, listing them, and reading one
 * back (its stored bytes, checked against its SHA-256). A run is never changed or deleted.
 */
export class AccessAuditRunService {
  constructor(
    private readonly database: Database,
    /**
     * The most people a printable PDF is made for (`HAVEN_REPORT_PDF_MAX_PEOPLE`, 20,000: about 800
     * pages, under half a minute to lay out). A trust's whole report is read as CSV or JSON, or
     * printed a school at a time.
     */
    private readonly options: { pdfMaxPeople: number } = { pdfMaxPeople: 20_000 },
    private readonly rows: typeof accessAuditRows = accessAuditRows,
  ) {}

  /**
   * Takes and saves a run. The rows are written to chunks as the report engine yields them
   * (SQLite's write lock is held only for each chunk's insert), then the run's row and its audit
   * entry are committed together: a run that fails half-way is never listed. Call it outside a
   * change (it opens its own); `origin.meta` is written on its audit row (an access review's id).
   */
  async create(caller: Caller, input: RunInput, origin?: ChangeOrigin): Promise<RunView> {
    const { principal } = caller;
    const organisationId = principal.organisationId;
    const scope = input.scope ?? { type: 'organisation' as const, id: organisationId };
    const db = this.database.db;
    const name = await scopeName(db, organisationId, scope);
    if (name === undefined) throw notFound(scopeLabel(scope.type));
    requireAccessAuditScope(principal, scope);

    const now = nowIso();
    let asOf: string | null = null;
    if (input.asOf !== undefined) {
      asOf = new Date(input.asOf).toISOString();
      if (asOf > now) throw invalidField('asOf', 'is in the future');
    }
    const [organisation, creator] = await Promise.all([
      db
        .selectFrom('organisations')
        .select(['id', 'name'])
        .where('id', '=', organisationId)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('users')
        .select(['id', 'name', 'email'])
        .where('id', '=', principal.userId)
        .where('organisation_id', '=', organisationId)
        .executeTakeFirstOrThrow(),
    ]);

    const id = newId(Date.parse(now));
    const report: RunReport = {
      format: DOCUMENT_FORMAT,
      id,
      organisation: { id: organisation.id, name: organisation.name },
      scope: { ...scope, name },
      asOf,
      createdAt: now,
      createdBy: { id: creator.id, name: creator.name, email: creator.email },
    };
    let written: Awaited<ReturnType<typeof writeDocument>>;
    try {
      written = await writeDocument(
        report,
        this.rows(db, { organisationId, scope, asOf: asOf ?? undefined, now }),
        (seq, bytes) => storeChunk(db, id, seq, bytes),
      );
    } catch (error) {
      await clearUnfinished(db, id).catch(() => {});
      throw error;
    }

    const row: AccessAuditRunsTable = {
      id,
      organisation_id: organisationId,
      scope_type: scope.type,
      scope_id: scope.id,
      scope_name: name,
      as_of: asOf,
      created_at: now,
      created_by: creator.id,
      sha256: written.sha256,
      row_count: written.totals.people,
      byte_length: written.byteLength,
      chunk_count: written.chunkCount,
      flag_counts: JSON.stringify(written.totals.flags),
    };
    const changeOrigin = origin ?? {
      organisationId,
      userId: principal.userId,
      via: 'api' as const,
    };
    try {
      await runChange(this.database, changeOrigin, async (change) => {
        await change.db.insertInto('access_audit_runs').values(row).execute();
        change.record({
          action: 'access_audit.run',
          targetType: 'access_audit_run',
          targetId: id,
          after: {
            scope: report.scope,
            asOf,
            sha256: written.sha256,
            rowCount: written.totals.people,
            byteLength: written.byteLength,
            flagCounts: written.totals.flags,
          },
        });
      });
    } catch (error) {
      await clearUnfinished(db, id).catch(() => {});
      throw error;
    }
    return present({ ...row, created_by_name: creator.name });
  }

  /** Saved runs of the scopes the caller may run the report for now, newest first. */
  async list(
    caller: Caller,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<RunView>> {
    const { principal } = caller;
    const scopes = visibleRunScopes(principal);
    const after = decodeCursor(query.cursor, runCursor);
    let select = this.#runs(this.database.db, principal.organisationId);
    if (scopes !== 'all') select = select.where((eb) => runVisible(eb, scopes));
    if (after) select = select.where('access_audit_runs.id', '<', after[0]);
    const rows = await select
      .orderBy('access_audit_runs.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    return toPage(rows, query.limit, present, (row) => [row.id]);
  }

  /**
   * One saved run for download, its read written to the access log in the same transaction that
   * finds it (refused ones too). 404 for a run of a scope the caller may not run the report for.
   * `chunks()` yields the stored bytes in order and fails if they no longer match the SHA-256.
   */
  async open(caller: Caller, runId: string, format: DownloadFormat, origin: ChangeOrigin) {
    const { principal } = caller;
    const opened = await runRead(this.database, origin, async (change) => {
      const row = await this.#runs(change.db, principal.organisationId)
        .where('access_audit_runs.id', '=', runId)
        .executeTakeFirst();
      const visible =
        row !== undefined &&
        accessAuditScopeAllowed(principal, {
          type: row.scope_type as ScopeType,
          id: row.scope_id,
        });
      const tooLarge = visible && format === 'pdf' && row.row_count > this.options.pdfMaxPeople;
      change.record({
        category: 'access',
        action: 'access_audit.download',
        targetType: 'access_audit_run',
        targetId: runId,
        after: {
          outcome: tooLarge ? 'too_large' : visible ? 'allowed' : 'not_found',
          format,
          ...(visible ? { scope: { type: row.scope_type, id: row.scope_id } } : {}),
        },
      });
      return visible ? { row, tooLarge } : undefined;
    });
    if (!opened) throw notFound('Access audit run');
    const { row: found, tooLarge } = opened;
    if (tooLarge)
      throw new HavenError(
        422,
        'report_too_large_for_pdf',
        'Too many people to print',
        `This run holds ${found.row_count.toLocaleString('en-GB')} people; a printable PDF is made for up to ${this.options.pdfMaxPeople.toLocaleString('en-GB')}. Download it as CSV, or run the report for one school.`,
      );
    const db = this.database.db;
    return { run: present(found), chunks: () => storedChunks(db, found) };
  }

  #runs(db: Kysely<DB>, organisationId: string) {
    return db
      .selectFrom('access_audit_runs')
      .innerJoin('users', 'users.id', 'access_audit_runs.created_by')
      .selectAll('access_audit_runs')
      .select('users.name as created_by_name')
      .where('access_audit_runs.organisation_id', '=', organisationId);
  }
}

function scopeLabel(type: ScopeType): string {
  return { organisation: 'Organisation', school_group: 'School group', school: 'School' }[type];
}

/** A run's stored bytes, a chunk at a time, checked against the run's SHA-256 and length. */
async function* storedChunks(db: Kysely<DB>, run: AccessAuditRunsTable): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let length = 0;
  for (let seq = 0; seq < run.chunk_count; seq++) {
    const chunk = await db
      .selectFrom('access_audit_run_chunks')
      .select('bytes')
      .where('run_id', '=', run.id)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!chunk) throw corrupted(run.id);
    const bytes = Buffer.from(chunk.bytes);
    hash.update(bytes);
    length += bytes.length;
    // The last chunk leaves only once the whole matches: a damaged run never downloads complete.
    if (
      seq === run.chunk_count - 1 &&
      (length !== run.byte_length || hash.digest('hex') !== run.sha256)
    )
      throw corrupted(run.id);
    yield bytes;
  }
  if (run.chunk_count === 0) throw corrupted(run.id);
}

function corrupted(runId: string): HavenError {
  return new HavenError(
    500,
    'run_corrupted',
    'Saved run damaged',
    `The stored bytes of access audit run ${runId} no longer match its SHA-256`,
  );
}
