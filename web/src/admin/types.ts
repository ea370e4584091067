/** The shapes the administration pages read (the OpenAPI document has every field). */
import type { HeldGrant, Role, Scope } from '../api/types.ts';

export type UserStatus = 'invited' | 'active' | 'disabled';

export const userStatusLabels: Record<UserStatus, string> = {
  invited: 'Invited',
  active: 'Active',
  disabled: 'Disabled',
};

export interface User {
  id: string;
  email: string;
  name: string;
  /** `invited`: added, and has not yet set a password or signed in. */
  status: UserStatus;
  createdAt: string;
  updatedAt: string;
  disabledAt: string | null;
  /** When their latest session began; null: never signed in. */
  lastSignInAt: string | null;
  /** The invitation whose link still waits to be used, if any. */
  invitation: Invitation | null;
}

/** An invitation email: sent (queued) at `sentAt`; its link opens nothing after `expiresAt`. */
export interface Invitation {
  sentAt: string;
  expiresAt: string;
}

/** `GET /users/:id/totp` (DSL and above): their two-factor sign-in, and whether I may reset it. */
export interface UserTwoFactor {
  status: 'off' | 'pending' | 'active';
  abilities: { reset: boolean };
}

export interface UserDetail extends User {
  roles: HeldGrant[];
}

export type Clearance = 'child_protection' | 'allegations';

export const clearanceLabels: Record<Clearance, string> = {
  child_protection: 'Child protection records',
  allegations: 'Allegations against staff',
};

export interface UserGroupSummary {
  id: string;
  name: string;
  description: string;
  memberCount: number;
  system: boolean;
  /** Where the group is administered from. */
  homeScope: Scope;
  /** When the group was last reviewed (the close of the access review that decided it). */
  lastReviewedAt: string | null;
  lastReviewId: string | null;
}

export interface StudentLink {
  id: string;
  since: string;
  studentGroup: { id: string; name: string; kind: string; size: number } | null;
  student: { id: string; name: string } | null;
  redacted: boolean;
}

export interface UserGroup extends UserGroupSummary {
  homeScope: Scope & { name: string };
  rationale: string;
  createdAt: string;
  updatedAt: string;
  owners: { id: string; name: string; email: string }[];
  clearances: Clearance[];
  roleGrants: { id: string; role: Role; scope: Scope; reason: string | null }[];
  studentLinks: StudentLink[];
  abilities: {
    edit: boolean;
    delete: boolean;
    manageMembers: boolean;
    manageOwners: boolean;
    manageLinks: boolean;
    manageClearances: boolean;
    manageRoles: boolean;
  };
}

export interface GroupMember {
  id: string;
  name: string;
  email: string;
  status: string;
}

export type StudentGroupKind = 'all' | 'manual' | 'rule';

export interface StudentGroup {
  id: string;
  name: string;
  description: string;
  schoolId: string | null;
  kind: StudentGroupKind;
  rule: unknown;
  memberCount: number;
  system: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Student {
  id: string;
  schoolId: string;
  upn: string | null;
  givenName: string;
  familyName: string;
  preferredName: string | null;
  yearGroup: number | null;
  keyStage: number | null;
  house: string | null;
  senStatus: 'none' | 'K' | 'E';
  flags: string[];
  tags: string[];
}

export interface SchoolGroup {
  id: string;
  name: string;
  schoolIds: string[];
}

export interface Block {
  id: string;
  userId: string;
  studentId: string;
  reason: string;
  createdBy: string | null;
  since: string;
  until: string | null;
}

export function studentName(student: Pick<Student, 'givenName' | 'familyName'>): string {
  return `${student.givenName} ${student.familyName}`;
}
