import type { School } from '../api/types.ts';

/**
 * The student-group rule as the builder edits it: a group of conditions joined by "all" or
 * "any", which may hold further groups (api.md, "Student-group rule").
 */
export type RuleField =
  | 'schoolId'
  | 'yearGroup'
  | 'keyStage'
  | 'house'
  | 'senStatus'
  | 'flags'
  | 'tags';
export type RuleOp = 'eq' | 'in' | 'between' | 'has';

export interface ConditionDraft {
  kind: 'condition';
  key: number;
  field: RuleField;
  op: RuleOp;
  /** As typed: one value, a comma-separated list, or [from, to]. */
  value: string;
  to: string;
}

export interface GroupDraft {
  kind: 'group';
  key: number;
  combine: 'all' | 'any';
  items: (ConditionDraft | GroupDraft)[];
}

export const fieldLabels: Record<RuleField, string> = {
  yearGroup: 'Year group',
  keyStage: 'Key stage',
  schoolId: 'School',
  house: 'House',
  senStatus: 'SEN status',
  flags: 'Flag',
  tags: 'Tag',
};

const opsFor: Record<RuleField, RuleOp[]> = {
  yearGroup: ['between', 'eq', 'in'],
  keyStage: ['eq', 'in', 'between'],
  schoolId: ['eq', 'in'],
  house: ['eq', 'in'],
  senStatus: ['eq', 'in'],
  flags: ['has'],
  tags: ['has'],
};

const opLabels: Record<RuleOp, string> = {
  eq: 'is',
  in: 'is one of',
  between: 'is between',
  has: 'includes',
};

const senLabels: Record<string, string> = {
  none: 'No SEN',
  K: 'SEN support (K)',
  E: 'EHC plan (E)',
};

let nextKey = 1;
export function newCondition(field: RuleField = 'yearGroup'): ConditionDraft {
  return { kind: 'condition', key: nextKey++, field, op: opsFor[field][0]!, value: '', to: '' };
}
export function newGroup(combine: 'all' | 'any' = 'all'): GroupDraft {
  return { kind: 'group', key: nextKey++, combine, items: [newCondition()] };
}

const numeric = (field: RuleField) => field === 'yearGroup' || field === 'keyStage';
const splitList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The API's rule, or null while some condition is incomplete. */
export function toRule(group: GroupDraft): unknown | null {
  const items: unknown[] = [];
  for (const item of group.items) {
    const rule = item.kind === 'group' ? toRule(item) : conditionRule(item);
    if (rule === null) return null;
    items.push(rule);
  }
  if (items.length === 0) return null;
  return { [group.combine]: items };
}

function conditionRule(c: ConditionDraft): unknown | null {
  const number = (text: string) => (text.trim() === '' ? Number.NaN : Number(text));
  if (c.op === 'between') {
    const range = [number(c.value), number(c.to)];
    return range.some(Number.isNaN) ? null : { field: c.field, op: c.op, value: range };
  }
  if (c.op === 'in') {
    const list = splitList(c.value);
    const values = numeric(c.field) ? list.map(number) : list;
    if (values.length === 0 || values.some((v) => Number.isNaN(v))) return null;
    return { field: c.field, op: c.op, value: values };
  }
  if (c.value.trim() === '') return null;
  const value = numeric(c.field) ? number(c.value) : c.value.trim();
  if (Number.isNaN(value)) return null;
  return { field: c.field, op: c.op, value };
}

/** A saved rule back into the builder; null if it uses something the builder cannot show (e.g. "not"). */
export function fromRule(rule: unknown): GroupDraft | null {
  if (typeof rule !== 'object' || rule === null) return null;
  const node = rule as Record<string, unknown>;
  for (const combine of ['all', 'any'] as const) {
    if (Array.isArray(node[combine])) {
      const items: (ConditionDraft | GroupDraft)[] = [];
      for (const child of node[combine] as unknown[]) {
        const asCondition = fromCondition(child);
        const item = asCondition ?? fromRule(child);
        if (!item) return null;
        items.push(item);
      }
      return { kind: 'group', key: nextKey++, combine, items };
    }
  }
  const single = fromCondition(rule);
  return single ? { kind: 'group', key: nextKey++, combine: 'all', items: [single] } : null;
}

function fromCondition(node: unknown): ConditionDraft | null {
  if (typeof node !== 'object' || node === null) return null;
  const { field, op, value } = node as { field?: string; op?: string; value?: unknown };
  if (!field || !(field in opsFor) || !op || !opsFor[field as RuleField].includes(op as RuleOp))
    return null;
  const base = {
    kind: 'condition' as const,
    key: nextKey++,
    field: field as RuleField,
    op: op as RuleOp,
  };
  if (op === 'between' && Array.isArray(value))
    return { ...base, value: String(value[0]), to: String(value[1]) };
  if (op === 'in' && Array.isArray(value)) return { ...base, value: value.join(', '), to: '' };
  return { ...base, value: String(value), to: '' };
}

