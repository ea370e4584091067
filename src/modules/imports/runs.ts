import type { Kysely } from 'kysely';
import { type ImportKind, importRunReadable, requireImport } from '../../access/imports.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import type { DB, ImportRunsTable } from '../../db/tables.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { nowIso } from '../../lib/time.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import type { ImportProblem } from './problems.ts';

/**
 * An import's run record: made when the import starts (or beforehand, so a page can poll it
 * while its file uploads), moved along as rows are checked, and finished in the import's own
 * transaction when it writes. Making a run and ending it (checked, imported, refused or failed)
 * are changes with their audit rows, `import.start` and `import.finish`: the run's id, kind,
 * status and counts, never a row's contents (the problems name children and staff). Who reads a
 * run is `src/access/imports.ts`. While it writes, the transaction holds the progress back from
 * every other connection, so the count of rows written is kept in this process's memory too
 * and added to the answer when the run is asked about here. (On SQLite the one connection is the
 * transaction's until it commits, so a poll waits for the end of the writing: it shows as
 * "writing" with the number of changes, and its count only climbs on PostgreSQL.)
 */

export type { ImportKind } from '../../access/imports.ts';
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
  /** When the problems, unused columns and failure were blanked (30 days after the end). */
  problemsClearedAt: string | null;
}

/** What every import is asked (its query string): the options a run records. */
export interface ImportOptions {
  /** Check only: every problem is listed, nothing is written. */
  dryRun: boolean;
  /** `stop` (the default): any problem and nothing is written. `skip`: the good rows are written. */
  onError?: 'stop' | 'skip' | undefined;
  /** A run made beforehand (`POST /imports`), so a page can follow this import's progress. */
  runId?: string | undefined;
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
    problemsClearedAt: row.problems_cleared_at,
  };
}

const starterOf = (principal: Principal) => principal.userId || null;

/** The run if the caller reads it (`src/access/imports.ts`), else undefined. */
function findReadableRun(db: Kysely<DB>, principal: Principal, id: string) {
  return db
    .selectFrom('import_runs as r')
    .selectAll()
    .where('r.id', '=', id)
    .where((eb) => importRunReadable(eb, principal))
    .executeTakeFirst();
}

/** A run as its starter sees it; anyone else's, or another organisation's, is not found. */
export async function getImportRun(
  database: Database,
  principal: Principal,
  id: string,
): Promise<ImportRunView> {
  const row = await findReadableRun(database.db, principal, id);
  if (!row) throw notFound('Import');
  return present(row);
}

/** Inserts a waiting run with its `import.start` row, in `change`. */
async function insertRun(
  change: Change,
  principal: Principal,
  kind: ImportKind,
): Promise<ImportRunsTable> {
  const row: ImportRunsTable = {
    id: newId(),
    organisation_id: principal.organisationId,
    kind,
    status: 'waiting',
    dry_run: 0,
    on_error: 'stop',
    started_by: starterOf(principal),
    started_at: change.now,
    updated_at: change.now,
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
    problems_cleared_at: null,
  };
  await change.db.insertInto('import_runs').values(row).execute();
  change.record({
    action: 'import.start',
    targetType: 'import_run',
    after: { runId: row.id, kind },
  });
  return row;
}

/** A run waiting for its file: the page polls it while the upload and the import go on. */
export async function createWaitingRun(
  database: Database,
  principal: Principal,
  kind: ImportKind,
  origin: ChangeOrigin,
): Promise<ImportRunView> {
  requireImport(principal, kind);
  const row = await runChange(database, origin, (change) => insertRun(change, principal, kind));
  return present(row);
}

export interface RunOutcome {
  status: Extract<ImportStatus, 'checked' | 'imported' | 'refused'>;
  counts: ImportCounts;
  errors: readonly ImportProblem[];
  ignoredColumns: readonly string[];
}

/** What an import found once every row is checked, to end its run with. */
export interface CheckedImport {
  /** Rows checked: the file's rows, or the bundle's pupils and staff. */
  rows: number;
  /** Changes the plan writes (adds and updates). */
  toWrite: number;
  errors: readonly ImportProblem[];
  ignoredColumns: readonly string[];
  /** The run's counts, asked once the outcome is known (after writing, for what was written). */
  counts: () => ImportCounts;
}

export class ImportRun {
  #lastProgressAt = 0;
  #rows = 0;

  private constructor(
    private readonly database: Database,
    private readonly origin: ChangeOrigin,
    readonly id: string,
    readonly kind: ImportKind,
    readonly dryRun: boolean,
    readonly onError: 'stop' | 'skip',
  ) {}

