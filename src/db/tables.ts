/**
 * Table types for Kysely. Times are ISO 8601 UTC strings on both engines; JSON is stored as
 * text (so the audit hash is computed over exactly what is stored); nothing is a boolean
 * (a nullable time such as `disabled_at` says more, and SQLite has no boolean type).
 *
 * History-bearing rows (grants, memberships, links, clearances, blocks) are never updated
 * except to close them: `valid_from` is when they began, `valid_to` when they ended (null: current).
 */

import type { ColumnType } from 'kysely';

export interface OrganisationsTable {
  id: string;
  name: string;
  settings: string;
  created_at: string;
  updated_at: string;
}

export interface SchoolsTable {
  id: string;
  organisation_id: string;
  name: string;
  settings: string;
  created_at: string;
  updated_at: string;
}

export interface SchoolGroupsTable {
  id: string;
  organisation_id: string;
  name: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface SchoolGroupSchoolsTable {
  id: string;
  organisation_id: string;
  school_group_id: string;
  school_id: string;
  valid_from: string;
  valid_to: string | null;
}

export interface UsersTable {
  id: string;
  organisation_id: string;
  email: string;
  name: string;
  password_hash: string | null;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
  removed_at: string | null;
  /** When the person first set a password or signed in; null: invited (or added) and never in. */
  activated_at: string | null;
  /** The start of their latest session. */
  last_sign_in_at: string | null;
}

export type AccountTokenPurpose = 'invitation' | 'password_reset';

/** A single-use link sent by email (an invitation, a password reset); only its hash is kept. */
export interface AccountTokensTable {
  id: string;
  organisation_id: string;
  user_id: string;
  purpose: AccountTokenPurpose;
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** A newer token of the same kind was sent, or the password was set another way. */
  replaced_at: string | null;
  created_by: string | null;
}

/** A password reset asked for by email address, until the worker handles (and deletes) it. */
export interface PasswordResetRequestsTable {
  id: string;
  email: string;
  requested_at: string;
  ip: string | null;
  request_id: string | null;
}

export interface UserGroupsTable {
  id: string;
  organisation_id: string;
  name: string;
  description: string;
  rationale: string;
  /** Set for the groups Haven makes itself, e.g. a school's Safeguarding Team. */
  system_key: string | null;
  /** Where the group is administered from (spec section 5): set at creation, never changed. */
  home_scope_type: string;
  home_scope_id: string;
  /** Current members, kept in the same transaction as every membership change. */
  member_count: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface UserGroupMembersTable {
  organisation_id: string;
  user_group_id: string;
  user_id: string;
  valid_from: string;
  valid_to: string | null;
}

export interface UserGroupOwnersTable {
  organisation_id: string;
  user_group_id: string;
  user_id: string;
  valid_from: string;
  valid_to: string | null;
}

/** A version of a user group's Members, Everyone or custom permission set (migration 0020). */
export interface UserGroupPermissionSetsTable {
  id: string;
  organisation_id: string;
  set_id: string;
  user_group_id: string;
  kind: 'members' | 'everyone' | 'custom';
  name: string;
  permissions: string;
  changed_by: string | null;
  valid_from: string;
  valid_to: string | null;
}

/** A user, or a user group whose members hold the set while they are members. */
export interface UserGroupSetAssigneesTable {
  id: string;
  organisation_id: string;
  user_group_id: string;
  set_id: string;
  assignee_type: 'user' | 'user_group';
  assignee_id: string;
  added_by: string | null;
  removed_by: string | null;
  valid_from: string;
  valid_to: string | null;
}

export interface UserGroupClearancesTable {
  id: string;
  organisation_id: string;
  user_group_id: string;
  clearance: string;
  valid_from: string;
  valid_to: string | null;
}

export interface RoleGrantsTable {
  id: string;
  organisation_id: string;
  /** Exactly one of user_id and user_group_id is set. */
  user_id: string | null;
  user_group_id: string | null;
  role: string;
  scope_type: string;
  scope_id: string;
  granted_by: string | null;
  revoked_by: string | null;
  /** Why the grant was given, as the granter wrote it (optional). */
  reason: string | null;
  valid_from: string;
  valid_to: string | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  organisation_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  mfa_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface LoginAttemptsTable {
  id: string;
  email: string;
  at: string;
  outcome: string;
  ip: string | null;
}

/** A user's TOTP enrolment: pending while `confirmed_at` is null, active once it is set. */
export interface UserTotpTable {
  user_id: string;
  organisation_id: string;
  /** The base32 TOTP secret, stored as is (there is no encryption key facility yet). */
  secret: string;
  created_at: string;
  confirmed_at: string | null;
  /** RFC 6238 time step of the last accepted code; codes of this step or earlier are refused. */
  last_time_step: number | null;
}

/** One-time recovery codes, kept only as salted SHA-256 hashes; `used_at` set once spent. */
export interface TotpRecoveryCodesTable {
  id: string;
  organisation_id: string;
  user_id: string;
  salt: string;
  code_hash: string;
  created_at: string;
  used_at: string | null;
}

export interface AuditChainsTable {
  chain_id: string;
  last_seq: number;
  last_hash: string;
}

export interface AuditEventsTable {
  id: string;
  chain_id: string;
  seq: number;
  organisation_id: string | null;
  at: string;
  /** `change`, `denied` (refused request) or `access` (read of a sensitive record). */
  category: string;
  action: string;
  actor_user_id: string | null;
  target_type: string | null;
  target_id: string | null;
  before_json: string | null;
  after_json: string | null;
  meta_json: string | null;
  prev_hash: string;
  hash: string;
  /**
   * The hash formula (`src/modules/audit/chain.ts`): 1, the payloads themselves (rows written
   * before migration 0023; they cannot be shredded); 2, `payload_digest` in their place.
   */
  hash_version: number;
  /** Version 2: SHA-256 of the canonical JSON of the three payloads as written. Null on version 1. */
  payload_digest: string | null;
  /** When the payloads were blanked because the record the row is about was destroyed. */
  shredded_at: string | null;
}

export interface StudentsTable {
  id: string;
  organisation_id: string;
  school_id: string;
  upn: string | null;
  given_name: string;
  family_name: string;
  preferred_name: string | null;
  /** Lower-cased, accent-free names: the sort and search keys. */
  family_key: string;
  given_key: string;
  preferred_key: string | null;
  date_of_birth: string | null;
  year_group: number | null;
  key_stage: number | null;
  house: string | null;
  sen_status: string;
  /** JSON arrays; `student_labels` holds the same values for queries. */
  flags: string;
  tags: string;
  on_roll: number;
  revision: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** The search words (`student_name_tokens`), each after a space: what counts match a search on (0026). */
  search_words: string;
}

export interface StudentLabelsTable {
  organisation_id: string;
  student_id: string;
  kind: string;
  value: string;
}

export interface StudentNameTokensTable {
  organisation_id: string;
  student_id: string;
  token: string;
  /** The student's sort keys, copied so a search reads its matches in name order. */
  family_key: string;
  given_key: string;
  /** The student's school, roll and deletion, copied so a count reads a school's matches (0026). */
  school_id: string;
  on_roll: number;
  deleted_at: string | null;
  /** The student's word before this one in byte order: a prefix's count takes each child once. */
  prior_token: string | null;
}

export interface StudentGroupsTable {
  id: string;
  organisation_id: string;
  school_id: string | null;
  name: string;
  description: string;
  kind: string;
  rule: string | null;
  system_key: string | null;
  member_count: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface StudentGroupMembersTable {
  organisation_id: string;
  student_group_id: string;
  student_id: string;
  valid_from: string;
  valid_to: string | null;
}

/**
 * An access path's link: a user group or a user (subject) to a student group or a student
 * (target). Users link only to students (external partners).
 */
export interface StudentLinksTable {
  id: string;
  organisation_id: string;
  user_group_id: string | null;
  user_id: string | null;
  student_group_id: string | null;
  student_id: string | null;
  created_by: string | null;
  removed_by: string | null;
  /** Why the link was made; required (confirmed) for a link to an "All students" group. */
  rationale: string | null;
  valid_from: string;
  valid_to: string | null;
}

export interface BlocksTable {
  id: string;
  organisation_id: string;
  user_id: string;
  student_id: string;
  reason: string;
  created_by: string | null;
  removed_by: string | null;
  removal_reason: string | null;
  valid_from: string;
  valid_to: string | null;
}

export type Sensitivity = 'standard' | 'child_protection' | 'allegation';
export type AssigneeType = 'user' | 'user_group';

export interface CategoriesTable {
  id: string;
  organisation_id: string;
  school_id: string | null;
  name: string;
  sensitivity: Sensitivity;
  created_at: string;
  deleted_at: string | null;
}

export interface IncidentsTable {
  id: string;
  organisation_id: string;
  school_id: string;
  category_id: string;
  sensitivity: Sensitivity;
  occurred_at: string;
  location: string | null;
  description: string;
  status: 'open' | 'in_progress' | 'closed';
  reporter_id: string;
  subject_user_id: string | null;
  /** A child not on roll yet, named by the reporter: JSON `{ name, note }` (null: none). */
  unlisted_child: string | null;
  revision: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** Retention (`src/modules/retention`): a later day a DSL kept the record to, "YYYY-MM-DD". */
  retain_extended_to: Optional<string>;
  /** On legal hold since (null: not held): it cannot be destroyed. */
  legal_hold_at: Optional<string>;
  /** An allegation subject's date of birth as a DSL recorded it, "YYYY-MM-DD". */
  subject_born_on: Optional<string>;
  /** Destroyed at the end of its retention: the row is the tombstone, its content gone. */
  destroyed_at: Optional<string>;
}

/** A column added later: nullable, and left out of inserts written before it. */
type Optional<T> = ColumnType<T | null, T | null | undefined, T | null>;

/** Every retention decision on a record, kept (`src/modules/retention`). */
export interface RetentionDecisionsTable {
  id: string;
  organisation_id: string;
  incident_id: string;
  action: 'extend' | 'hold' | 'release' | 'subject_born' | 'destroy';
  /** The new day (extend) or the subject's date of birth (subject_born). */
  on_day: string | null;
  reason: string | null;
  /** The rule and the day the record was held to when the decision was made. */
  rule: string;
  retain_until: string;
  decided_by: string;
  decided_at: string;
}

/** A school's holiday: the days (both included) a transfer's school-day clock skips. */
export interface SchoolHolidaysTable {
  id: string;
  organisation_id: string;
  school_id: string;
  starts_on: string;
  ends_on: string;
  name: string;
  created_by: string;
  created_at: string;
}

/** A child's safeguarding file sent to another school (`src/modules/transfers`). */
export interface TransfersTable {
  id: string;
  /** The sending organisation. */
  organisation_id: string;
  student_id: string;
  from_school_id: string;
  kind: 'organisation' | 'installation' | 'external';
  to_school_id: string | null;
  to_organisation_id: string | null;
  external_school_name: string | null;
  external_contact: string | null;
  reason: string;
  status: 'sent' | 'received' | 'cancelled';
  /** Five school days after it was sent, "YYYY-MM-DD". */
  due_on: string;
  sent_by: string;
  sent_at: string;
  received_by: string | null;
  received_at: string | null;
  receipt_confirmed_by: string | null;
  receipt_confirmed_on: string | null;
  receipt_note: string | null;
  cancelled_by: string | null;
  cancelled_at: string | null;
  /** The safeguarding file (JSON) as the sender saw it when it was sent. */
  snapshot: string;
  received_student_id: string | null;
  overdue_alerted_at: string | null;
  /** External: the encrypted archive; its passphrase is not kept. */
  archive: Buffer | null;
}

export interface IncidentRevisionsTable {
  incident_id: string;
  revision: number;
  snapshot: string;
  changed_by: string | null;
  changed_at: string;
  /** The school, sensitivity and allegation subject the record had in this revision. */
  school_id: string;
  sensitivity: Sensitivity;
  subject_user_id: string | null;
}

/** The children a record named in one revision. */
export interface IncidentRevisionStudentsTable {
  incident_id: string;
  revision: number;
  student_id: string;
}

export interface IncidentStudentsTable {
  incident_id: string;
  student_id: string;
}

export interface IncidentAssigneesTable {
  incident_id: string;
  assignee_type: AssigneeType;
  assignee_id: string;
  assigned_by: string | null;
  assigned_at: string;
}

export interface IncidentExclusionsTable {
  incident_id: string;
  user_id: string;
}

export interface ActionsTable {
  id: string;
  organisation_id: string;
  incident_id: string;
  title: string;
  due_at: string | null;
  assignee_type: AssigneeType;
  assignee_id: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  completed_by: string | null;
  deleted_at: string | null;
}

export type AlertKind =
  | 'incident_assigned'
  | 'action_assigned'
  | 'action_due'
  | 'incident_logged'
  | 'security'
  /** An access review awaits the recipient's decisions (issue 14); about no record. */
  | 'access_review'
  /** A transfer sent from the recipient's school is past its due day without receipt. */
  | 'transfer_overdue';

export interface AlertsTable {
  id: string;
  organisation_id: string;
  recipient_type: AssigneeType;
  recipient_id: string;
  kind: AlertKind;
  /** Null only for a security alert, which is about the organisation. */
  incident_id: string | null;
  action_id: string | null;
  created_at: string;
  /** A security alert's text (names staff and roles, never a child). */
  message: string | null;
}

export type NotificationChannel = 'alert' | 'immediate_email' | 'digest_email';

/** Who is told of a category's new concerns, and how (seed 002's per-category settings). */
export interface NotificationRulesTable {
  id: string;
  organisation_id: string;
  category_id: string;
  recipient_type: AssigneeType;
  recipient_id: string;
  channel: NotificationChannel;
  created_by: string | null;
  created_at: string;
}

/**
 * Something to tell by email, queued in the transaction of the change it is about; the worker
 * decides its recipients when it sends.
 */
export interface NoticesTable {
  id: string;
  organisation_id: string;
  school_id: string | null;
  kind: 'incident_logged' | 'action_due' | 'security';
  channel: 'immediate_email' | 'digest_email';
  recipient_type: AssigneeType;
  recipient_id: string;
  incident_id: string | null;
  action_id: string | null;
  message: string | null;
  status: 'pending' | 'held' | 'done';
  created_at: string;
  handled_at: string | null;
}

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'withdrawn';

/** One email to one person; its text is made from `kind` and `payload` when it is sent. */
export interface OutboxTable {
  id: string;
  organisation_id: string;
  notice_id: string | null;
  /** The school it is about (null: the organisation's), so a school's Admins see its failures. */
  school_id: string | null;
  kind: string;
  to_user_id: string | null;
  to_address: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  last_error: string | null;
  /** The subject it was sent with (set when sent). */
  subject: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface DigestRunsTable {
  school_id: string;
  /** The school's local (Europe/London) date of the digest, YYYY-MM-DD. */
  digest_date: string;
  organisation_id: string;
  created_at: string;
}

export interface AlertStatesTable {
  alert_id: string;
  user_id: string;
  read_at: string | null;
  dismissed_at: string | null;
}

export interface DocumentsTable {
  id: string;
  organisation_id: string;
  incident_id: string | null;
  student_id: string | null;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string | null;
  created_at: string;
  deleted_at: string | null;
}

export type SsoProviderKind = 'microsoft' | 'google' | 'oidc';

/** An organisation's OpenID Connect identity provider (`src/modules/sso`). */
export interface SsoProvidersTable {
  id: string;
  organisation_id: string;
  kind: SsoProviderKind;
  label: string | null;
  /** Microsoft: the directory (tenant) id the issuer was built from. */
  tenant_id: string | null;
  issuer: string;
  client_id: string;
  /** Sealed with the installation's `sso` subkey, bound to the organisation and provider. */
  client_secret: string;
  /** JSON array of lower-case domains. */
  allowed_domains: string;
  position: number;
  created_at: string;
  updated_at: string;
}

/** An organisation's single sign-on switches (0 or 1); no row: the defaults. */
export interface SsoSettingsTable {
  organisation_id: string;
  password_sign_in: number;
  create_accounts: number;
  accept_provider_mfa: number;
  updated_at: string;
}

/** Which Haven user a provider's subject is. */
export interface SsoLinksTable {
  provider_id: string;
  subject: string;
  organisation_id: string;
  user_id: string;
  created_at: string;
  last_used_at: string;
}

/** A sign-in between the redirect to the provider and its answer: single use, short-lived. */
export interface SsoSignInsTable {
  id: string;
  state_hash: string;
  browser_hash: string;
  organisation_id: string;
  provider_id: string;
  nonce: string;
  code_verifier: string;
  redirect_uri: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** An organisation's SCIM provisioning token (`src/modules/scim`); only its SHA-256 hash is kept. */
export interface ScimTokensTable {
  id: string;
  organisation_id: string;
  name: string;
  token_hash: string;
  created_at: string;
  created_by: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

/** What provisioning told Haven about a user that Haven has no field for. */
export interface ScimUsersTable {
  user_id: string;
  organisation_id: string;
  external_id: string | null;
  given_name: string | null;
  family_name: string | null;
  /** When provisioning disabled the account (it re-enables only an account it disabled). */
  disabled_at: string | null;
  updated_at: string;
}

/** A user group's `externalId`, as the provisioning client set it. */
export interface ScimGroupsTable {
  user_group_id: string;
  organisation_id: string;
  external_id: string | null;
  updated_at: string;
}

/** A termly access review of the user groups homed in a scope (issue 14, item 3). */
export interface AccessReviewsTable {
  id: string;
  organisation_id: string;
  scope_type: string;
  scope_id: string;
  title: string;
  due_at: string;
  status: 'open' | 'closed';
  created_by: string | null;
  created_at: string;
  closed_by: string | null;
  closed_at: string | null;
  summary: string | null;
  /** The Access Audit Report runs taken at its start and its close. */
  start_run_id: string | null;
  close_run_id: string | null;
}

export type AccessReviewOutcome = 'confirmed' | 'changed';

/** One user group of a review; `since`: when it was last reviewed (or created). */
export interface AccessReviewItemsTable {
  id: string;
  organisation_id: string;
  review_id: string;
  user_group_id: string;
  group_name: string;
  since: string;
  outcome: AccessReviewOutcome | null;
  note: string | null;
  decided_by: string | null;
  decided_at: string | null;
  closed_at: string | null;
}

/** Every decision on an item, kept (the item holds the latest). */
export interface AccessReviewDecisionsTable {
  id: string;
  organisation_id: string;
  review_id: string;
  item_id: string;
  outcome: AccessReviewOutcome;
  note: string;
  decided_by: string;
  decided_at: string;
}

export type AccessReviewReminderPhase = 'started' | 'due_soon' | 'overdue';

/** A reminder sent to one reviewer for one phase of a review: once each. */
export interface AccessReviewRemindersTable {
  review_id: string;
  user_id: string;
  phase: AccessReviewReminderPhase;
  organisation_id: string;
  created_at: string;
}

/** A saved Access Audit Report run (`src/modules/compliance`): written once, never changed. */
export interface AccessAuditRunsTable {
  id: string;
  organisation_id: string;
  scope_type: string;
  scope_id: string;
  scope_name: string;
  as_of: string | null;
  created_at: string;
  created_by: string;
  sha256: string;
  row_count: number;
  byte_length: number;
  chunk_count: number;
  /** JSON: how many rows carry each flag. */
  flag_counts: string;
}

/** The saved JSON document of a run, in order of `seq`. */
export interface AccessAuditRunChunksTable {
  run_id: string;
  seq: number;
  bytes: Buffer;
}

/** One import of students, staff or a OneRoster bundle, with its progress (migration 0024). */
export interface ImportRunsTable {
  id: string;
  organisation_id: string;
  kind: 'students' | 'staff' | 'oneroster';
  status: 'waiting' | 'checking' | 'writing' | 'checked' | 'imported' | 'refused' | 'failed';
  dry_run: number;
  on_error: 'stop' | 'skip';
  started_by: string | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
  total_rows: number;
  processed_rows: number;
  rows_to_write: number;
  written_rows: number;
  /** JSON object of counts. */
  counts: string;
  error_count: number;
  /** JSON array of the first problems. */
  errors: string;
  /** JSON array of the columns not used. */
  ignored_columns: string;
  failure: string | null;
  /** When the worker blanked the problems, unused columns and failure (30 days on; 0027). */
  problems_cleared_at: string | null;
}

/** One counter per organisation, raised by triggers on every change to what a caller is (0025). */
export interface AccessEpochsTable {
  organisation_id: string;
  /** A bigint on PostgreSQL (read back as a string), an integer on SQLite. */
  epoch: number | string;
}

export interface DB {
  access_epochs: AccessEpochsTable;
  organisations: OrganisationsTable;
  schools: SchoolsTable;
  school_groups: SchoolGroupsTable;
  school_group_schools: SchoolGroupSchoolsTable;
  users: UsersTable;
  account_tokens: AccountTokensTable;
  password_reset_requests: PasswordResetRequestsTable;
  user_groups: UserGroupsTable;
  user_group_members: UserGroupMembersTable;
  user_group_owners: UserGroupOwnersTable;
  user_group_permission_sets: UserGroupPermissionSetsTable;
  user_group_set_assignees: UserGroupSetAssigneesTable;
  user_group_clearances: UserGroupClearancesTable;
  role_grants: RoleGrantsTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
  user_totp: UserTotpTable;
  sso_providers: SsoProvidersTable;
  sso_settings: SsoSettingsTable;
  sso_links: SsoLinksTable;
  sso_sign_ins: SsoSignInsTable;
  totp_recovery_codes: TotpRecoveryCodesTable;
  audit_chains: AuditChainsTable;
  audit_events: AuditEventsTable;
  students: StudentsTable;
  student_labels: StudentLabelsTable;
  student_name_tokens: StudentNameTokensTable;
  student_groups: StudentGroupsTable;
  student_group_members: StudentGroupMembersTable;
  student_links: StudentLinksTable;
  blocks: BlocksTable;
  categories: CategoriesTable;
  incidents: IncidentsTable;
  incident_revisions: IncidentRevisionsTable;
  incident_revision_students: IncidentRevisionStudentsTable;
  incident_students: IncidentStudentsTable;
  incident_assignees: IncidentAssigneesTable;
  incident_exclusions: IncidentExclusionsTable;
  actions: ActionsTable;
  alerts: AlertsTable;
  alert_states: AlertStatesTable;
  notification_rules: NotificationRulesTable;
  notices: NoticesTable;
  outbox: OutboxTable;
  digest_runs: DigestRunsTable;
  documents: DocumentsTable;
  scim_tokens: ScimTokensTable;
  scim_users: ScimUsersTable;
  scim_groups: ScimGroupsTable;
  access_audit_runs: AccessAuditRunsTable;
  access_audit_run_chunks: AccessAuditRunChunksTable;
  access_reviews: AccessReviewsTable;
  access_review_items: AccessReviewItemsTable;
  access_review_decisions: AccessReviewDecisionsTable;
  access_review_reminders: AccessReviewRemindersTable;
  retention_decisions: RetentionDecisionsTable;
  school_holidays: SchoolHolidaysTable;
  transfers: TransfersTable;
  import_runs: ImportRunsTable;
}
