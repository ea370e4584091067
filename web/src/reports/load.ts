import { ApiError, type Problem } from '../api/client.ts';
import type { AccessAuditReport, AccessAuditRow } from './types.ts';

/** At most this many people are read onto the page; beyond that the downloads hold the report. */
export const SHOWN_ROWS_LIMIT = 20_000;

export interface LoadedRun {
  report: AccessAuditReport;
  rows: AccessAuditRow[];
  /** More people are in the report than were read onto the page. */
  truncated: boolean;
  /** The SHA-256 of the saved document, as the server answered it. */
  sha256: string | null;
}

/** Where a saved run downloads, in each form. */
export function downloadUrl(id: string, format: 'json' | 'csv' | 'pdf'): string {
  return `/api/v1/reports/access-audit/${encodeURIComponent(id)}?format=${format}`;
}

/**
 * Reads a saved run's JSON a line at a time (the document keeps one person to a line), stopping
 * after `SHOWN_ROWS_LIMIT` people so that a trust-wide report does not fill the browser's memory.
 */
export async function loadRun(id: string, signal?: AbortSignal): Promise<LoadedRun> {
  const response = await fetch(downloadUrl(id, 'json'), {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    signal,
  });
  if (!response.ok || !response.body) {
    let problem: Problem = { status: response.status, code: 'error' };
    try {
      problem = { ...((await response.json()) as Problem), status: response.status };
    } catch {
      // not problem+json: keep the status alone
    }
    throw new ApiError(problem);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let report: AccessAuditReport | null = null;
  const rows: AccessAuditRow[] = [];
  let carried = '';
  let truncated = false;
  const take = (line: string) => {
    if (report === null) {
      const json = line.slice('{"report":'.length, line.length - ',"rows":['.length);
      report = JSON.parse(json) as AccessAuditReport;
      return;
    }
    if (line === '' || line.startsWith('],"totals":')) return;
    const row = JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as Omit<
      AccessAuditRow,
      'groupAdministration'
    > &
      Partial<Pick<AccessAuditRow, 'groupAdministration'>>;
    // Runs saved before delegated administration was reported hold none.
    rows.push({ ...row, groupAdministration: row.groupAdministration ?? [] });
  };
  reading: for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = (carried + value).split('\n');
    carried = lines.pop() ?? '';
    for (const line of lines) {
      if (rows.length >= SHOWN_ROWS_LIMIT && report !== null && !line.startsWith('],"totals":')) {
        truncated = line !== '';
        if (truncated) {
          await reader.cancel();
          break reading;
        }
      }
      take(line);
    }
  }
  if (!truncated && carried) take(carried);
  if (report === null) throw new Error('The saved report could not be read');
  return { report, rows, truncated, sha256: response.headers.get('x-haven-report-sha256') };
}
