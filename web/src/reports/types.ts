import type { GroupPermission } from '../admin/types.ts';
import type { Item } from '../api/answers.ts';
import type { Role, Scope, ScopeType } from '../api/types.ts';

/**
 * The Access Audit Report as the API answers it (`src/modules/compliance`,
 * `src/access/access-audit.ts`). A run as listed and made is derived from the OpenAPI document;
 * the saved document's header and rows are written out here, because the document gives
 * `GET /reports/access-audit/:id` no schema (it is a download in three formats).
 */

// One list of flags and their words for the server's CSV and PDF and for these pages.
export {
  type AccessAuditFlag,
  accessAuditFlags,
  flagWords,
} from '../../../src/access/access-audit-flags.ts';

export {
  assignmentInWords,
  permissionsInWords,
} from '../../../src/access/group-permission-words.ts';

import type { AccessAuditFlag } from '../../../src/access/access-audit-flags.ts';

export type FlagCounts = Record<AccessAuditFlag, number>;

/** A saved run (`GET /reports/access-audit`); `asOf` null: as at the moment it was taken. */
export type AccessAuditRun = Item<'/api/v1/reports/access-audit'>;

interface Named {
  id: string;
  name: string;
}

/** A group a person may administer, through which set and assignment. */
export interface GroupAdministration {
  userGroup: Named;
  set: { id: string; kind: 'owners' | 'members' | 'everyone' | 'custom'; name: string };
  permissions: GroupPermission[];
  via:
    | { type: 'owner' }
    | { type: 'member' }
    | { type: 'everyone' }
    | { type: 'direct' }
    /** A group outside the report's scope: id '' and its name withheld. */
    | { type: 'user_group'; userGroup: Named };
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
  /** Groups of the scope the person may administer through a permission set beyond viewing. */
  groupAdministration: GroupAdministration[];
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