export function RuleGroupEditor({
  group,
  onChange,
  onRemove,
  schools,
  depth = 0,
}: {
  group: GroupDraft;
  onChange: (group: GroupDraft) => void;
  onRemove?: () => void;
  schools: School[];
  depth?: number;
}) {
  const setItem = (index: number, item: ConditionDraft | GroupDraft) =>
    onChange({ ...group, items: group.items.map((old, i) => (i === index ? item : old)) });
  const removeItem = (index: number) =>
    onChange({ ...group, items: group.items.filter((_, i) => i !== index) });
  const legend = depth === 0 ? 'Children who match' : 'A group of conditions';
  return (
    <fieldset className="rule-group">
      <legend>{legend}</legend>
      <label className="rule-combine">
        Match{' '}
        <select
          value={group.combine}
          onChange={(e) => onChange({ ...group, combine: e.target.value as 'all' | 'any' })}
        >
          <option value="all">all of these conditions</option>
          <option value="any">any of these conditions</option>
        </select>
      </label>
      {group.items.map((item, index) =>
        item.kind === 'group' ? (
          <RuleGroupEditor
            key={item.key}
            group={item}
            depth={depth + 1}
            schools={schools}
            onChange={(next) => setItem(index, next)}
            onRemove={() => removeItem(index)}
          />
        ) : (
          <ConditionEditor
            key={item.key}
            number={index + 1}
            condition={item}
            schools={schools}
            onChange={(next) => setItem(index, next)}
            onRemove={() => removeItem(index)}
          />
        ),
      )}
      <div className="pending-actions">
        <button
          type="button"
          className="secondary"
          onClick={() => onChange({ ...group, items: [...group.items, newCondition()] })}
        >
          Add a condition
        </button>
        {depth < 2 ? (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              onChange({
                ...group,
                items: [...group.items, newGroup(group.combine === 'all' ? 'any' : 'all')],
              })
            }
          >
            Add a group of conditions
          </button>
        ) : null}
        {onRemove ? (
          <button type="button" className="link-button" onClick={onRemove}>
            Remove this group
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

function ConditionEditor({
  condition,
  number,
  onChange,
  onRemove,
  schools,
}: {
  condition: ConditionDraft;
  number: number;
  onChange: (condition: ConditionDraft) => void;
  onRemove: () => void;
  schools: School[];
}) {
  const id = `condition-${condition.key}`;
  const name = `Condition ${number}`;
  const valueInput = () => {
    if (condition.op === 'between') {
      return (
        <>
          <label htmlFor={`${id}-from`}>
            From
            <input
              id={`${id}-from`}
              type="number"
              inputMode="numeric"
              aria-label={`${name}: from`}
              value={condition.value}
              onChange={(e) => onChange({ ...condition, value: e.target.value })}
            />
          </label>
          <label htmlFor={`${id}-to`}>
            To
            <input
              id={`${id}-to`}
              type="number"
              inputMode="numeric"
              aria-label={`${name}: to`}
              value={condition.to}
              onChange={(e) => onChange({ ...condition, to: e.target.value })}
            />
          </label>
        </>
      );
    }
    if (
      condition.op === 'eq' &&
      (condition.field === 'senStatus' || condition.field === 'schoolId')
    ) {
      const choices =
        condition.field === 'senStatus'
          ? Object.entries(senLabels)
          : schools.map((s) => [s.id, s.name] as const);
      return (
        <label htmlFor={`${id}-value`}>
          Value
          <select
            id={`${id}-value`}
            aria-label={`${name}: value`}
            value={condition.value}
            onChange={(e) => onChange({ ...condition, value: e.target.value })}
          >
            <option value="">Choose</option>
            {choices.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      );
    }
    const hint =
      condition.op === 'in'
        ? condition.field === 'senStatus'
          ? 'none, K, E; separated by commas'
          : 'separated by commas'
        : condition.op === 'has'
          ? 'e.g. looked_after'
          : '';
    return (
      <label htmlFor={`${id}-value`}>
        Value{hint ? <span className="muted"> ({hint})</span> : null}
        <input
          id={`${id}-value`}
          type={numeric(condition.field) && condition.op === 'eq' ? 'number' : 'text'}
          aria-label={`${name}: value`}
          value={condition.value}
          onChange={(e) => onChange({ ...condition, value: e.target.value })}
        />
      </label>
    );
  };
  return (
    <div className="rule-condition">
      <label htmlFor={`${id}-field`}>
        Field
        <select
          id={`${id}-field`}
          aria-label={`${name}: field`}
          value={condition.field}
          onChange={(e) => {
            const field = e.target.value as RuleField;
            onChange({ ...newCondition(field), key: condition.key });
          }}
        >
          {(Object.keys(fieldLabels) as RuleField[]).map((field) => (
            <option key={field} value={field}>
              {fieldLabels[field]}
            </option>
          ))}
        </select>
      </label>
      <label htmlFor={`${id}-op`}>
        Test
        <select
          id={`${id}-op`}
          aria-label={`${name}: test`}
          value={condition.op}
          onChange={(e) =>
            onChange({ ...condition, op: e.target.value as RuleOp, value: '', to: '' })
          }
        >
          {opsFor[condition.field].map((op) => (
            <option key={op} value={op}>
              {opLabels[op]}
            </option>
          ))}
        </select>
      </label>
      {valueInput()}
      <button
        type="button"
        className="link-button"
        onClick={onRemove}
        aria-label={`Remove condition ${number}`}
      >
        Remove
      </button>
    </div>
  );
}
