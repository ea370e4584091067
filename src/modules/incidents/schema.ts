import { z } from 'zod';
import { id, isoTime } from '../../lib/schemas.ts';

export const sensitivities = ['standard', 'child_protection', 'allegation'] as const;
export const statuses = ['open', 'in_progress', 'closed'] as const;
export const assigneeTypes = ['user', 'user_group'] as const;

export const assignee = z.object({ type: z.enum(assigneeTypes), id });

export const categoryBody = z.object({
  schoolId: id.optional(),
  name: z.string().trim().min(1).max(100),
  sensitivity: z.enum(sensitivities),
});
export const categorySchema = z.object({
  id: z.string(),
  schoolId: z.string().nullable(),
  name: z.string(),
  sensitivity: z.enum(sensitivities),
});
/** A category as its own list shows it. */
export const categoryListItem = categorySchema.extend({ retired: z.boolean() });

const description = z.string().trim().min(1).max(20_000);
const location = z.string().trim().max(200);

/** A child the reporter names who is not on roll (yet), for the DSL to match later. */
export const unlistedChild = z.object({
  name: z.string().trim().min(1).max(200),
  note: z.string().trim().max(2000).optional(),
});

export const createIncidentBody = z
  .object({
    schoolId: id,
    /** Any child the caller may report about at the school (`GET /reportable-students`). */
    studentIds: z.array(id).max(50).default([]),
    unlistedChild: unlistedChild.optional(),
    categoryId: id,
    occurredAt: isoTime,
    location: location.optional(),
    description,
    subjectUserId: id.optional(),
    assignees: z.array(assignee).max(20).optional(),
  })
  .refine((b) => b.studentIds.length > 0 || b.unlistedChild !== undefined, {
    path: ['studentIds'],
    message: 'name at least one child, or a child not on roll (unlistedChild)',
    // Asked even when other fields are wrong, so one answer names every problem.
    when: (payload) =>
      !payload.issues.some((i) => i.path?.[0] === 'studentIds' || i.path?.[0] === 'unlistedChild'),
  });
export type IncidentInput = z.infer<typeof createIncidentBody>;

export const updateIncidentBody = z
  .object({
    /** The revision the edit was made against: a stale edit is refused (409). */
    revision: z.number().int().min(1),
    /**
     * The children the caller can see who belong on the record; children the caller cannot see
     * stay on it whatever this says (they are not the caller's to remove).
     */
    studentIds: z.array(id).max(50).optional(),
    /** Moves the record to another school of the organisation (a safeguarding decision). */
    schoolId: id.optional(),
    categoryId: id.optional(),
    occurredAt: isoTime.optional(),
    location: location.nullable().optional(),
    description: description.optional(),
    status: z.enum(statuses).optional(),
    subjectUserId: id.nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 1, { message: 'Change at least one field' });
export type IncidentPatch = z.infer<typeof updateIncidentBody>;

export const incidentListQuery = z.object({
  q: z.string().trim().min(1).max(200).optional(),
  studentId: id.optional(),
  schoolId: id.optional(),
  categoryId: id.optional(),
  status: z.enum(statuses).optional(),
});
export type IncidentFilter = z.infer<typeof incidentListQuery>;

/** A child on an incident: named only if the caller can see them (spec section 4). */
export const involvedStudent = z.union([
  z.object({ redacted: z.literal(false), id: z.string(), name: z.string() }),
  z.object({ redacted: z.literal(true) }),
]);

export const unlistedChildView = z
  .object({ name: z.string(), note: z.string().nullable() })
  .nullable();

export const abilities = z.object({
  update: z.boolean(),
  /** Lower the sensitivity, remove a child, move school, close a sensitive record. */
  reclassify: z.boolean(),
  /** The other schools the record may be moved to (a move needs `reclassify` at both). */
  moveTo: z.array(z.string()),
  delete: z.boolean(),
  manageExclusions: z.boolean(),
  assign: z.boolean(),
  addActions: z.boolean(),
  manageDocuments: z.boolean(),
});

export const incidentSchema = z.object({
  id: z.string(),
  schoolId: z.string(),
  category: categorySchema,
  occurredAt: z.string(),
  location: z.string().nullable(),
  description: z.string(),
  status: z.enum(statuses),
  reporter: z.object({ id: z.string(), name: z.string() }),
  subjectUserId: z.string().nullable(),
  students: z.array(involvedStudent),
  /** A child not on roll whom the reporter named, shown to the record's readers. */
  unlistedChild: unlistedChildView,
  assignees: z.array(z.object({ type: z.enum(assigneeTypes), id: z.string(), name: z.string() })),
  revision: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** What the caller may do with it; the server still decides each request. */
  abilities,
});
export type IncidentView = z.infer<typeof incidentSchema>;

/** An earlier version of an incident as the reader may see it, or withheld entirely. */
export const revisionSchema = z.union([
  z.object({
    revision: z.number(),
    replacedAt: z.string(),
    replacedBy: z.object({ id: z.string(), name: z.string() }).nullable(),
    withheld: z.literal(false),
    incident: z.object({
      schoolId: z.string(),
      categoryId: z.string(),
      category: categorySchema,
      occurredAt: z.string(),
      location: z.string().nullable(),
      description: z.string(),
      status: z.enum(statuses),
      subjectUserId: z.string().nullable(),
      students: z.array(involvedStudent),
      unlistedChild: unlistedChildView,
      updatedAt: z.string(),
    }),
  }),
  z.object({
    revision: z.number(),
    replacedAt: z.string(),
    /** The reader could not read a record with this version's category, school or children. */
    withheld: z.literal(true),
  }),
]);
export type RevisionView = z.infer<typeof revisionSchema>;

/**
 * What an assignment of a record or an action leaves unresolved (`src/access/assignments.ts`):
 * the person, or some members of the group, cannot read the record, so will not see it.
 */
export const assignmentWarnings = z.array(
  z.object({
    code: z.literal('assignee_cannot_read'),
    assignee: z.object({ type: z.enum(assigneeTypes), id: z.string() }),
    detail: z.string(),
    /** For a group: its live members, and how many of them cannot read the record. */
    members: z.number().int().optional(),
    cannotRead: z.number().int().optional(),
    /** For a very large group: only its first 10,000 members were asked ("at least"). */
    partial: z.boolean().optional(),
  }),
);

export const actionBody = z.object({
  title: z.string().trim().min(1).max(500),
  dueAt: isoTime.optional(),
  assignee,
});
export const actionPatch = z
  .object({
    title: z.string().trim().min(1).max(500).optional(),
    dueAt: isoTime.nullable().optional(),
    assignee: assignee.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'Change at least one field' });
export const actionSchema = z.object({
  id: z.string(),
  incidentId: z.string(),
  title: z.string(),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  assignee: z.object({
    type: z.enum(assigneeTypes),
    id: z.string(),
    name: z.string().optional().describe("The person's or group's name (an incident's list)"),
  }),
  completedAt: z.string().nullable(),
  completedBy: z.string().nullable(),
  createdAt: z.string(),
  /** What the caller may do with it; the server still decides each request. */
  abilities: z.object({ complete: z.boolean(), update: z.boolean(), delete: z.boolean() }),
});
