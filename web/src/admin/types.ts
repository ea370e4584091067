import { groupPermissionLabels as labels } from '../../../src/access/group-permission-words.ts';
/** The shapes the administration pages read, derived from the generated OpenAPI types. */
import type { Answer, Body, Item } from '../api/answers.ts';

/** A user as `POST /users` answers them (the list adds their roles). */
export type User = Answer<'/api/v1/users', 'post'>;

/** `invited`: added, and has not yet set a password or signed in. */
export type UserStatus = User['status'];

export const userStatusLabels: Record<UserStatus, string> = {
  invited: 'Invited',
  active: 'Active',
  disabled: 'Disabled',
};

/** A user as `GET /users` lists them, with their roles. */
export type ListedUser = Item<'/api/v1/users'>;

/** An invitation email: sent (queued) at `sentAt`; its link opens nothing after `expiresAt`. */
export type Invitation = NonNullable<User['invitation']>;

/** `POST /users/:id/invitation`: the invitation just sent. */
export type SentInvitation = Answer<'/api/v1/users/{id}/invitation', 'post'>;

/** `PATCH /users/:id`: the user without their invitation. */
export type ChangedUser = Answer<'/api/v1/users/{id}', 'patch'>;

/** `GET /users/:id/totp` (DSL and above): their two-factor sign-in, and whether I may reset it. */
export type UserTwoFactor = Answer<'/api/v1/users/{id}/totp', 'get'>;

export type UserDetail = Answer<'/api/v1/users/{id}', 'get'>;

export type UserGroup = Answer<'/api/v1/user-groups/{id}', 'get'>;

export type Clearance = UserGroup['clearances'][number];

export const clearanceLabels: Record<Clearance, string> = {
  child_protection: 'Child protection records',
  allegations: 'Allegations against staff',
};

export type UserGroupSummary = Item<'/api/v1/user-groups'>;

export type StudentLink = UserGroup['studentLinks'][number];

/**
 * One permission set of a user group (`GET /user-groups/:id/permission-sets`). The fixed sets
 * have the ids `owners`, `members` and `everyone`; the Members and Everyone sets list no
 * assignees (they are the group's members and the whole organisation).
 */
export type PermissionSets = Answer<'/api/v1/user-groups/{id}/permission-sets', 'get'>;

export type PermissionSet = PermissionSets['items'][number];

/** What a permission set allows on its group, in the server's order; each one includes `view`. */
export type GroupPermission = PermissionSet['permissions'][number];

// One vocabulary for group permissions, shared with the server's report and the inspector.
export const groupPermissionLabels: Record<GroupPermission, string> = labels;

export const groupPermissions = Object.keys(groupPermissionLabels) as GroupPermission[];

export type PermissionSetKind = PermissionSet['kind'];

/**
 * Who holds a set: a user, or every current member of a user group; a group the reader may not
 * see is `withheld` (named to nobody but its administrators).
 */
export type SetAssignee = PermissionSet['assignees'][number];

/** An assignee the reader can see and name (every one they can pick). */
export type VisibleAssignee = Extract<SetAssignee, { id: string }>;

export type GroupMember = Item<'/api/v1/user-groups/{id}/members'>;

/** One change of `POST /user-groups/:id/batch`: the batch applies all of them, or none. */
export type GroupOperation = Body<'/api/v1/user-groups/{id}/batch', 'post'>['operations'][number];

/** The scopes where the caller may home a group (Admin or higher there), and the server's default. */
export type GroupHomes = Answer<'/api/v1/user-groups/homes', 'get'>;

export type StudentGroup = Answer<'/api/v1/student-groups/{id}', 'get'>;

export type StudentGroupKind = StudentGroup['kind'];

export type Student = Item<'/api/v1/students'>;

export type SchoolGroup = Item<'/api/v1/school-groups'>;

export type Block = Answer<'/api/v1/blocks', 'post'>;

/** A block as `GET /blocks` lists it: with the names of the user and the child. */
export type ListedBlock = Item<'/api/v1/blocks'>;

export function studentName(student: Pick<Student, 'givenName' | 'familyName'>): string {
  return `${student.givenName} ${student.familyName}`;
}
