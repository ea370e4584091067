import { toCsv } from '../../lib/csv.ts';
import type { DocumentPart } from './document.ts';
import {
  clearancesText,
  flagsText,
  groupAdministrationText,
  rolesText,
  statusText,
  studentGroupsText,
  userGroupsText,
} from './words.ts';

const header = [
  'Name',
  'Email',
  'Account',
  'Roles',
  'User groups',
  'Student groups',
  'Children reachable',
  'Children linked one by one',
  'Clearances',
  'Blocks',
  'Group administration',
  'Two-factor sign-in',
  'Last sign-in',
  'Flags',
  'User id',
];

/**
 * The saved report as CSV, one line per person, rendered from the stored document a row at a time
 * (the same bytes on every download). Cells are made safe to open in a spreadsheet (`toCsv`).
 */
export async function* renderCsv(parts: AsyncIterable<DocumentPart>): AsyncGenerator<string> {
  let lines: unknown[][] = [header];
  for await (const part of parts) {
    if (part.kind !== 'row') continue;
    const row = part.row;
    lines.push([
      row.name,
      row.email,
      statusText(row),
      rolesText(row),
      userGroupsText(row),
      studentGroupsText(row),
      row.reachableStudents,
      row.directStudentLinks,
      clearancesText(row),
      row.blocks,
      groupAdministrationText(row),
      row.twoFactor ? 'Enrolled' : 'Not enrolled',
      row.lastSignInAt ?? 'Never',
      flagsText(row),
      row.userId,
    ]);
    if (lines.length >= 500) {
      yield toCsv(lines);
      lines = [];
    }
  }
  if (lines.length > 0) yield toCsv(lines);
}
