import type { Role, Scope, ScopeType } from '../api/types.ts';

/** The Access Audit Report as the API answers it (`src/modules/compliance`, `src/access/access-audit.ts`). */

export const accessAuditFlags = [
  'no_user_group',
  'dsl_reaches_no_child',
  'clearance_without_two_factor',
  'all_students_link',
  'dormant',
  'more_than_two_owners',
] as const;
export type AccessAuditFlag = (typeof accessAuditFlags)[number];

/** Each flag in words: a short label for its chip, and what it means for the reader. */
export const flagWords: Record<AccessAuditFlag, { label: string; meaning: string }> = {
  no_user_group: {
    label: 'No user group',
    meaning:
      'Belongs to no user group: what they reach comes from roles and one-by-one links alone, outside any group a review looks at.',
  },
  dsl_reaches_no_child: {
    label: 'DSL reaching no child',
    meaning:
      'Holds DSL or Deputy DSL here but can see no child here: the role is unused, or a link to the children is missing.',
  },
  clearance_without_two_factor: {
    label: 'Clearance without two-factor',
    meaning:
      'Holds a clearance for child-protection or allegation records but has not enrolled two-factor sign-in.',
  },
  all_students_link: {
    label: 'Linked to all students',
    meaning:
      'In a user group linked to an "All students" group: sees every child of that school, now and as they join.',
  },
  dormant: {
    label: 'Dormant',
    meaning:
      'Has not signed in for 90 days (or ever, on an account older than that) but still holds access.',
  },
  more_than_two_owners: {
    label: 'One of more than two Owners',
    meaning:
      'An Owner of an organisation with more than two: each Owner reaches everything, so keep the number small.',
  },
};

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
