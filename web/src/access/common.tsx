import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Answer } from '../api/answers.ts';
import { api, type Page } from '../api/client.ts';
import type { StudentSummary } from '../api/types.ts';
import { Empty, ErrorMessage, InputField, Loading } from '../components/ui.tsx';
import { endOfDayIso, formatDate } from '../format.ts';
import { useDebounced } from '../hooks.ts';
import './access.css';

/** `GET /access/explain` about a child (asked about a record, it answers another shape). */
export type Explanation = Extract<Answer<'/api/v1/access/explain', 'get'>, { student: unknown }>;

/** One way a person reaches a child, each step with the day it began. */
export type AccessPath = Explanation['paths'][number];

/** Why a person cannot see a child. */
export type Denial = Explanation['denials'][number];

const since = (iso: string | null | undefined) => (iso ? ` since ${formatDate(iso)}` : '');

/**
 * One access path in words, each step with the date it began:
 * "Member of Year 9 team since 01/09/2026 → linked to Year 9 students since … → Aisha Khan is in
 * Year 9 students since …".
 */
export function pathInWords(path: AccessPath, studentName: string): string {
  const group = path.userGroup?.name ?? 'a user group';
  switch (path.kind) {
    case 'group_to_student_group': {
      const students = path.studentGroup?.name ?? 'a student group';
      return [
        `Member of ${group}${since(path.since.membership)}`,
        `linked to ${students}${since(path.since.link)}`,
        `${studentName} is in ${students}${since(path.since.inStudentGroup)}`,
      ].join(' → ');
    }
    case 'group_to_student':
      return [
        `Member of ${group}${since(path.since.membership)}`,
        `${group} linked directly to ${studentName}${since(path.since.link)}`,
      ].join(' → ');
    case 'user_to_student':
      return `Linked directly to ${studentName}${since(path.since.link)}`;
  }
}

/** A denial in words: "Blocked from this child by Olive Owner on 01/10/2026: parent". */
export function denialInWords(denial: Denial): string {
  switch (denial.kind) {
    case 'block': {
      const block = denial.block;
      if (!block) return 'Blocked from this child';
      return `Blocked from this child by ${block.by?.name ?? 'Haven'} on ${formatDate(block.since)}: ${block.reason}`;
    }
    case 'no_role':
      return `Holds no role that lets them see children here (${denial.summary})`;
    case 'user_inactive':
      return 'Their account is disabled or removed';
    case 'student_inactive':
      return 'The child’s record was deleted, or did not exist yet';
  }
}

/**
 * "As of" a calendar day: empty means now. The chosen day counts whole (end of day), and is
 * repeated in UK form beside the control.
 */
export function AsOfField({
  value,
  onChange,
  label = 'As of',
}: {
  value: string;
  onChange: (date: string) => void;
  label?: string;
}) {
  return (
    <div className="as-of">
      <InputField
        label={label}
        type="date"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        hint={value ? `Showing the end of ${formatDate(endOfDayIso(value))}` : 'Showing now'}
      />
      {value ? (
        <button type="button" className="link-button" onClick={() => onChange('')}>
          Back to now
        </button>
      ) : null}
    </div>
  );
}

export function asOfQuery(date: string): string | undefined {
  return date ? endOfDayIso(date) : undefined;
}

interface Option {
  id: string;
  label: string;
  detail?: string;
}

/** A search box whose results are buttons: pick one person or child by name. */
function SearchPicker({
  label,
  hint,
  search,
  queryKey,
  onPick,
}: {
  label: string;
  hint: string;
  queryKey: string;
  search: (q: string, signal: AbortSignal) => Promise<Option[]>;
  onPick: (option: Option) => void;
}) {
  const [text, setText] = useState('');
  const q = useDebounced(text.trim());
  const results = useQuery({
    queryKey: [queryKey, q],
    queryFn: ({ signal }) => search(q, signal),
    enabled: q.length > 0,
  });
  return (
    <div className="picker">
      <InputField
        label={label}
        hint={hint}
        type="search"
        value={text}
        autoComplete="off"
        onChange={(event) => setText(event.target.value)}
      />
      {q.length === 0 ? null : results.isPending ? (
        <Loading label="Searching…" />
      ) : results.isError ? (
        <ErrorMessage error={results.error} />
      ) : results.data.length === 0 ? (
        <Empty>No one matches “{q}”.</Empty>
      ) : (
        <ul className="list picker-results" aria-label={`${label}: results`}>
          {results.data.map((option) => (
            <li key={option.id}>
              <span>
                {option.label}
                {option.detail ? <span className="muted"> · {option.detail}</span> : null}
              </span>
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setText('');
                  onPick(option);
                }}
              >
                Choose<span className="visually-hidden"> {option.label}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function PersonPicker({
  label = 'Find a member of staff',
  onPick,
}: {
  label?: string;
  onPick: (person: { id: string; name: string }) => void;
}) {
  return (
    <SearchPicker
      label={label}
      hint="Type part of a name or email address."
      queryKey="access-people"
      search={async (q, signal) =>
        (
          await api.get<Answer<'/api/v1/users', 'get'>>(
            '/users',
            { q, limit: 10, status: 'all' },
            signal,
          )
        ).items.map((u) => ({ id: u.id, label: u.name, detail: u.email }))
      }
      onPick={(option) => onPick({ id: option.id, name: option.label })}
    />
  );
}

export function ChildPicker({
  label = 'Find a child',
  onPick,
}: {
  label?: string;
  onPick: (child: { id: string; name: string }) => void;
}) {
  return (
    <SearchPicker
      label={label}
      hint="Type part of the child’s name. Only children you can see are listed."
      queryKey="access-children"
      search={async (q, signal) =>
        (await api.get<Page<StudentSummary>>('/students', { q, limit: 10 }, signal)).items.map(
          (s) => ({
            id: s.id,
            label: `${s.givenName} ${s.familyName}`,
            ...(s.yearGroup !== null ? { detail: `Year ${s.yearGroup}` } : {}),
          }),
        )
      }
      onPick={(option) => onPick({ id: option.id, name: option.label })}
    />
  );
}
