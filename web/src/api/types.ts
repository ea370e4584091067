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
  /** Null id and name: a group the caller may not see (homed where they administer nothing). */
  source:
    | { type: 'direct' }
    | { type: 'user_group'; userGroupId: string | null; userGroupName: string | null };
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

/** What the caller may do with an incident; the server still decides each request. */
export interface IncidentAbilities {
  update: boolean;
  /**
   * A safeguarding decision (Deputy DSL and above at the record's school): lower the sensitivity,
   * remove a child, move the record to another school, close a sensitive record, or change whom
   * an allegation is about.
   */
  reclassify: boolean;
  delete: boolean;
  manageExclusions: boolean;
  assign: boolean;
  addActions: boolean;
  manageDocuments: boolean;
  /** The other schools the record may be moved to. */
  moveTo: string[];
}

export type IncidentStatus = 'open' | 'in_progress' | 'closed';

/** A child on a record: named only if the caller can see them (spec section 4). */
export type InvolvedStudent = { redacted: false; id: string; name: string } | { redacted: true };

export interface Incident {
  id: string;
  schoolId: string;
  category: Category;
  occurredAt: string;
  location: string | null;
  description: string;
  status: IncidentStatus;
  reporter: { id: string; name: string };
  subjectUserId: string | null;
  students: InvolvedStudent[];
  assignees: { type: 'user' | 'user_group'; id: string; name: string }[];
  revision: number;
  createdAt: string;
  updatedAt: string;
  abilities: IncidentAbilities;
}

/** `PATCH /incidents/:id`: `studentIds` are the children the caller can see who belong on it. */
export interface IncidentPatch {
  revision: number;
  studentIds?: string[];
  schoolId?: string;
  categoryId?: string;
  occurredAt?: string;
  location?: string | null;
  description?: string;
  status?: IncidentStatus;
  subjectUserId?: string | null;
}

/**
 * An earlier version of an incident as the caller may read it, or withheld entirely when the
 * caller could not read a record with that version's category, school and children.
 */
export type IncidentRevision =
  | {
      revision: number;
      replacedAt: string;
      replacedBy: { id: string; name: string } | null;
      withheld: false;
      incident: {
        schoolId: string;
        categoryId: string;
        category: Category;
        occurredAt: string;
        location: string | null;
        description: string;
        status: IncidentStatus;
        subjectUserId: string | null;
        students: InvolvedStudent[];
        updatedAt: string;
      };
    }
  | { revision: number; replacedAt: string; withheld: true };

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
  /** `complete` only for the action's assignee (or a member of the group it is assigned to). */
  abilities: { complete: boolean; update: boolean; delete: boolean };
}

/** A document on an incident or on a child's file. */
export interface DocumentInfo {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string | null;
  createdAt: string;
  abilities: { delete: boolean };
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
