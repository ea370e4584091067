import type { Role, Scope, ScopeType } from '../api/types.ts';

/** The Access Audit Report as the API answers it (`src/modules/compliance`, `src/access/access-audit.ts`). */

// One list of flags and their words for the server's CSV and PDF and for these pages.
export {
  type AccessAuditFlag,
  accessAuditFlags,
  flagWords,
} from '../../../src/access/access-audit-flags.ts';

import type { AccessAuditFlag } from '../../../src/access/access-audit-flags.ts';

export type FlagCounts = Record<AccessAuditFlag, number>;

export interface AccessAuditRun {
  id: string;
  createdAt: string;
  scope: { type: ScopeType; id: string; name: string };
  /** Null: as at the moment the run was taken. */
  asOf: string | null;
  sha256: string;
  rowCount: number;
  byteLength: number;
  createdBy: { id: string; name: string };
  flagCounts: FlagCounts;
}

interface Named {
  id: string;
  name: string;
}

export interface AccessAuditRow {
  userId: string;
  name: string;
  email: string;
  status: 'invited' | 'active' | 'disabled';
  roles: {
    role: Exclude<Role, 'member'>;
    scope: Scope & { name: string };
    via: Named | null;
    reason: string | null;
  }[];
  userGroups: Named[];
  studentGroups: (Named & { kind: string; via: Named[] })[];
  directStudentLinks: number;
  reachableStudents: number;
  clearances: { clearance: 'child_protection' | 'allegations'; via: Named }[];
  blocks: number;
  twoFactor: boolean;
  lastSignInAt: string | null;
  flags: AccessAuditFlag[];
}

/** The saved document's header. */
export interface AccessAuditReport {
  id: string;
  organisation: Named;
  scope: { type: ScopeType; id: string; name: string };
  asOf: string | null;
  createdAt: string;
  createdBy: { id: string; name: string; email: string };
}
