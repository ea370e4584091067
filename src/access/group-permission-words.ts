/**
 * Group permissions and the ways a set is held, in words. Free of imports: the server (the Access
 * Audit Report's CSV and PDF) and the web app (the inspector, the report's pages) read this one
 * file, as they read `access-audit-flags.ts`.
 */

type Permission = 'view' | 'view_members' | 'edit_details' | 'manage_members' | 'delete';

/** The words of the group page's Permissions tab, the inspector, the report and the logs alike. */
export const groupPermissionLabels = {
  view: 'View the group',
  view_members: 'See its members',
  edit_details: 'Edit its details',
  manage_members: 'Add and remove members',
  delete: 'Delete the group',
} as const satisfies Record<Permission, string>;

/** "View the group, see its members, add and remove members" (in the canonical order given). */
export function permissionsInWords(permissions: readonly Permission[]): string {
  if (permissions.length === 0) return 'Nothing';
  return permissions
    .map((p, i) => (i === 0 ? groupPermissionLabels[p] : groupPermissionLabels[p].toLowerCase()))
    .join(', ');
}

export type AssignmentType = 'owner' | 'member' | 'everyone' | 'direct' | 'user_group';

/**
 * How a set is held: "as owner", "as a member", "everyone", "assigned directly", "as a member of
 * Pastoral leads". `groupName` names the assignee group (`user_group`); the caller words a group
 * it may not name ("a group you cannot see").
 */
export function assignmentInWords(type: AssignmentType, groupName?: string): string {
  switch (type) {
    case 'owner':
      return 'as owner';
    case 'member':
      return 'as a member';
    case 'everyone':
      return 'everyone';
    case 'direct':
      return 'assigned directly';
    case 'user_group':
      return `as a member of ${groupName ?? 'a user group'}`;
  }
}
