import { parse } from 'csv-parse/sync';
import { validationFailed } from '../../lib/errors.ts';

/**
 * One problem with one row of an imported file. `line` is the row as a spreadsheet numbers it
 * (the headings are row 1); `text` is the whole sentence a school reads: "Row 14: the date of
 * birth 31/02/2016 is not a real date".
 */
export interface ImportProblem {
  line: number;
  column: string;
  message: string;
  text: string;
  /** A OneRoster bundle's file the row is in ("users.csv"); absent for a single CSV. */
  file?: string;
}

export function rowProblem(
  line: number,
  column: string,
  message: string,
  file?: string,
): ImportProblem {
  const where = file ? `${file}, row ${line}` : `Row ${line}`;
  return { line, column, message, text: `${where}: ${message}`, ...(file ? { file } : {}) };
}

export function byRow(a: ImportProblem, b: ImportProblem): number {
  return (a.file ?? '').localeCompare(b.file ?? '') || a.line - b.line;
}

/** How many rows (of a file, or of each file of a bundle) have at least one problem. */
export function rowsWithProblems(problems: readonly ImportProblem[]): number {
  return new Set(problems.map((p) => `${p.file ?? ''}:${p.line}`)).size;
}

export const MAX_ROWS = 200_000;

/** What every import answers: a run, whether it was a dry run, how problems were handled. */
export interface ImportAnswer {
  dryRun: boolean;
  onError: 'stop' | 'skip';
  errors: ImportProblem[];
  ignoredColumns: unknown;
  runId: string;
  rows?: number;
}

/**
 * The HTTP status an import answers with: 200 for a dry run, 201 for what was written, and for
 * an import that stopped on problems a 400 `validation_failed` naming each row's field, with the
 * whole report's problems, unused columns and run beside it. One rule for every import route.
 */
export function importStatus(report: ImportAnswer): 200 | 201 {
  if (report.dryRun) return 200;
  if (report.errors.length > 0 && report.onError === 'stop') {
    const error = validationFailed(
      report.errors.map((e) => ({
        field: `${e.file ?? ''} line ${e.line}, ${e.column}`.trim(),
        message: e.message,
      })),
    );
    Object.assign(error.extra, {
      ...(report.rows === undefined ? {} : { rows: report.rows }),
      problems: report.errors,
      ignoredColumns: report.ignoredColumns,
      runId: report.runId,
    });
    throw error;
  }
  return 201;
}

// C0 controls and DEL, except tab, line feed and carriage return (as the HTTP edge refuses them).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is this pattern's purpose
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface CsvRow {
  /** As a spreadsheet numbers it: the headings are row 1. */
  line: number;
  cells: string[];
}

/**
 * A CSV file's headings and rows. A file that is not CSV, is empty, holds control characters or
 * has more rows than one import takes is refused whole (400), naming `field`.
 */
export function readCsvText(
  text: string,
  field = 'body',
  limit = MAX_ROWS,
): { head: string[]; body: CsvRow[] } {
  if (CONTROL.test(text))
    throw validationFailed([{ field, message: 'holds a control character: is it really CSV?' }]);
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      trim: false,
    });
  } catch (error) {
    throw validationFailed([
      { field, message: `is not readable CSV: ${(error as Error).message}` },
    ]);
  }
  const [head, ...rows] = records;
  if (!head)
    throw validationFailed([{ field, message: 'is empty: the first line must name the columns' }]);
  // Blank rows (a spreadsheet's empty rows are lines of commas) are passed over but keep
  // their number, so every row is named as the spreadsheet numbers it.
  const body = rows
    .map((cells, index) => ({ line: index + 2, cells }))
    .filter((row) => row.cells.some((c) => c.trim() !== ''));
  if (body.length > limit)
    throw validationFailed([
      { field, message: `holds ${body.length} rows; at most ${limit} per import` },
    ]);
  return { head: head.map((h) => h.trim()), body };
}
