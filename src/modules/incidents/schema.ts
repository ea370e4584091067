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

const studentIds = z.array(id).min(1).max(50);
const description = z.string().trim().min(1).max(20_000);
const location = z.string().trim().max(200);

export const createIncidentBody = z.object({
  schoolId: id,
  studentIds,
  categoryId: id,
  occurredAt: isoTime,
  location: location.optional(),
  description,
  subjectUserId: id.optional(),
  assignees: z.array(assignee).max(20).optional(),
});
export type IncidentInput = z.infer<typeof createIncidentBody>;

export const updateIncidentBody = z
  .object({
    /** The revision the edit was made against: a stale edit is refused (409). */
    revision: z.number().int().min(1),
    studentIds: studentIds.optional(),
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

export const abilities = z.object({
  update: z.boolean(),
  delete: z.boolean(),
  manageExclusions: z.boolean(),
  assign: z.boolean(),
  addActions: z.boolean(),
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
  assignees: z.array(z.object({ type: z.enum(assigneeTypes), id: z.string(), name: z.string() })),
  revision: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** What the caller may do with it; the server still decides each request. */
  abilities,
});
export type IncidentView = z.infer<typeof incidentSchema>;

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
});