  /**
   * Starts a run: the waiting one named by `runId` (the caller's own, of this kind), or a new one.
   * 403 unless the caller may import this kind (`src/access/imports.ts`).
   */
  static async start(
    database: Database,
    principal: Principal,
    kind: ImportKind,
    options: ImportOptions,
    origin: ChangeOrigin,
  ): Promise<ImportRun> {
    requireImport(principal, kind);
    const onError = options.onError ?? 'stop';
    const fields = {
      status: 'checking' as const,
      dry_run: options.dryRun ? 1 : 0,
      on_error: onError,
      updated_at: nowIso(),
    };
    const run = (id: string) => new ImportRun(database, origin, id, kind, options.dryRun, onError);
    if (options.runId) {
      const row = await findReadableRun(database.db, principal, options.runId);
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
      return run(row.id);
    }
    const row = await runChange(database, origin, async (change) => {
      const inserted = await insertRun(change, principal, kind);
      await change.db
        .updateTable('import_runs')
        .set(fields)
        .where('id', '=', inserted.id)
        .execute();
      return inserted;
    });
    return run(row.id);
  }

  /**
   * Runs the import's work under this run: an error it did not handle ends the run as `failed`
   * (with its `import.finish` row) and is thrown on.
   */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.#fail(error);
      throw error;
    }
  }

  async begin(totalRows: number, ignoredColumns: readonly string[]): Promise<void> {
    this.#rows = totalRows;
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

  /**
   * Ends a checked import. A dry run ends `checked` and one stopped by its problems `refused`, each
   * in a change of its own that writes nothing else; otherwise `write` runs in the one change that
   * also ends the run `imported`. `write` is told how to report each change written.
   */
  async conclude(
    checked: CheckedImport,
    write: (change: Change, wrote: (written: number) => void) => Promise<void>,
  ): Promise<void> {
    const outcome = (status: RunOutcome['status']): RunOutcome => ({
      status,
      counts: checked.counts(),
      errors: checked.errors,
      ignoredColumns: checked.ignoredColumns,
    });
    if (this.dryRun || (checked.errors.length > 0 && this.onError === 'stop')) {
      await runChange(this.database, this.origin, (change) =>
        this.#finish(change, outcome(this.dryRun ? 'checked' : 'refused')),
      );
      return;
    }
    await this.#writing(checked.rows, checked.toWrite);
    try {
      await runChange(this.database, this.origin, async (change) => {
        await write(change, (written) => this.#wrote(written));
        await this.#finish(change, outcome('imported'), checked.toWrite);
      });
    } finally {
      // The written run's transaction has committed (or rolled back): memory is let go.
      writing.delete(this.id);
    }
  }

  /** The check is done and `rowsToWrite` changes are about to be written in one transaction. */
  async #writing(processedRows: number, rowsToWrite: number): Promise<void> {
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
  #wrote(written: number): void {
    const live = writing.get(this.id);
    if (live) live.written = written;
  }

  /** What the audit row of the run's end says: counts and status, never a row's contents. */
  #finished(status: ImportStatus, counts: ImportCounts, problems: number) {
    return {
      action: 'import.finish',
      targetType: 'import_run',
      after: {
        runId: this.id,
        kind: this.kind,
        status,
        dryRun: this.dryRun,
        onError: this.onError,
        rows: this.#rows,
        counts,
        problems,
      },
    };
  }

  /** Ends the run in `change`: the import's own when it writes. */
  async #finish(change: Change, outcome: RunOutcome, written = 0): Promise<void> {
    await change.db
      .updateTable('import_runs')
      .set({
        status: outcome.status,
        counts: JSON.stringify(outcome.counts),
        error_count: outcome.errors.length,
        errors: JSON.stringify(outcome.errors.slice(0, STORED_ERRORS)),
        ignored_columns: JSON.stringify(outcome.ignoredColumns),
        written_rows: written,
        updated_at: change.now,
        finished_at: change.now,
      })
      .where('id', '=', this.id)
      .execute();
    change.record(this.#finished(outcome.status, outcome.counts, outcome.errors.length));
  }

  /** The run stopped on an error it did not expect (or the file was refused whole). */
  async #fail(error: unknown): Promise<void> {
    writing.delete(this.id);
    const failure = error instanceof Error ? error.message.slice(0, 1000) : 'The import stopped';
    try {
      await runChange(this.database, this.origin, async (change) => {
        const ended = await change.db
          .updateTable('import_runs')
          .set({ status: 'failed', failure, updated_at: change.now, finished_at: change.now })
          .where('id', '=', this.id)
          .where('status', 'in', ['checking', 'writing'])
          .executeTakeFirst();
        if (Number(ended.numUpdatedRows) === 1) change.record(this.#finished('failed', {}, 0));
      });
    } catch {
      // The import's own error is the one to answer with; the run then stays as it was.
    }
  }
}
