import type { Role, ScopeType } from '../api/types.ts';

/** The answers of `/api/v1/access-reviews` (src/modules/access-reviews/routes.ts). */

export interface NamedScope {
  type: ScopeType;
  id: string;
  name: string;
}

export interface Person {
  id: string;
  name: string;
}

export type ReviewOutcome = 'confirmed' | 'changed';
export type ItemStatus = 'undecided' | ReviewOutcome | 'not_decided';

export interface AccessReviewSummary {
  id: string;
  title: string;
  scope: NamedScope;
  dueAt: string;
  status: 'open' | 'closed';
  createdAt: string;
  closedAt: string | null;
  createdBy: Person | null;
  progress: { decided: number; total: number };
  toDecide: number;
  abilities: { close: boolean };
}

export interface Decision {
  outcome: ReviewOutcome;
  note: string;
  decidedAt: string;
  decidedBy: Person;
}

export interface AccessReview extends AccessReviewSummary {
  closedBy: Person | null;
  summary: string | null;
  auditRuns: { start: string | null; close: string | null };
  items: {
    id: string;
    userGroup: { id: string; name: string; deleted: boolean; homeScope: NamedScope };
    reviewers: Person[];
    since: string;
    status: ItemStatus;
    decision: Decision | null;
    abilities: { decide: boolean };
  }[];
  decisions: (Decision & { id: string; itemId: string })[];
}

export interface ReviewLink {
  id: string;
  studentGroup: { id: string; name: string } | null;
  student: Person | null;
  redacted: boolean;
}

export interface ReviewChange {
  kind: 'member' | 'owner' | 'link' | 'grant' | 'clearance';
  change: 'added' | 'removed';
  at: string;
  by: Person | null;
  accessReviewId: string | null;
  user?: Person;
  link?: ReviewLink;
  grant?: { id: string; role: string; scope: NamedScope; reason: string | null };
  clearance?: string;
}

export interface AccessReviewItem {
  id: string;
  reviewId: string;
  reviewTitle: string;
  reviewStatus: 'open' | 'closed';
  since: string;
  status: ItemStatus;
  decision: {
    outcome: ReviewOutcome;
    note: string;
    decidedAt: string;
    decidedBy: string | null;
  } | null;
  userGroup: {
    id: string;
    name: string;
    description: string;
    rationale: string;
    deleted: boolean;
    memberCount: number;
    homeScope: NamedScope;
  };
  members: (Person & { email: string; since: string; new: boolean })[];
  owners: (Person & { email: string; since: string; new: boolean })[];
  roleGrants: {
    id: string;
    role: Exclude<Role, 'member'>;
    scope: NamedScope;
    reason: string | null;
    since: string;
    new: boolean;
  }[];
  studentLinks: (ReviewLink & { since: string; new: boolean })[];
  clearances: { clearance: 'child_protection' | 'allegations' }[];
  changes: ReviewChange[];
  abilities: {
    decide: boolean;
    manageMembers: boolean;
    manageOwners: boolean;
    manageLinks: boolean;
    manageClearances: boolean;
  };
}
