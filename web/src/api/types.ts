/** The API's shapes as the pages use them (the OpenAPI document at /api/v1/openapi.json is complete). */

export type Role = 'owner' | 'dsl' | 'deputy_dsl' | 'admin' | 'viewer' | 'member';
export type ScopeType = 'organisation' | 'school_group' | 'school';
export type Sensitivity = 'standard' | 'child_protection' | 'allegation';

export interface Scope {
  type: ScopeType;
  id: string;
  name?: string;
}

export interface HeldGrant {
  grantId: string;
  role: Exclude<Role, 'member'>;
  scope: Scope & { name: string };
  source: { type: 'direct' } | { type: 'user_group'; userGroupId: string; userGroupName: string };
  since: string;
}

export interface Me {
  id: string;
  email: string;
  name: string;
  status: 'active' | 'disabled';
  organisation: { id: string; name: string };
  roles: HeldGrant[];
  abilities: string[];
  totpStatus: 'off' | 'pending' | 'active';
  mfaAt: string | null;
  csrfToken?: string;
}

export interface School {
  id: string;
  name: string;
  settings?: { requireMfaForSensitive?: boolean };
}

export interface StudentSummary {
  id: string;
  schoolId: string;
  givenName: string;
  familyName: string;
  yearGroup: number | null;
  house?: string | null;
  upn?: string | null;
}

export interface Category {
  id: string;
  schoolId: string | null;
  name: string;
  sensitivity: Sensitivity;
}

export interface IncidentAbilities {
  update: boolean;
  delete: boolean;
  manageExclusions: boolean;
  assign: boolean;
  addActions: boolean;
}

export interface Incident {
  id: string;
  schoolId: string;
  category: Category;
  occurredAt: string;
  location: string | null;
  description: string;
  status: 'open' | 'in_progress' | 'closed';
  reporter: { id: string; name: string };
  subjectUserId: string | null;
  students: ({ redacted: false; id: string; name: string } | { redacted: true })[];
  assignees: { type: 'user' | 'user_group'; id: string; name: string }[];
  revision: number;
  createdAt: string;
  updatedAt: string;
  abilities: IncidentAbilities;
}

export interface Action {
  id: string;
  incidentId: string;
  title: string;
  dueAt: string | null;
  overdue: boolean;
  assignee: { type: 'user' | 'user_group'; id: string; name?: string };
  completedAt: string | null;
  completedBy: string | null;
  createdAt: string;
}

export interface Alert {
  id: string;
  kind: 'incident_assigned' | 'action_assigned' | 'action_due';
  incidentId: string;
  actionId: string | null;
  title: string | null;
  createdAt: string;
  read: boolean;
}

export const roleLabels: Record<Role, string> = {
  owner: 'Owner',
  dsl: 'DSL',
  deputy_dsl: 'Deputy DSL',
  admin: 'Admin',
  viewer: 'Viewer',
  member: 'Member',
};

export const sensitivityLabels: Record<Sensitivity, string> = {
  standard: 'Standard',
  child_protection: 'Child protection',
  allegation: 'Allegation against staff',
};
