import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import type { Clearance } from './clearances.ts';
import type { Role } from './roles.ts';
import type { Scope } from './scopes.ts';

/**
 * The Access Audit Report (issue 14, item 1): one row per person in the report's scope, with what
 * they hold there and how many children they can reach, as now or as of a past time. Counts only:
 * never a child's name or id.
 */

export const accessAuditFlags = [
  /** In no user group. */
  'no_user_group',
  /** Holds DSL or Deputy DSL in the scope but reaches no child there. */
  'dsl_reaches_no_child',
  /** Holds a clearance without two-factor sign-in enrolled. */
  'clearance_without_two_factor',
  /** In a user group linked to an "All students" group. */
  'all_students_link',
  /** No sign-in for 90 days (or never, for an account older than 90 days). */
  'dormant',
  /** An Owner of an organisation with more than two Owners. */
  'more_than_two_owners',
] as const;
export type AccessAuditFlag = (typeof accessAuditFlags)[number];

export interface Named {
  id: string;
  name: string;
}

export interface AccessAuditRow {
  userId: string;
  name: string;
  email: string;
  status: 'invited' | 'active' | 'disabled';
  /** Roles held at scopes covering the report's scope or inside it, with their source. */
  roles: {
    role: Role;
    scope: Scope & { name: string };
    /** Null: granted to the person directly. */
    via: Named | null;
    reason: string | null;
  }[];
  userGroups: Named[];
  /** Student groups the person's user groups are linked to, in the report's scope. */
  studentGroups: (Named & { kind: string; via: Named[] })[];
  /** Children linked to the person one by one (directly or through a group): a count. */
  directStudentLinks: number;
  /** Children of the report's scope the person can see: the student-visibility rule, counted. */
  reachableStudents: number;
  clearances: { clearance: Clearance; via: Named }[];
  /** Blocks held against the person, on children of the report's scope: a count. */
  blocks: number;
  twoFactor: boolean;
  lastSignInAt: string | null;
  flags: AccessAuditFlag[];
}

export interface AccessAuditRequest {
  organisationId: string;
  /** The organisation, a school group or a school. */
  scope: Scope;
  /** A past time, or undefined for now. */
  asOf?: string | undefined;
  /** The instant the run is taken at (dormancy is counted back from asOf ?? now). */
  now: string;
}

/**
 * The report's rows in order of name, then id, produced a page of people at a time so that a
 * million-person trust streams through bounded memory.
 */
export async function* accessAuditRows(
  _db: Kysely<DB>,
  _request: AccessAuditRequest,
): AsyncGenerator<AccessAuditRow> {
  // Filled in by the report engine (issue 14); the interface above is what its callers use.
  yield* [];
  throw new Error('accessAuditRows is not built yet');
}
