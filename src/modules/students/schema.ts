import { z } from 'zod';
import { id, name } from '../../lib/schemas.ts';
import {
  labelPattern,
  MAX_YEAR_GROUP,
  MIN_YEAR_GROUP,
  senStatuses,
} from '../student-groups/rules.ts';

export const upn = z
  .string()
  .trim()
  .regex(/^[A-Za-z][0-9]{11}[0-9A-Za-z]$/, 'must be a 13-character UPN, e.g. A123456789012');
const label = z.string().regex(labelPattern, 'must be a lower-case label like "looked_after"');

/** The fields of a student as the API takes them. */
export const studentFields = {
  schoolId: id,
  upn: upn.nullable().optional(),
  givenName: name,
  familyName: name,
  preferredName: name.nullable().optional(),
  dateOfBirth: z.iso.date().nullable().optional(),
  yearGroup: z.number().int().min(MIN_YEAR_GROUP).max(MAX_YEAR_GROUP).nullable().optional(),
  house: z.string().trim().min(1).max(100).nullable().optional(),
  senStatus: z.enum(senStatuses).optional(),
  flags: z.array(label).max(30).optional(),
  tags: z.array(label).max(30).optional(),
  onRoll: z.boolean().optional(),
};

export const createStudentBody = z.object(studentFields).strict();
export type StudentInput = z.infer<typeof createStudentBody>;

export const updateStudentBody = z
  .object({
    ...studentFields,
    schoolId: id.optional(),
    givenName: name.optional(),
    familyName: name.optional(),
  })
  .strict();
export type StudentPatch = z.infer<typeof updateStudentBody>;

export const studentSchema = z.object({
  id,
  schoolId: id,
  upn: z.string().nullable(),
  givenName: z.string(),
  familyName: z.string(),
  preferredName: z.string().nullable(),
  dateOfBirth: z.string().nullable(),
  yearGroup: z.number().nullable(),
  keyStage: z.number().nullable(),
  house: z.string().nullable(),
  senStatus: z.enum(senStatuses),
  flags: z.array(z.string()),
  tags: z.array(z.string()),
  onRoll: z.boolean(),
  revision: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type StudentView = z.infer<typeof studentSchema>;
