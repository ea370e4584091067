import { z } from 'zod';
import { clearances } from '../../access/clearances.ts';
import { pageQuery } from '../../lib/pagination.ts';
import { id, isoTime, roleName, scope } from '../../lib/schemas.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { callerOf } from '../incidents/routes.ts';
import type { AccessReviewService } from './service.ts';

const person = z.object({ id, name: z.string() });
const namedScope = scope.extend({ name: z.string() });
const outcome = z.enum(['confirmed', 'changed']);
const itemStatus = z.enum(['undecided', 'confirmed', 'changed', 'not_decided']);
const progress = z.object({ decided: z.number(), total: z.number() });
const abilities = z.object({ close: z.boolean() });

const reviewFields = {
  id,
  title: z.string(),
  scope: namedScope,
  dueAt: z.string(),
  status: z.enum(['open', 'closed']),
  createdAt: z.string(),
  closedAt: z.string().nullable(),
  createdBy: person.nullable(),
  progress,
  /** Items of this review that wait for the caller's decision. */
  toDecide: z.number(),
  abilities,
};

const decision = z.object({
  outcome,
  note: z.string(),
  decidedAt: z.string(),
  decidedBy: person,
});

const reviewSchema = z.object({
  ...reviewFields,
  closedBy: person.nullable(),
  summary: z.string().nullable(),
  auditRuns: z.object({ start: z.string().nullable(), close: z.string().nullable() }),
  items: z.array(
    z.object({
      id,
      userGroup: z.object({ id, name: z.string(), deleted: z.boolean(), homeScope: namedScope }),
      reviewers: z.array(person),
      since: z.string(),
      status: itemStatus,
      decision: decision.nullable(),
      abilities: z.object({ decide: z.boolean() }),
    }),
  ),
  decisions: z.array(decision.extend({ id, itemId: id })),
});

const link = z.object({
  id,
  studentGroup: z.object({ id, name: z.string() }).loose().nullable(),
  student: person.nullable(),
  redacted: z.boolean(),
});

const itemSchema = z.object({
  id,
  reviewId: id,
  reviewTitle: z.string(),
  reviewStatus: z.enum(['open', 'closed']),
  since: z.string(),
  status: itemStatus,
  decision: z
    .object({
      outcome,
      note: z.string(),
      decidedAt: z.string(),
      decidedBy: z.string().nullable(),
    })
    .nullable(),
  userGroup: z.object({
    id,
    name: z.string(),
    description: z.string(),
    rationale: z.string(),
    deleted: z.boolean(),
    memberCount: z.number(),
    homeScope: namedScope,
  }),
  members: z.array(
    z.object({ id, name: z.string(), email: z.string(), since: z.string(), new: z.boolean() }),
  ),
  owners: z.array(
    z.object({ id, name: z.string(), email: z.string(), since: z.string(), new: z.boolean() }),
  ),
  roleGrants: z.array(
    z.object({
      id,
      role: roleName,
      scope: namedScope,
      reason: z.string().nullable(),
      since: z.string(),
      new: z.boolean(),
    }),
  ),
  studentLinks: z.array(link.extend({ since: z.string(), new: z.boolean() })),
  clearances: z.array(z.object({ clearance: z.enum(clearances) })),
  changes: z.array(
    z.object({
      kind: z.enum(['member', 'owner', 'link', 'grant', 'clearance']),
      change: z.enum(['added', 'removed']),
      at: z.string(),
      by: person.nullable(),
      /** The review the change was made through, if any. */
      accessReviewId: z.string().nullable(),
      user: person.optional(),
      link: link.optional(),
      grant: z
        .object({ id, role: z.string(), scope: namedScope, reason: z.string().nullable() })
        .optional(),
      clearance: z.string().optional(),
    }),
  ),
  abilities: z.object({
    decide: z.boolean(),
    manageMembers: z.boolean(),
    manageOwners: z.boolean(),
    manageLinks: z.boolean(),
    manageClearances: z.boolean(),
  }),
});

const reviewParams = z.object({ id });
const itemParams = z.object({ id, itemId: id });
const note = z.string().trim().min(1).max(4000);

export function accessReviewRoutes(app: HavenApp, reviews: AccessReviewService) {
  app.post('/api/v1/access-reviews', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['compliance'],
      summary: 'Start a termly access review of the user groups homed in a scope (Admin there)',
      description:
        'One item per live user group homed in the scope (the organisation: every group; a school group: groups homed there or at its schools; a school: groups homed there), each reviewed by its owners or an Admin at its home.',
      body: z
        .object({ scope, dueAt: isoTime, title: z.string().trim().max(200).optional() })
        .strict(),
      response: { 201: reviewSchema },
    },
    handler: async (request, reply) => {
      const review = await reviews.start(callerOf(request), request.body, originOf(request));
      return reply.code(201).send(review);
    },
  });

  app.get('/api/v1/access-reviews', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['compliance'],
      summary:
        'Access reviews the caller runs, or has items in (groups they own or administer), newest first, with progress',
      querystring: pageQuery.extend({ status: z.enum(['open', 'closed']).optional() }),
      response: {
        200: z.object({
          items: z.array(z.object(reviewFields)),
          nextCursor: z.string().nullable(),
        }),
      },
    },
    handler: (request) => reviews.list(callerOf(request), request.query),
  });

  app.get('/api/v1/access-reviews/:id', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['compliance'],
      summary: 'A review with its items (those the caller sees), decisions and progress',
      params: reviewParams,
      response: { 200: reviewSchema },
    },
    handler: (request) => reviews.get(authOf(request).principal, request.params.id),
  });

  app.get('/api/v1/access-reviews/:id/items/:itemId', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['compliance'],
      summary:
        'One group under review: its members, owners, grants, links and clearances, and what changed since it was last reviewed, with who and when',
      params: itemParams,
      response: { 200: itemSchema },
    },
    handler: (request) =>
      reviews.item(authOf(request).principal, request.params.id, request.params.itemId),
  });

  app.post('/api/v1/access-reviews/:id/items/:itemId/decision', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['compliance'],
      summary:
        "Confirm a group's access or record that it was changed, with a note (its owners or an Admin at its home; never a member it gives a role, a clearance or children)",
      params: itemParams,
      body: z.object({ outcome, note }).strict(),
      response: { 200: reviewSchema },
    },
    handler: (request) =>
      reviews.decide(
        callerOf(request),
        request.params.id,
        request.params.itemId,
        request.body,
        originOf(request),
      ),
  });

  app.post('/api/v1/access-reviews/:id/close', {
    config: { access: { permission: 'user_groups.manage' } },
    schema: {
      tags: ['compliance'],
      summary: 'Close the review with a summary (Admin at its scope)',
      description:
        'Refused with 409 `review_undecided` while items are undecided, unless `force: true` (they stay "not decided").',
      params: reviewParams,
      body: z.object({ summary: note, force: z.boolean().optional() }).strict(),
      response: { 200: reviewSchema },
    },
    handler: (request) =>
      reviews.close(callerOf(request), request.params.id, request.body, originOf(request)),
  });
}
