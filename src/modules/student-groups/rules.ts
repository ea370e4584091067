import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../db/tables.ts';
import type { FieldError } from '../../lib/errors.ts';

/**
 * Student-group rules (spec: api.md, Shapes): a condition, or `all` / `any` / `not` over rules.
 * Validated here with precise paths ("rule.all.1.op"), then compiled to SQL over `students as s`.
 */
export type Condition =
  | { field: 'schoolId' | 'house' | 'senStatus'; op: 'eq'; value: string }
  | { field: 'schoolId' | 'house' | 'senStatus'; op: 'in'; value: string[] }
  | { field: 'yearGroup' | 'keyStage'; op: 'eq'; value: number }
  | { field: 'yearGroup' | 'keyStage'; op: 'in'; value: number[] }
  | { field: 'yearGroup' | 'keyStage'; op: 'between'; value: [number, number] }
  | { field: 'flags' | 'tags'; op: 'has'; value: string }
  | { field: 'onRoll'; op: 'eq'; value: boolean };

export type Rule = Condition | { all: Rule[] } | { any: Rule[] } | { not: Rule };

export const MIN_YEAR_GROUP = -1; // nursery
export const MAX_YEAR_GROUP = 14;
export const senStatuses = ['none', 'K', 'E'] as const;
export const labelPattern = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const yearGroup = z.number().int().min(MIN_YEAR_GROUP).max(MAX_YEAR_GROUP);
const keyStage = z.number().int().min(0).max(5);
const text = z.string().trim().min(1).max(100);
const label = z.string().regex(labelPattern, 'must be a lower-case label like "looked_after"');
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(500);
const range = (n: z.ZodNumber) =>
  z.tuple([n, n]).refine(([a, b]) => a <= b, 'must be [min, max] with min <= max');

/** For each field, the operators it takes and the value each needs. */
const fieldOperators = {
  schoolId: { eq: text, in: list(text) },
  house: { eq: text, in: list(text) },
  senStatus: { eq: z.enum(senStatuses), in: list(z.enum(senStatuses)) },
  yearGroup: { eq: yearGroup, in: list(yearGroup), between: range(yearGroup) },
  keyStage: { eq: keyStage, in: list(keyStage), between: range(keyStage) },
  flags: { has: label },
  tags: { has: label },
  onRoll: { eq: z.boolean() },
} as const satisfies Record<string, Record<string, z.ZodType>>;

type Field = keyof typeof fieldOperators;

export const ruleFields = Object.keys(fieldOperators) as Field[];

const MAX_DEPTH = 8;
const MAX_CONDITIONS = 100;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a rule; returns it typed, or every problem with its path. */
export function parseRule(input: unknown, path = 'rule'): { rule?: Rule; errors: FieldError[] } {
  const errors: FieldError[] = [];
  let conditions = 0;

  const visit = (node: unknown, at: string, depth: number): Rule | undefined => {
    if (depth > MAX_DEPTH) {
      errors.push({ field: at, message: `rules may nest at most ${MAX_DEPTH} deep` });
      return undefined;
    }
    if (!isObject(node)) {
      errors.push({ field: at, message: 'must be an object: a condition, or all / any / not' });
      return undefined;
    }
    const keys = Object.keys(node);
    for (const combinator of ['all', 'any'] as const) {
      if (combinator in node) {
        if (keys.length !== 1)
          errors.push({ field: at, message: `"${combinator}" must stand alone` });
        const items = node[combinator];
        if (!Array.isArray(items) || items.length === 0 || items.length > 50) {
          errors.push({ field: `${at}.${combinator}`, message: 'must be a list of 1 to 50 rules' });
          return undefined;
        }
        const rules = items.map((item, i) => visit(item, `${at}.${combinator}.${i}`, depth + 1));
        return rules.every(Boolean) ? ({ [combinator]: rules } as Rule) : undefined;
      }
    }
    if ('not' in node) {
      if (keys.length !== 1) errors.push({ field: at, message: '"not" must stand alone' });
      const inner = visit(node.not, `${at}.not`, depth + 1);
      return inner ? { not: inner } : undefined;
    }
    conditions += 1;
    const extra = keys.filter((k) => !['field', 'op', 'value'].includes(k));
    if (extra.length > 0) errors.push({ field: at, message: `unknown key "${extra[0]}"` });
    const field = node.field;
    if (typeof field !== 'string' || !(field in fieldOperators)) {
      errors.push({
        field: `${at}.field`,
        message: `must be one of ${ruleFields.join(', ')}`,
      });
      return undefined;
    }
    const operators: Record<string, z.ZodType> = fieldOperators[field as Field];
    const op = node.op;
    if (typeof op !== 'string' || !(op in operators)) {
      errors.push({
        field: `${at}.op`,
        message: `${field} takes ${Object.keys(operators).join(', ')}`,
      });
      return undefined;
    }
    const parsed = operators[op]!.safeParse(node.value);
    if (!parsed.success) {
      errors.push({
        field: `${at}.value`,
        message: parsed.error.issues[0]?.message ?? 'is invalid',
      });
      return undefined;
    }
    return { field, op, value: parsed.data } as Condition;
  };

  const rule = visit(input, path, 1);
  if (conditions > MAX_CONDITIONS) {
    errors.push({ field: path, message: `a rule may hold at most ${MAX_CONDITIONS} conditions` });
  }
  return errors.length === 0 && rule ? { rule, errors } : { errors };
}

