/**
 * The API's shapes as the pages use them, derived from the generated OpenAPI types
 * (`schema.d.ts`, `npm run api-types`): none is written out by hand, so the document served at
 * /api/v1/openapi.json is the one truth. Only the labels below, and `Role`'s `member`, are the
 * web app's own.
 */
import type { Answer, Body, Item } from './answers.ts';

export type { Answer, Body, Item } from './answers.ts';

export type Me = Answer<'/api/v1/me', 'get'>;

/**
 * A role the caller holds and where. `grantId` is null with a group the caller may not see (the
 * id would show who else is in it); so are the source's group id and name.
 */
export type HeldGrant = Me['roles'][number];

/** A role a grant gives. */
export type GrantedRole = HeldGrant['role'];

/** A grant's role, or `member` (the pages' word for someone in the organisation without one). */
export type Role = GrantedRole | 'member';

export type ScopeType = HeldGrant['scope']['type'];

/** A scope: what a grant, a review or a report covers. The name is left out where it is asked for. */
export type Scope = Omit<HeldGrant['scope'], 'name'> & { name?: string };

export type SchoolSettings = Answer<'/api/v1/schools/{id}/settings', 'get'>;

export type School = Item<'/api/v1/schools'>;

export type StudentSummary = Item<'/api/v1/students'>;

/** An incident's category as a record names it. */
export type Category = Incident['category'];

export type Sensitivity = Category['sensitivity'];

/** A category as `GET /categories` lists it: a retired one is kept by its records, offered to none. */
export type CategoryListItem = Item<'/api/v1/categories'>;

/** Who is told of a category's new concerns, and how. */
export type NotificationRule = Answer<
  '/api/v1/categories/{id}/notifications',
  'get'
>['rules'][number];

export type NotificationChannel = NotificationRule['channel'];

export type Incident = Answer<'/api/v1/incidents/{id}', 'get'>;

/** What the caller may do with an incident; the server still decides each request. */
export type IncidentAbilities = Incident['abilities'];

export type IncidentStatus = Incident['status'];

/** A child on a record: named only if the caller can see them (spec section 4). */
export type InvolvedStudent = Incident['students'][number];

/** A child not on roll whom the reporter named, for the DSL to match later. */
export type UnlistedChild = NonNullable<Incident['unlistedChild']>;

/** `POST /incidents` answers the record as its reporter sees it, with a receipt. */
export type CreatedIncident = Answer<'/api/v1/incidents', 'post'>;

/** How a new concern was passed on: at once, in the school's daily digest, or to no one yet. */
export type Delivery = CreatedIncident['receipt']['delivery'];

/** A page of incidents: `stepUpNeeded` more match that only a two-factor check would open. */
export type IncidentListPage = Answer<'/api/v1/incidents', 'get'>;

/** A child as `GET /reportable-students` names them: names, year and school only. */
export type ReportableStudent = Item<'/api/v1/reportable-students'>;

/** One of the caller's own reports (`GET /me/reports`): no account of what happened. */
export type MyReport = Item<'/api/v1/me/reports'>;

/** `PATCH /incidents/:id`: `studentIds` are the children the caller can see who belong on it. */
export type IncidentPatch = Body<'/api/v1/incidents/{id}', 'patch'>;

/**
 * An earlier version of an incident as the caller may read it, or withheld entirely when the
 * caller could not read a record with that version's category, school and children.
 */
export type IncidentRevision = Item<'/api/v1/incidents/{id}/revisions'>;

/** `complete` only for the action's assignee (or a member of the group it is assigned to). */
export type Action = Item<'/api/v1/incidents/{id}/actions'>;

/** A document on an incident or on a child's file. */
export type DocumentInfo = Item<'/api/v1/incidents/{id}/documents'>;

export type Alert = Item<'/api/v1/alerts'>;

/** An email Haven sent, is sending, or could not send (`GET /outbox`, Admins). */
export type OutboxEmail = Item<'/api/v1/outbox'>;

export type OutboxStatus = OutboxEmail['status'];

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
