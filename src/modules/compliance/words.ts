import type { AccessAuditRow } from '../../access/access-audit.ts';
import { flagWords } from '../../access/access-audit-flags.ts';
import type { Clearance } from '../../access/clearances.ts';
import { assignmentInWords, permissionsInWords } from '../../access/group-permission-words.ts';
import { roleLabel } from '../../access/roles.ts';

/** A report row's cells in words, as the CSV and the printable report show them. */

const clearanceLabels: Record<Clearance, string> = {
  child_protection: 'Child protection',
  allegations: 'Allegations',
};

const statusLabels: Record<AccessAuditRow['status'], string> = {
  invited: 'Invited',
  active: 'Active',
  disabled: 'Disabled',
};

export const LIST_SEPARATOR = '; ';

export function rolesText(row: AccessAuditRow, separator = LIST_SEPARATOR): string {
  return row.roles
    .map((r) => {
      const source = r.via ? `via ${r.via.name}` : 'direct';
      const reason = r.reason ? `, reason: ${r.reason}` : '';
      return `${roleLabel(r.role)} at ${r.scope.name} (${source}${reason})`;
    })
    .join(separator);
}

export function userGroupsText(row: AccessAuditRow, separator = LIST_SEPARATOR): string {
  return row.userGroups.map((g) => g.name).join(separator);
}

export function studentGroupsText(row: AccessAuditRow, separator = LIST_SEPARATOR): string {
  return row.studentGroups
    .map((g) => {
      const via = g.via.length > 0 ? ` via ${g.via.map((v) => v.name).join(', ')}` : '';
      return `${g.name}${via}`;
    })
    .join(separator);
}

export function clearancesText(row: AccessAuditRow, separator = LIST_SEPARATOR): string {
  return row.clearances
    .map((c) => `${clearanceLabels[c.clearance] ?? c.clearance} via ${c.via.name}`)
    .join(separator);
}

/** "Year 9 team: Membership editors [View, manage members] as a member of Pastoral leads". */
export function groupAdministrationText(row: AccessAuditRow, separator = LIST_SEPARATOR): string {
  return row.groupAdministration
    .map((a) => {
      const via = assignmentInWords(
        a.via.type,
        a.via.type === 'user_group' ? a.via.userGroup.name : undefined,
      );
      return `${a.userGroup.name}: ${a.set.name} [${permissionsInWords(a.permissions)}] ${via}`;
    })
    .join(separator);
}

export function flagsText(row: AccessAuditRow, separator = LIST_SEPARATOR): string {
  return row.flags.map((f) => flagWords[f]?.label ?? f).join(separator);
}

export function statusText(row: AccessAuditRow): string {
  return statusLabels[row.status] ?? row.status;
}

const londonTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

/** An instant as a reader in an English school reads it ("30 Nov 2026, 14:05 GMT"). */
export function londonDateTime(iso: string): string {
  return londonTime.format(new Date(iso));
}
