import type { Kysely } from 'kysely';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import type { DB, ImportRunsTable } from '../../db/tables.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { nowIso } from '../../lib/time.ts';
import type { ImportProblem } from './problems.ts';

/**
 * An import's run record: made when the import starts (or beforehand, so a page can poll it
 * while its file uploads), moved along as rows are checked, and finished in the import's own
 * transaction when it writes. While it writes, the transaction holds the progress back from
 * every other connection, so the count of rows written is kept in this process's memory too
 * and added to the answer when the run is asked about here. (On SQLite the one connection is the
 * transaction's until it commits, so a poll waits for the end of the writing: it shows as
 * "writing" with the number of changes, and its count only climbs on PostgreSQL.)
 */

export type ImportKind = ImportRunsTable['kind'];
export type ImportStatus = ImportRunsTable['status'];
export type ImportCounts = Record<string, number>;

/** The problems a run keeps (the import's answer lists every one). */
const STORED_ERRORS = 1000;
/** How often, at most, progress is written while rows are checked. */
const PROGRESS_EVERY_MS = 100;

const writing = new Map<string, { written: number }>();

export interface ImportRunView {
  id: string;
  kind: ImportKind;
  status: ImportStatus;
  dryRun: boolean;
  onError: 'stop' | 'skip';
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  totalRows: number;
  processedRows: number;
  rowsToWrite: number;
  writtenRows: number;
  counts: ImportCounts;
  errorCount: number;
  errors: ImportProblem[];
  ignoredColumns: string[];
  failure: string | null;
}

function present(row: ImportRunsTable): ImportRunView {
  const live = writing.get(row.id);
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    dryRun: row.dry_run === 1,
    onError: row.on_error,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    totalRows: row.total_rows,
    processedRows: row.processed_rows,
    rowsToWrite: row.rows_to_write,
    writtenRows: row.status === 'writing' && live ? live.written : row.written_rows,
    counts: JSON.parse(row.counts) as ImportCounts,
    errorCount: row.error_count,
    errors: JSON.parse(row.errors) as ImportProblem[],
    ignoredColumns: JSON.parse(row.ignored_columns) as string[],
    failure: row.failure,
  };
}

const starterOf = (principal: Principal) => principal.userId || null;

function findOwnRun(db: Kysely<DB>, principal: Principal, id: string) {
  let query = db
    .selectFrom('import_runs')
    .selectAll()
    .where('organisation_id', '=', principal.organisationId)
    .where('id', '=', id);
  const starter = starterOf(principal);
  query =
    starter === null
      ? query.where('started_by', 'is', null)
      : query.where('started_by', '=', starter);
  return query.executeTakeFirst();
}

/** A run as its starter sees it; anyone else's, or another organisation's, is not found. */
export async function getImportRun(
  database: Database,
  principal: Principal,
  id: string,
): Promise<ImportRunView> {
  const row = await findOwnRun(database.db, principal, id);
  if (!row) throw notFound('Import');
  return present(row);
}

/** A run waiting for its file: the page polls it while the upload and the import go on. */
export async function createWaitingRun(
  database: Database,
  principal: Principal,
  kind: ImportKind,
): Promise<ImportRunView> {
  const now = nowIso();
  const row: ImportRunsTable = {
    id: newId(),
    organisation_id: principal.organisationId,
    kind,
    status: 'waiting',
    dry_run: 0,
    on_error: 'stop',
    started_by: starterOf(principal),
    started_at: now,
    updated_at: now,
    finished_at: null,
    total_rows: 0,
    processed_rows: 0,
    rows_to_write: 0,
    written_rows: 0,
    counts: '{}',
    error_count: 0,
    errors: '[]',
    ignored_columns: '[]',
    failure: null,
  };
  await database.db.insertInto('import_runs').values(row).execute();
  return present(row);
}

export interface RunOutcome {
  status: Extract<ImportStatus, 'checked' | 'imported' | 'refused'>;
  counts: ImportCounts;
  errors: readonly ImportProblem[];
  ignoredColumns: readonly string[];
}

export class ImportRun {
  #lastProgressAt = 0;

