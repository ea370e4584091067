import type { Change } from '../audit/change.ts';
import { type ImportProblem, rowsWithProblems } from './problems.ts';
import type { ImportCounts, ImportRun } from './runs.ts';

/** What a CSV import (pupils, staff) answers; the routes' schema is `csvImportReport`. */
export interface CsvImportReport {
  runId: string;
  dryRun: boolean;
  onError: 'stop' | 'skip';
  rows: number;
  /** What was written: none on a dry run, nor when a problem stopped the import. */
  created: number;
  updated: number;
  unchanged: number;
  /** Rows left out because of their problems (`onError=skip`). */
  skipped: number;
  /** What the check found the file would do, dry run or not. */
  plan: { create: number; update: number; unchanged: number; skip: number };
  errors: ImportProblem[];
  /** The file's columns Haven does not use, in the file's order. */
  ignoredColumns: string[];
  /** Each column used, and the field it fills. */
  columns: { column: string; field: string }[];
}

/** A checked plan of adds and updates (pupils' or staff's). */
export interface CsvPlan {
  creates: readonly unknown[];
  updates: readonly unknown[];
  unchanged: number;
}

/** A CSV import's answer once every row is checked: the plan, and nothing written yet. */
export function csvImportReport(
  run: ImportRun,
  check: {
    rows: number;
    plan: CsvPlan;
    errors: ImportProblem[];
    ignoredColumns: string[];
    columns: CsvImportReport['columns'];
  },
): CsvImportReport {
  return {
    runId: run.id,
    dryRun: run.dryRun,
    onError: run.onError,
    rows: check.rows,
    created: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    plan: {
      create: check.plan.creates.length,
      update: check.plan.updates.length,
      unchanged: check.plan.unchanged,
      skip: rowsWithProblems(check.errors),
    },
    errors: check.errors,
    ignoredColumns: check.ignoredColumns,
    columns: check.columns,
  };
}

/** The counts a CSV import's run keeps: what was written, and what the check planned. */
export function csvRunCounts(report: CsvImportReport): ImportCounts {
  return {
    created: report.created,
    updated: report.updated,
    unchanged: report.unchanged,
    skipped: report.skipped,
    toCreate: report.plan.create,
    toUpdate: report.plan.update,
    toLeaveUnchanged: report.plan.unchanged,
    toSkip: report.plan.skip,
  };
}

/**
 * Ends a CSV import's run (`ImportRun.conclude`): `write` writes the plan in the import's one
 * change and fills in `created` and `updated`; the rows left unchanged and skipped follow.
 */
export async function concludeCsv<R extends CsvImportReport>(
  run: ImportRun,
  report: R,
  plan: CsvPlan,
  write: (change: Change, wrote: (written: number) => void) => Promise<void>,
  counts: (report: R) => ImportCounts = csvRunCounts,
): Promise<R> {
  await run.conclude(
    {
      rows: report.rows,
      toWrite: plan.creates.length + plan.updates.length,
      errors: report.errors,
      ignoredColumns: report.ignoredColumns,
      counts: () => counts(report),
    },
    async (change, wrote) => {
      await write(change, wrote);
      report.unchanged = plan.unchanged;
      report.skipped = report.plan.skip;
    },
  );
  return report;
}
