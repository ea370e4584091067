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
  /** Null with a group the caller may not see (the id would show who else is in it). */
  grantId: string | null;
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
  status: 'invited' | 'active' | 'disabled';
  organisation: { id: string; name: string };
  roles: HeldGrant[];
  abilities: string[];
  totpStatus: 'off' | 'pending' | 'active';
  mfaAt: string | null;
  /**
   * A school asks this user to enrol two-factor sign-in: until they do, the session reaches only
   * the enrolment routes (and signing out).
   */
  mfaEnrolmentRequired: boolean;
  csrfToken?: string;
}

export interface SchoolSettings {
  requireMfaForSensitive: boolean;
  /** Whoever holds a clearance, or Deputy DSL and above, must enrol two-factor sign-in. */
  requireMfaEnrolment: boolean;
  /** When the daily digest email goes out, "HH:MM" in UK time. */
  digestTime: string;
}

export interface School {
  id: string;
  name: string;
  settings: SchoolSettings;
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

/** A category as `GET /categories` lists it: a retired one is kept by its records, offered to none. */
export interface CategoryListItem extends Category {
  retired: boolean;
}

export type NotificationChannel = 'alert' | 'immediate_email' | 'digest_email';

/** Who is told of a category's new concerns, and how. */
export interface NotificationRule {
  recipient: { type: 'user' | 'user_group'; id: string; name: string };
  channel: NotificationChannel;
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
  /** A child not on roll whom the reporter named, for the DSL to match later. */
  unlistedChild: UnlistedChild | null;
  assignees: { type: 'user' | 'user_group'; id: string; name: string }[];
  revision: number;
  createdAt: string;
  updatedAt: string;
  abilities: IncidentAbilities;
}

export interface UnlistedChild {
  name: string;
  note: string | null;
}

/** How a new concern was passed on: at once, in the school's daily digest, or to no one yet. */
export type Delivery = 'immediate' | 'digest' | 'none';

/** `POST /incidents` answers the record as its reporter sees it, with a receipt. */
export interface CreatedIncident extends Incident {
  receipt: { savedAt: string; delivery: Delivery };
}

/** A page of incidents: `stepUpNeeded` more match that only a two-factor check would open. */
export interface IncidentListPage {
  items: Incident[];
  nextCursor: string | null;
  stepUpNeeded: number;
}

/** A child as `GET /reportable-students` names them: names, year and school only. */
export interface ReportableStudent {
  id: string;
  givenName: string;
  familyName: string;
  yearGroup: number | null;
  schoolId: string;
}

/** One of the caller's own reports (`GET /me/reports`): no account of what happened. */
export interface MyReport {
  id: string;
  categoryName: string;
  sensitivity: Sensitivity;
  createdAt: string;
  status: IncidentStatus;
  /** The children named, including a child not on roll. */
  studentNames: string[];
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
  kind:
    | 'incident_assigned'
    | 'action_assigned'
    | 'action_due'
    | 'incident_logged'
    | 'security'
    | 'access_review';
  /** Null for a security alert, which is about the organisation. */
  incidentId: string | null;
  actionId: string | null;
  /** An action's title; null until a step-up where the record needs one. */
  title: string | null;
  /** A security alert's text. */
  message: string | null;
  /** The record needs a two-factor check before it can be opened. */
  stepUpNeeded: boolean;
  createdAt: string;
  read: boolean;
}

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'withdrawn';

/** An email Haven sent, is sending, or could not send (`GET /outbox`, Admins). */
export interface OutboxEmail {
  id: string;
  kind: string;
  schoolId: string | null;
  to: { address: string; name: string | null };
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  subject: string | null;
  createdAt: string;
  sentAt: string | null;
  nextAttemptAt: string | null;
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