/**
 * Whether a rule says anything about being on roll. Rules that do not only ever match students
 * on roll, like `all` groups; a rule such as `onRoll = false` reaches those who have left.
 */
export function mentionsOnRoll(rule: Rule): boolean {
  if ('all' in rule) return rule.all.some(mentionsOnRoll);
  if ('any' in rule) return rule.any.some(mentionsOnRoll);
  if ('not' in rule) return mentionsOnRoll(rule.not);
  return rule.field === 'onRoll';
}

/** Whether a rule asks for a flag or a tag: a lookup in `student_labels` for each student tested. */
export function asksForLabels(rule: Rule): boolean {
  if ('all' in rule) return rule.all.some(asksForLabels);
  if ('any' in rule) return rule.any.some(asksForLabels);
  if ('not' in rule) return asksForLabels(rule.not);
  return rule.op === 'has';
}

/** School ids a rule names, so the service can check they belong to the organisation. */
export function schoolIdsIn(rule: Rule, path = 'rule'): { id: string; path: string }[] {
  if ('all' in rule) return rule.all.flatMap((r, i) => schoolIdsIn(r, `${path}.all.${i}`));
  if ('any' in rule) return rule.any.flatMap((r, i) => schoolIdsIn(r, `${path}.any.${i}`));
  if ('not' in rule) return schoolIdsIn(rule.not, `${path}.not`);
  if (rule.field !== 'schoolId') return [];
  const values = Array.isArray(rule.value) ? rule.value : [rule.value];
  return values.map((id) => ({ id: String(id), path: `${path}.value` }));
}

const columns = {
  schoolId: 's.school_id',
  house: 's.house',
  senStatus: 's.sen_status',
  yearGroup: 's.year_group',
  keyStage: 's.key_stage',
} as const;

type StudentsEb = ExpressionBuilder<DB & { s: DB['students'] }, 's'>;

/**
 * The rule as a SQL condition over `students as s`. Every condition is two-valued (a missing
 * house is simply "not Red"), so `not` means what a person reading the rule expects.
 */
export function ruleCondition(eb: StudentsEb, rule: Rule): Expression<SqlBool> {
  if ('all' in rule) return eb.and(rule.all.map((r) => ruleCondition(eb, r)));
  if ('any' in rule) return eb.or(rule.any.map((r) => ruleCondition(eb, r)));
  if ('not' in rule) return eb.not(ruleCondition(eb, rule.not));
  if (rule.field === 'onRoll') return eb('s.on_roll', '=', rule.value ? 1 : 0);
  if (rule.op === 'has') {
    const kind = rule.field === 'flags' ? 'flag' : 'tag';
    return eb.exists(
      eb
        .selectFrom('student_labels as lbl')
        .select('lbl.student_id')
        .whereRef('lbl.student_id', '=', 's.id')
        .where('lbl.kind', '=', kind)
        .where('lbl.value', '=', rule.value),
    );
  }
  const column = eb.ref(columns[rule.field]);
  const present = eb(column, 'is not', null);
  switch (rule.op) {
    case 'eq':
      return eb.and([present, eb(column, '=', rule.value)]);
    case 'in':
      return eb.and([present, eb(column, 'in', rule.value as never[])]);
    case 'between':
      return eb.and([present, eb(column, '>=', rule.value[0]), eb(column, '<=', rule.value[1])]);
  }
}
