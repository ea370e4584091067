import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import type { Incident, Sensitivity } from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import { Field } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useDebounced } from '../hooks.ts';
import { useMe } from '../session.tsx';
import './work.css';

/** A student as `GET /students/:id` answers. */
export interface StudentDetail {
  id: string;
  schoolId: string;
  upn: string | null;
  givenName: string;
  familyName: string;
  preferredName: string | null;
  dateOfBirth: string | null;
  yearGroup: number | null;
  keyStage: number | null;
  house: string | null;
  senStatus: 'none' | 'K' | 'E';
  flags: string[];
  tags: string[];
  onRoll?: boolean;
}

export interface DocumentInfo {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string | null;
  createdAt: string;
}

export function studentName(s: { givenName: string; familyName: string }): string {
  return `${s.givenName} ${s.familyName}`;
}

/** "Year 9", "Reception", "Nursery" as schools say it. */
export function yearLabel(year: number | null | undefined): string {
  if (year === null || year === undefined) return '';
  if (year === -1) return 'Nursery';
  if (year === 0) return 'Reception';
  return `Year ${year}`;
}

export const yearGroups = Array.from({ length: 16 }, (_, i) => i - 1);

export const statusLabels: Record<Incident['status'], string> = {
  open: 'Open',
  in_progress: 'In progress',
  closed: 'Closed',
};

export function SensitivityTag({ sensitivity }: { sensitivity: Sensitivity }) {
  if (sensitivity === 'standard') return null;
  return <span className="tag tag-danger">{sensitivityLabels[sensitivity]}</span>;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export type AssigneeKind = 'user' | 'user_group';
export interface Assignee {
  type: AssigneeKind;
  id: string;
  name: string;
}

interface Named {
  id: string;
  name: string;
}

/**
 * Candidates for an assignment: people from `/users?q=` and groups from `/user-groups?q=`.
 * Either may be refused (a Viewer cannot list users); then only the caller is offered.
 */
function useCandidates(q: string, kinds: AssigneeKind[]) {
  const users = useQuery({
    queryKey: ['pick', 'users', q],
    queryFn: ({ signal }) =>
      api.get<{ items: Named[] }>('/users', { q, limit: 20, status: 'active' }, signal),
    enabled: kinds.includes('user'),
    retry: false,
  });
  const groups = useQuery({
    queryKey: ['pick', 'user-groups', q],
    queryFn: ({ signal }) => api.get<{ items: Named[] }>('/user-groups', { q, limit: 20 }, signal),
    enabled: kinds.includes('user_group'),
    retry: false,
  });
  return { users, groups };
}

function refused(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 403 || error.status === 404);
}

/**
 * Picks a person or a user group: a search box and the matching names in a list box. The
 * caller is always offered first, so someone who may not list staff can still pick themself.
 */
export function AssigneePicker({
  label,
  kinds = ['user', 'user_group'],
  value,
  onChange,
}: {
  label: string;
  kinds?: AssigneeKind[];
  value: Assignee | null;
  onChange: (value: Assignee | null) => void;
}) {
  const me = useMe();
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const { users, groups } = useCandidates(q, kinds);
  const people = (users.data?.items ?? []).filter((u) => u.id !== me.id);
  const teams = groups.data?.items ?? [];
  const options: Assignee[] = [
    { type: 'user', id: me.id, name: `Me (${me.name})` },
    ...people.map((u) => ({ type: 'user' as const, id: u.id, name: u.name })),
    ...teams.map((g) => ({ type: 'user_group' as const, id: g.id, name: g.name })),
  ];
  if (value && !options.some((o) => o.type === value.type && o.id === value.id))
    options.push(value);
  const key = (a: { type: string; id: string }) => `${a.type}:${a.id}`;
  const onlyMe = kinds.includes('user') && refused(users.error);
  const searching = users.isFetching || groups.isFetching;

  return (
    <fieldset className="picker">
      <legend>{label}</legend>
      {onlyMe ? (
        <p className="hint">You can assign only yourself.</p>
      ) : (
        <Field label={kinds.includes('user_group') ? 'Search staff and groups' : 'Search staff'}>
          {(props) => (
            <input
              {...props}
              type="search"
              value={search}
              autoComplete="off"
              onChange={(event) => setSearch(event.target.value)}
            />
          )}
        </Field>
      )}
      <Field label="Choose" hint={searching ? 'Searching…' : undefined}>
        {(props) => (
          <select
            {...props}
            value={value ? key(value) : ''}
            onChange={(event) =>
              onChange(options.find((o) => key(o) === event.target.value) ?? null)
            }
          >
            <option value="">Choose…</option>
            <optgroup label="People">
              {options
                .filter((o) => o.type === 'user')
                .map((o) => (
                  <option key={key(o)} value={key(o)}>
                    {o.name}
                  </option>
                ))}
            </optgroup>
            {kinds.includes('user_group') && teams.length > 0 ? (
              <optgroup label="Groups">
                {options
                  .filter((o) => o.type === 'user_group')
                  .map((o) => (
                    <option key={key(o)} value={key(o)}>
                      {o.name}
                    </option>
                  ))}
              </optgroup>
            ) : null}
          </select>
        )}
      </Field>
    </fieldset>
  );
}

/** The children of an incident as the caller may see them: a hidden child is never named. */
export function IncidentChildren({ students }: { students: Incident['students'] }) {
  return (
    <>
      {students.map((s, i) => (
        <span key={s.redacted ? `hidden-${i}` : s.id}>
          {i > 0 ? ', ' : ''}
          {s.redacted ? <em>A child you cannot see</em> : s.name}
        </span>
      ))}
    </>
  );
}

export function DocumentList({ items }: { items: DocumentInfo[] }) {
  return (
    <ul className="list">
      {items.map((d) => (
        <li key={d.id}>
          <div>
            <a href={`/api/v1/documents/${d.id}`} download={d.filename}>
              {d.filename}
            </a>
            <p className="muted">
              {fileSize(d.size)} · added {formatDateTime(d.createdAt)}
            </p>
          </div>
        </li>
      ))}
    </ul>
  );
}
