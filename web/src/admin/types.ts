import { groupPermissionLabels as labels } from '../../../src/access/group-permission-words.ts';
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
    view: boolean;
    /** Read the member list (`GET /user-groups/:id/members` answers 403 without it). */
    viewMembers: boolean;
    /** The same as `editDetails`. */
    edit: boolean;
    editDetails: boolean;
    delete: boolean;
    manageMembers: boolean;
    manageOwners: boolean;
    managePermissionSets: boolean;
    manageLinks: boolean;
    manageClearances: boolean;
    manageRoles: boolean;
  };
}

/** What a permission set allows on its group, in the server's order; each one includes `view`. */
export type GroupPermission =
  | 'view'
  | 'view_members'
  | 'edit_details'
  | 'manage_members'
  | 'delete';

// One vocabulary for group permissions, shared with the server's report and the inspector.
export const groupPermissionLabels: Record<GroupPermission, string> = labels;

export const groupPermissions = Object.keys(groupPermissionLabels) as GroupPermission[];

export type PermissionSetKind = 'owners' | 'members' | 'everyone' | 'custom';

/** Who holds a set: a user, or every current member of a user group. */
export type SetAssignee =
  | { type: 'user'; id: string; name: string; email: string }
  | { type: 'user_group'; id: string; name: string; memberCount: number; withheld?: false }
  /** A group the reader may not see: named to nobody but its administrators. */
  | { type: 'user_group'; id: null; name: null; memberCount: null; withheld: true };

/** An assignee the reader can see and name (every one they can pick). */
export type VisibleAssignee = Extract<SetAssignee, { id: string }>;

/**
 * One permission set of a user group (`GET /user-groups/:id/permission-sets`). The fixed sets
 * have the ids `owners`, `members` and `everyone`; the Members and Everyone sets list no
 * assignees (they are the group's members and the whole organisation).
 */
export interface PermissionSet {
  id: string;
  kind: PermissionSetKind;
  name: string;
  permissions: GroupPermission[];
  fixed: boolean;
  assignees: SetAssignee[];
}

export interface PermissionSets {
  items: PermissionSet[];
  abilities: { manage: boolean };
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
