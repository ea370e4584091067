import { z } from 'zod';
import { id } from '../../lib/schemas.ts';
import type { ImportOptions } from './runs.ts';

/** One problem with one row: `GET /imports/:id` and every import's answer. */
export const importProblem = z.object({
  /** The row as a spreadsheet numbers it (the headings are row 1). */
  line: z.number(),
  column: z.string(),
  message: z.string(),
  /** The sentence a school reads: "Row 14: the date of birth 31/02/2016 is not a real date". */
  text: z.string(),
  /** A OneRoster bundle's file the row is in ("users.csv"); absent for a single CSV. */
  file: z.string().optional(),
});

/** What every import is asked in its query string (`ImportOptions`). */
export const importQuery = z.object({
  dryRun: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  onError: z.enum(['stop', 'skip']).optional(),
  /** A run made beforehand with `POST /api/v1/imports`, to follow while the file is sent. */
  runId: id.optional(),
});

/** The options of an import from its parsed query string. */
export function importOptions(query: z.infer<typeof importQuery>): ImportOptions {
  return { dryRun: query.dryRun ?? false, onError: query.onError, runId: query.runId };
}

/** What a CSV import (pupils, staff) answers: `CsvImportReport`. */
export const csvImportReport = z.object({
  /** The import's run: `GET /api/v1/imports/:id` (progress, counts, problems). */
  runId: z.string(),
  dryRun: z.boolean(),
  onError: z.enum(['stop', 'skip']),
  rows: z.number(),
  /** What was written: 0 on a dry run and when a problem stopped the import. */
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  /** Rows left out because of their problems (`onError=skip`). */
  skipped: z.number(),
  /** What the check found the file would do, dry run or not. */
  plan: z.object({
    create: z.number(),
    update: z.number(),
    unchanged: z.number(),
    skip: z.number(),
  }),
  errors: z.array(importProblem),
  /** The file's columns Haven does not use, in the file's order. */
  ignoredColumns: z.array(z.string()),
  /** Each column used, and the field it fills. */
  columns: z.array(z.object({ column: z.string(), field: z.string() })),
});
