import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import {
  type AccessAuditFlag,
  type AccessAuditRow,
  accessAuditFlags,
} from '../../access/access-audit.ts';
import type { Scope } from '../../access/scopes.ts';

/**
 * The saved document of an Access Audit Report run: one JSON value, laid out one row to a line so
 * that it is written and read back a row at a time (JSON escapes every newline inside a string):
 *
 *   {"report":{...},"rows":[
 *   {row},
 *   {row}
 *   ],"totals":{...}}
 *
 * The totals come last because they are known only once the last row is written, and the SHA-256
 * is computed over the bytes as they are written, so nothing is written twice.
 */

export const DOCUMENT_FORMAT = 'haven.access-audit.v1';

export interface RunReport {
  format: typeof DOCUMENT_FORMAT;
  id: string;
  organisation: { id: string; name: string };
  scope: Scope & { name: string };
  /** Null: as at the moment the run was taken (`createdAt`). */
  asOf: string | null;
  createdAt: string;
  createdBy: { id: string; name: string; email: string };
}

export type FlagCounts = Record<AccessAuditFlag, number>;

export interface RunTotals {
  people: number;
  flags: FlagCounts;
}

export interface WrittenDocument {
  sha256: string;
  byteLength: number;
  chunkCount: number;
  totals: RunTotals;
}

const ROWS_OPEN = ',"rows":[';
const TOTALS_OPEN = '],"totals":';

export function noFlags(): FlagCounts {
  return Object.fromEntries(accessAuditFlags.map((f) => [f, 0])) as FlagCounts;
}

/** About a megabyte: the size of each stored chunk (the last may be smaller). */
export const CHUNK_CHARACTERS = 1 << 20;

/**
 * Writes the document of `rows` to `store` chunk by chunk, hashing exactly the bytes stored.
 * Memory holds one chunk, whatever the number of rows.
 */
export async function writeDocument(
  report: RunReport,
  rows: AsyncIterable<AccessAuditRow>,
  store: (seq: number, bytes: Buffer) => Promise<void>,
): Promise<WrittenDocument> {
  const hash = createHash('sha256');
  let pending: string[] = [];
  let pendingLength = 0;
  let seq = 0;
  let byteLength = 0;
  const flush = async () => {
    if (pendingLength === 0) return;
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingLength = 0;
    hash.update(bytes);
    byteLength += bytes.length;
    await store(seq, bytes);
    seq += 1;
  };
  // Awaits only when a chunk is full: a million rows should not cost a million promise turns.
  const write = (text: string): Promise<void> | undefined => {
    pending.push(text);
    pendingLength += text.length;
    return pendingLength >= CHUNK_CHARACTERS ? flush() : undefined;
  };

  const totals: RunTotals = { people: 0, flags: noFlags() };
  await write(`{"report":${JSON.stringify(report)}${ROWS_OPEN}\n`);
  for await (const row of rows) {
    const full = write(`${totals.people === 0 ? '' : ',\n'}${JSON.stringify(row)}`);
    if (full) await full;
    totals.people += 1;
    for (const flag of row.flags) totals.flags[flag] += 1;
  }
  await write(`${totals.people === 0 ? '' : '\n'}${TOTALS_OPEN}${JSON.stringify(totals)}}\n`);
  await flush();
  return { sha256: hash.digest('hex'), byteLength, chunkCount: seq, totals };
}

export type DocumentPart =
  | { kind: 'report'; report: RunReport }
  | { kind: 'row'; row: AccessAuditRow }
  | { kind: 'totals'; totals: RunTotals };

/** A row as saved; runs saved before delegated administration was reported read back with none. */
function savedRow(json: string): AccessAuditRow {
  const row = JSON.parse(json) as Omit<AccessAuditRow, 'groupAdministration'> &
    Partial<Pick<AccessAuditRow, 'groupAdministration'>>;
  return { ...row, groupAdministration: row.groupAdministration ?? [] };
}

/** Reads a saved document back, a line (a row) at a time, from its chunks in order. */
export async function* readDocument(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): AsyncGenerator<DocumentPart> {
  const decoder = new StringDecoder('utf8');
  let carried = '';
  let first = true;
  const part = (line: string): DocumentPart | null => {
    if (first) {
      first = false;
      const json = line.slice('{"report":'.length, line.length - ROWS_OPEN.length);
      return { kind: 'report', report: JSON.parse(json) as RunReport };
    }
    if (line.startsWith(TOTALS_OPEN)) {
      return {
        kind: 'totals',
        totals: JSON.parse(line.slice(TOTALS_OPEN.length, -1)) as RunTotals,
      };
    }
    if (line === '') return null;
    const json = line.endsWith(',') ? line.slice(0, -1) : line;
    return { kind: 'row', row: savedRow(json) };
  };
  for await (const chunk of chunks) {
    const lines = (carried + decoder.write(chunk)).split('\n');
    carried = lines.pop() ?? '';
    for (const line of lines) {
      const found = part(line);
      if (found) yield found;
    }
  }
  const rest = carried + decoder.end();
  if (rest !== '') {
    const found = part(rest);
    if (found) yield found;
  }
}
