import type { Role } from './roles.ts';

/**
 * The permission catalogue (spec section 2): each permission names the minimum role that
 * passes. A role ranked at or above the minimum passes. Nothing else in Haven compares roles.
 */
export const permissions = {
  'organisation.update': {
    minimumRole: 'owner',
    about: 'Change organisation details and settings',
  },
  'organisation.members.remove': {
    minimumRole: 'owner',
    about: 'Remove a user from the organisation',
  },
  'schools.manage': { minimumRole: 'owner', about: 'Create schools and school groups' },
  'roles.assign.owner': { minimumRole: 'owner', about: 'Grant or revoke the Owner role' },
  'roles.assign': { minimumRole: 'admin', about: 'Grant or revoke DSL, Deputy DSL, Admin, Viewer' },
  'users.manage': { minimumRole: 'admin', about: 'Add, edit and disable users' },
  'records.retention': {
    minimumRole: 'dsl',
    about:
      'Review records past their retention date: extend, put on legal hold or approve destruction (src/access/retention.ts)',
  },
  'users.mfa.reset': {
    minimumRole: 'dsl',
    about:
      'Reset another person’s two-factor sign-in: an Owner anyone’s, a DSL that of staff of their schools (src/access/accounts.ts)',
  },
  'user_groups.manage': { minimumRole: 'admin', about: 'Manage any user group' },
  'student_groups.manage': { minimumRole: 'admin', about: 'Manage student groups' },
  'students.assign_groups': { minimumRole: 'admin', about: 'Put students in manual groups' },
  'students.create': { minimumRole: 'admin', about: 'Add students' },
  'students.update': { minimumRole: 'admin', about: 'Edit students' },
  'students.delete': { minimumRole: 'admin', about: 'Soft-delete students' },
  'categories.manage': { minimumRole: 'admin', about: 'Manage incident categories' },
  'policies.manage': { minimumRole: 'admin', about: 'Manage policies' },
  'settings.manage': { minimumRole: 'admin', about: 'Manage school settings' },
  'transfers.manage': { minimumRole: 'admin', about: 'Manage transfers' },
  'transfers.receive': {
    minimumRole: 'dsl',
    about:
      "Accept a child's safeguarding file offered to one's school, and read the copy a sent file leaves (src/modules/transfers)",
  },
  'reports.access_audit': { minimumRole: 'admin', about: 'Run the access audit report' },
  'audit_log.view': { minimumRole: 'admin', about: 'Read the audit and access logs' },
  'blocks.manage': { minimumRole: 'deputy_dsl', about: 'Block a child from a member of staff' },
  'incidents.delete': { minimumRole: 'deputy_dsl', about: 'Soft-delete incidents' },
  'incidents.exclusions.manage': { minimumRole: 'deputy_dsl', about: 'Manage exclusion lists' },
  'incidents.reclassify': {
    minimumRole: 'deputy_dsl',
    about:
      'Lower a record’s sensitivity, remove a child, move it to another school or close a sensitive record',
  },
  'incidents.assign': {
    minimumRole: 'deputy_dsl',
    about: 'Assign incidents to staff or groups (widens who sees them)',
  },
  'actions.create': { minimumRole: 'deputy_dsl', about: 'Create actions' },
  'actions.update': { minimumRole: 'deputy_dsl', about: 'Update actions' },
  'actions.delete': { minimumRole: 'deputy_dsl', about: 'Delete actions' },
  'documents.manage': { minimumRole: 'deputy_dsl', about: 'Upload and delete documents' },
  'ai.recommendations': { minimumRole: 'deputy_dsl', about: 'Generate action recommendations' },
  'students.view': { minimumRole: 'viewer', about: 'View the students one can see' },
  'incidents.view': { minimumRole: 'viewer', about: 'View the incidents one can see' },
  'incidents.create': { minimumRole: 'viewer', about: 'Log a concern' },
  'incidents.update': { minimumRole: 'viewer', about: 'Update incidents one can see' },
  'actions.complete': { minimumRole: 'viewer', about: 'Complete actions assigned to one' },
  'alerts.manage': { minimumRole: 'viewer', about: "Manage one's own alerts" },
} as const satisfies Record<string, { minimumRole: Role; about: string }>;

export type Permission = keyof typeof permissions;

export function minimumRoleFor(permission: Permission): Role {
  return permissions[permission].minimumRole;
}
