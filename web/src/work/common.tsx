import { type QueryKey, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type KeyboardEvent, useId, useRef, useState } from 'react';
import type { Answer } from '../api/answers.ts';
import { ApiError, api, type Page } from '../api/client.ts';
import type {
  DocumentInfo,
  Incident,
  InvolvedStudent,
  Sensitivity,
  StudentSummary,
} from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import { Button, ConfirmDeletion, Field } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useDebounced, useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';
import './work.css';

/** A student as `GET /students/:id` answers. */
export type StudentDetail = Answer<'/api/v1/students/{id}', 'get'>;

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

/** Child-protection and allegation records: kept to the people cleared for them. */
export function isSensitive(sensitivity: Sensitivity): boolean {
  return sensitivity !== 'standard';
}

/** "Bullying", or "Disclosure (child protection)" for a category kept to those cleared for it. */
export function categoryLabel(c: { name: string; sensitivity: Sensitivity }): string {
  return isSensitive(c.sensitivity)
    ? `${c.name} (${sensitivityLabels[c.sensitivity].toLowerCase()})`
    : c.name;
}

export function SensitivityTag({ sensitivity }: { sensitivity: Sensitivity }) {
  if (sensitivity === 'standard') return null;
  return <span className="tag tag-danger">{sensitivityLabels[sensitivity]}</span>;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Whom a record is assigned to: a person or a user group. */
export type Assignee = Incident['assignees'][number];
export type AssigneeKind = Assignee['type'];

/**
 * Candidates for an assignment: people from `/users?q=` and groups from `/user-groups?q=`.
 * Either may be refused (a Viewer cannot list users); then only the caller is offered.
 */
function useCandidates(q: string, kinds: AssigneeKind[]) {
  const users = useQuery({
    queryKey: ['pick', 'users', q],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/users', 'get'>>(
        '/users',
        { q, limit: 20, status: 'enabled' },
        signal,
      ),
    enabled: kinds.includes('user'),
    retry: false,
  });
  const groups = useQuery({
    queryKey: ['pick', 'user-groups', q],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/user-groups', 'get'>>('/user-groups', { q, limit: 20 }, signal),
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
  onlyMeHint = 'You can assign only yourself.',
  error,
}: {
  label: string;
  kinds?: AssigneeKind[];
  value: Assignee | null;
  onChange: (value: Assignee | null) => void;
  /** Said when the caller may not list staff, and so is offered only themself. */
  onlyMeHint?: string;
  error?: string | undefined;
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
        <p className="hint">{onlyMeHint}</p>
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
      <Field label="Choose" hint={searching ? 'Searching…' : undefined} error={error}>
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
export function IncidentChildren({ students }: { students: InvolvedStudent[] }) {
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

/**
 * The documents of a concern or of a child's file, each downloadable; those the server says the
 * caller may delete get a Delete button, asked again before anything is removed.
 */
export function DocumentList({ items, queryKey }: { items: DocumentInfo[]; queryKey: QueryKey }) {
  const queryClient = useQueryClient();
  const [deleting, setDeleting] = useState<DocumentInfo | null>(null);
  const remove = useMutation({
    mutationFn: (d: DocumentInfo) => api.delete(`/documents/${d.id}`),
    onSuccess: () => {
      setDeleting(null);
      void queryClient.invalidateQueries({ queryKey });
    },
  });
  const close = () => {
    setDeleting(null);
    remove.reset();
  };
  return (
    <>
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
            {d.abilities.delete ? (
              <Button
                className="secondary"
                aria-label={`Delete ${d.filename}`}
                onClick={() => setDeleting(d)}
              >
                Delete
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
      <ConfirmDeletion
        open={deleting !== null}
        title="Delete this document?"
        confirmLabel="Delete document"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={close}
      >
        <p>
          {deleting?.filename} will no longer be listed or downloadable. It is kept, marked deleted,
          for the audit trail.
        </p>
      </ConfirmDeletion>
    </>
  );
}

export interface PickedStudent {
  id: string;
  name: string;
  /** Known for a child picked here; children already on a record are at its school. */
  schoolId?: string;
}

/**
 * Picks children by name: a combobox listing the matches the server returns. Arrow keys move
 * through the matches, Enter picks one, Escape closes the list; picked children show as chips.
 * `fixed` children cannot be taken off here; `hidden` counts children on the record whom the
 * caller cannot see, shown without a name and never removable. `reportable`: any child the
 * caller may report about (names, year and school only), not only the children they can see.
 */
export function StudentPicker({
  schoolId,
  picked,
  error,
  onChange,
  fixed,
  hidden = 0,
  hint = 'Type part of a name, then pick each child involved.',
  reportable = false,
}: {
  schoolId: string | undefined;
  picked: PickedStudent[];
  error: string | undefined;
  onChange: (students: PickedStudent[]) => void;
  fixed?: ReadonlySet<string>;
  hidden?: number;
  hint?: string;
  reportable?: boolean;
}) {
  const listId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const q = useDebounced(text.trim(), 200);
  const schools = useSchools().data?.items ?? [];
  const matches = useQuery({
    queryKey: ['students', reportable ? 'reportable' : 'pick', q, schoolId ?? ''],
    queryFn: ({ signal }) =>
      api.get<Page<StudentSummary>>(
        reportable ? '/reportable-students' : '/students',
        { q, schoolId, limit: 8 },
        signal,
      ),
    enabled: q.length > 0,
  });
  // Where a search spans several schools, each match says which school the child is at.
  const schoolOf = (id: string) =>
    !schoolId && schools.length > 1 ? schools.find((school) => school.id === id)?.name : undefined;
  const options = (matches.data?.items ?? []).filter((s) => !picked.some((p) => p.id === s.id));
  const expanded = open && q.length > 0 && text.trim().length > 0;

  function pick(s: StudentSummary) {
    onChange([...picked, { id: s.id, name: studentName(s), schoolId: s.schoolId }]);
    setText('');
    setActive(0);
    inputRef.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, Math.max(options.length - 1, 0)));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (event.key === 'Enter') {
      const choice = options[active];
      if (expanded && choice) {
        event.preventDefault();
        pick(choice);
      }
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  }

  const optionId = (i: number) => `${listId}-option-${i}`;
  return (
    <div className="combobox">
      <Field label="Children involved" hint={hint} error={error}>
        {(props) => (
          <input
            {...props}
            ref={inputRef}
            type="text"
            role="combobox"
            autoComplete="off"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded && options[active] ? optionId(active) : undefined}
            value={text}
            onChange={(event) => {
              setText(event.target.value);
              setOpen(true);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => setOpen(false)}
            onFocus={() => setOpen(true)}
          />
        )}
      </Field>
      <div id={listId} role="listbox" aria-label="Matching children" hidden={!expanded}>
        {options.map((s, i) => (
          <div
            key={s.id}
            id={optionId(i)}
            role="option"
            tabIndex={-1}
            aria-selected={i === active}
            className={i === active ? 'active' : undefined}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => pick(s)}
            onKeyDown={(event) => event.key === 'Enter' && pick(s)}
          >
            {studentName(s)}
            {s.yearGroup !== null ? (
              <span className="muted"> · {yearLabel(s.yearGroup)}</span>
            ) : null}
            {schoolOf(s.schoolId) ? <span className="muted"> · {schoolOf(s.schoolId)}</span> : null}
          </div>
        ))}
      </div>
      {expanded ? (
        <p className="muted" role="status">
          {matches.isFetching
            ? 'Searching…'
            : options.length === 0
              ? 'No children match.'
              : `${options.length} ${options.length === 1 ? 'match' : 'matches'}: use the arrow keys and Enter to pick.`}
        </p>
      ) : null}
      {picked.length + hidden > 0 ? (
        <ul className="chips" aria-label="Children picked">
          {picked.map((s) => (
            <li key={s.id} className={fixed?.has(s.id) ? 'chip-fixed' : undefined}>
              {s.name}
              {fixed?.has(s.id) ? null : (
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Remove ${s.name}`}
                  onClick={() => onChange(picked.filter((p) => p.id !== s.id))}
                >
                  ×
                </button>
              )}
            </li>
          ))}
          {Array.from({ length: hidden }, (_, n) => (
            // Nothing identifies a hidden child; their place in the list is all there is.
            // biome-ignore lint/suspicious/noArrayIndexKey: no other key exists
            <li key={`hidden-${n}`} className="chip-fixed">
              <em>A child you cannot see</em>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