  private constructor(
    private readonly database: Database,
    readonly id: string,
  ) {}

  /**
   * Starts a run: the waiting one named by `runId` (the caller's own, of this kind), or a new one.
   */
  static async start(
    database: Database,
    principal: Principal,
    kind: ImportKind,
    options: { dryRun: boolean; onError: 'stop' | 'skip'; runId?: string | undefined },
  ): Promise<ImportRun> {
    const now = nowIso();
    const fields = {
      status: 'checking' as const,
      dry_run: options.dryRun ? 1 : 0,
      on_error: options.onError,
      updated_at: now,
    };
    if (options.runId) {
      const row = await findOwnRun(database.db, principal, options.runId);
      if (!row || row.kind !== kind) throw notFound('Import');
      if (row.status !== 'waiting')
        throw conflict('This import has already been used for a file', 'import_started');
      const claimed = await database.db
        .updateTable('import_runs')
        .set(fields)
        .where('id', '=', row.id)
        .where('status', '=', 'waiting')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1)
        throw conflict('This import has already been used for a file', 'import_started');
      return new ImportRun(database, row.id);
    }
    const waiting = await createWaitingRun(database, principal, kind);
    await database.db.updateTable('import_runs').set(fields).where('id', '=', waiting.id).execute();
    return new ImportRun(database, waiting.id);
  }

  async begin(totalRows: number, ignoredColumns: readonly string[]): Promise<void> {
    await this.database.db
      .updateTable('import_runs')
      .set({
        total_rows: totalRows,
        ignored_columns: JSON.stringify(ignoredColumns),
        updated_at: nowIso(),
      })
      .where('id', '=', this.id)
      .execute();
  }

  /**
   * Rows checked so far; written now and then, not on every row. Each time, the event loop is
   * let go once: on SQLite every query runs on it, so without this a large file would hold up
   * every other request (the poll of this very run included) until it was checked.
   */
  async checked(processedRows: number, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.#lastProgressAt < PROGRESS_EVERY_MS) return;
    this.#lastProgressAt = now;
    await this.database.db
      .updateTable('import_runs')
      .set({ processed_rows: processedRows, updated_at: nowIso() })
      .where('id', '=', this.id)
      .execute();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** The check is done and `rowsToWrite` changes are about to be written in one transaction. */
  async writing(processedRows: number, rowsToWrite: number): Promise<void> {
    await this.database.db
      .updateTable('import_runs')
      .set({
        status: 'writing',
        processed_rows: processedRows,
        rows_to_write: rowsToWrite,
        updated_at: nowIso(),
      })
      .where('id', '=', this.id)
      .execute();
    writing.set(this.id, { written: 0 });
  }

  /** How many changes of the transaction are written (kept in memory: see above). */
  wrote(written: number): void {
    const live = writing.get(this.id);
    if (live) live.written = written;
  }

  /** Ends the run: inside the import's transaction (`db` = change.db) when it writes. */
  async finish(db: Kysely<DB>, outcome: RunOutcome, written = 0): Promise<void> {
    const now = nowIso();
    await db
      .updateTable('import_runs')
      .set({
        status: outcome.status,
        counts: JSON.stringify(outcome.counts),
        error_count: outcome.errors.length,
        errors: JSON.stringify(outcome.errors.slice(0, STORED_ERRORS)),
        ignored_columns: JSON.stringify(outcome.ignoredColumns),
        written_rows: written,
        updated_at: now,
        finished_at: now,
      })
      .where('id', '=', this.id)
      .execute();
  }

  /** The run stopped on an error it did not expect (or the file was refused whole). */
  async fail(error: unknown): Promise<void> {
    writing.delete(this.id);
    const now = nowIso();
    await this.database.db
      .updateTable('import_runs')
      .set({
        status: 'failed',
        failure: error instanceof Error ? error.message.slice(0, 1000) : 'The import stopped',
        updated_at: now,
        finished_at: now,
      })
      .where('id', '=', this.id)
      .where('status', 'in', ['checking', 'writing'])
      .execute();
  }

  /** The written run's transaction has committed (or rolled back): memory is let go. */
  settled(): void {
    writing.delete(this.id);
  }
}
