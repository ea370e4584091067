import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useWideningConfirm } from '../access/Widening.tsx';
import { api, type Page } from '../api/client.ts';
import { type Role, roleLabels, type Scope, type ScopeType } from '../api/types.ts';
import { Button, Empty, ErrorMessage, InputField, SelectField } from '../components/ui.tsx';
import { useDebounced, useSchools } from '../hooks.ts';
import { useCan, useMe } from '../session.tsx';
import type { SchoolGroup, Student, User, UserGroupSummary } from './types.ts';
import { studentName } from './types.ts';
import './admin.css';

/**
 * Cursor paging: the cursors of the pages already passed, so "Previous" goes back without the
 * server counting anything. Starts again at page 1 whenever `resetKey` changes.
 */
export function useCursorPages(resetKey: string) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [key, setKey] = useState(resetKey);
  if (key !== resetKey) {
    setKey(resetKey);
    setCursors([undefined]);
  }
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length,
    next: (cursor: string) => setCursors((list) => [...list, cursor]),
    previous: () => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)),
  };
}

export function Pager({
  pages,
  nextCursor,
  label,
}: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  label: string;
}) {
  if (pages.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="secondary"
        disabled={pages.page === 1}
        onClick={pages.previous}
      >
        Previous page
      </button>
      <span>Page {pages.page}</span>
      <button
        type="button"
        className="secondary"
        disabled={!nextCursor}
        onClick={() => nextCursor && pages.next(nextCursor)}
      >
        Next page
      </button>
    </nav>
  );
}

/**
 * The scopes of the organisation as a select's options, valued `type:id`: the organisation, its
 * school groups, its schools.
 */
export function ScopeOptions() {
  const me = useMe();
  const schools = useSchools();
  const schoolGroups = useSchoolGroups();
  return (
    <>
      <option value={`organisation:${me.organisation.id}`}>
        Whole organisation ({me.organisation.name})
      </option>
      {schoolGroups.data?.items.length ? (
        <optgroup label="School groups">
          {schoolGroups.data.items.map((g) => (
            <option key={g.id} value={`school_group:${g.id}`}>
              {g.name}
            </option>
          ))}
        </optgroup>
      ) : null}
      {schools.data?.items.length ? (
        <optgroup label="Schools">
          {schools.data.items.map((s) => (
            <option key={s.id} value={`school:${s.id}`}>
              {s.name}
            </option>
          ))}
        </optgroup>
      ) : null}
    </>
  );
}

export function useSchoolGroups() {
  return useQuery({
    queryKey: ['school-groups'],
    queryFn: ({ signal }) => api.get<Page<SchoolGroup>>('/school-groups', undefined, signal),
  });
}

/** A school's name from the list, or "Whole organisation" for organisation-wide records. */
export function useSchoolName(): (schoolId: string | null) => string {
  const schools = useSchools();
  return (schoolId) =>
    schoolId === null
      ? 'Whole organisation'
      : (schools.data?.items.find((s) => s.id === schoolId)?.name ?? 'School');
}

/**
 * The roles the caller may hand out: Owner only to those who may assign it, the others to
 * anyone who may assign roles at all. The server checks the scope of every grant.
 */
export function useGrantableRoles(): Exclude<Role, 'member'>[] {
  const can = useCan();
  const roles: Exclude<Role, 'member'>[] = [];
  if (can('roles.assign.owner')) roles.push('owner');
  if (can('roles.assign')) roles.push('dsl', 'deputy_dsl', 'admin', 'viewer');
  return roles;
}

/** Grant a role at a scope, with an optional reason: the role list holds only what the caller may grant. */
export function RoleGrantForm({
  subject,
  onGrant,
  busy,
  error,
}: {
  /** Who is given the role: a grant that opens sensitive records is confirmed first. */
  subject: { type: 'user' | 'user_group'; id: string };
  onGrant: (role: Exclude<Role, 'member'>, scope: Scope, reason: string) => void;
  busy: boolean;
  error: unknown;
}) {
  const { confirm, dialog } = useWideningConfirm();
  const roles = useGrantableRoles();
  const [role, setRole] = useState('');
  const [scope, setScope] = useState('');
  const [reason, setReason] = useState('');
  if (roles.length === 0) return null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const [type, id] = scope.split(':') as [ScopeType, string];
    if (!role || !type || !id) return;
    const granted = role as Exclude<Role, 'member'>;
    // A role can open child-protection records to someone already in a cleared group.
    if (!(await confirm({ kind: 'role_grant', subject, role: granted, scope: { type, id } })))
      return;
    onGrant(granted, { type, id }, reason.trim());
  };
  return (
    <>
      <form
        className="inline-form"
        onSubmit={(event) => void submit(event)}
        aria-label="Grant a role"
      >
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value)} required>
          <option value="">Choose a role</option>
          {roles.map((r) => (
            <option key={r} value={r}>
              {roleLabels[r]}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Where"
          value={scope}
          onChange={(e) => setScope(e.target.value)}
          required
        >
          <option value="">Choose where the role applies</option>
          <ScopeOptions />
        </SelectField>
        <InputField
          label="Reason (optional)"
          hint="Kept with the grant and in the audit log."
          value={reason}
          maxLength={500}
          onChange={(e) => setReason(e.target.value)}
        />
        <Button type="submit" busy={busy}>
          Grant role
        </Button>
        <ErrorMessage error={error} />
      </form>
      {dialog}
    </>
  );
}

/**
 * A search box whose matches the server finds (nothing is loaded in bulk), each with a button to
 * pick it; one already picked says so. The pickers below are this with their own endpoint.
 */
function SearchPicker<T extends { id: string }>({
  label,
  actionLabel,
  onPick,
  isPicked,
  hint,
  nothing,
  search,
  nameOf,
  detail,
}: {
  label: string;
  actionLabel: string;
  onPick: (item: T) => void;
  isPicked?: ((id: string) => boolean) | undefined;
  hint: string;
  /** What to say when nothing matches, after `No`, e.g. "one", "group". */
  nothing: string;
  search: {
    key: readonly unknown[];
    path: string;
    query?: Record<string, string | null | undefined>;
  };
  nameOf: (item: T) => string;
  detail: (item: T) => React.ReactNode;
}) {
  const [text, setText] = useState('');
  const q = useDebounced(text.trim());
  const query = useQuery({
    queryKey: [...search.key, q],
    queryFn: ({ signal }) =>
      api.get<Page<T>>(search.path, { q, limit: 10, ...search.query }, signal),
    enabled: q.length > 0,
  });
  return (
    <div className="search-picker">
      <InputField
        label={label}
        type="search"
        value={text}
        onChange={(e) => setText(e.target.value)}
        hint={hint}
        autoComplete="off"
      />
      {q.length > 0 ? (
        query.isError ? (
          <ErrorMessage error={query.error} />
        ) : query.data ? (
          query.data.items.length === 0 ? (
            <Empty>
              No {nothing} matches "{q}".
            </Empty>
          ) : (
            <ul className="list compact" aria-label={`${label}: results`}>
              {query.data.items.map((item) => (
                <li key={item.id}>
                  <div>{detail(item)}</div>
                  <button
                    type="button"
                    className="secondary"
                    disabled={isPicked?.(item.id)}
                    onClick={() => onPick(item)}
                    aria-label={`${isPicked?.(item.id) ? 'Added' : actionLabel}: ${nameOf(item)}`}
                  >
                    {isPicked?.(item.id) ? 'Added' : actionLabel}
                  </button>
                </li>
              ))}
            </ul>
          )
        ) : null
      ) : null}
    </div>
  );
}

/** Find staff by name or email and pick one. */
export function UserSearch({
  path = '/users',
  ...props
}: {
  label: string;
  actionLabel: string;
  onPick: (user: User) => void;
  isPicked?: (userId: string) => boolean;
  /** Where to search: the users list, or a group's own candidates for its delegates. */
  path?: string;
}) {
  return (
    <SearchPicker<User>
      {...props}
      hint="Type part of a name or email."
      nothing="one"
      search={{ key: ['users', 'search', path], path, query: { status: 'enabled' } }}
      nameOf={(user) => user.name}
      detail={(user) => (
        <>
          {user.name} <span className="muted">{user.email}</span>
        </>
      )}
    />
  );
}

/** Find a user group by name and pick one, as `UserSearch` does for staff. */
export function UserGroupSearch(props: {
  label: string;
  actionLabel: string;
  onPick: (group: UserGroupSummary) => void;
  isPicked?: (groupId: string) => boolean;
}) {
  return (
    <SearchPicker<UserGroupSummary>
      {...props}
      hint="Type part of the group's name."
      nothing="group"
      search={{ key: ['user-groups', 'search'], path: '/user-groups' }}
      nameOf={(group) => group.name}
      detail={(group) => (
        <>
          {group.name}{' '}
          <span className="muted">{group.memberCount.toLocaleString('en-GB')} members</span>
        </>
      )}
    />
  );
}

/** Find a child by name or UPN among those the caller can see. */
export function StudentSearch({
  schoolId,
  ...props
}: {
  label: string;
  actionLabel: string;
  onPick: (student: Student) => void;
  isPicked?: (studentId: string) => boolean;
  schoolId?: string | null;
}) {
  return (
    <SearchPicker<Student>
      {...props}
      hint="Type part of a name, or a UPN."
      nothing="child"
      search={{
        key: ['students', 'search', schoolId ?? null],
        path: '/students',
        query: { schoolId: schoolId ?? undefined },
      }}
      nameOf={studentName}
      detail={(student) => (
        <>
          {studentName(student)}
          {student.yearGroup !== null ? (
            <span className="muted"> Year {student.yearGroup}</span>
          ) : null}
        </>
      )}
    />
  );
}

/** "Whole organisation", a school group's or a school's name, for a grant's scope. */
export function useScopeName(): (scope: Scope) => string {
  const me = useMe();
  const schools = useSchools();
  const schoolGroups = useSchoolGroups();
  return (scope) => {
    if (scope.name) return scope.name;
    if (scope.type === 'organisation') return `Whole organisation (${me.organisation.name})`;
    if (scope.type === 'school_group')
      return schoolGroups.data?.items.find((g) => g.id === scope.id)?.name ?? 'School group';
    return schools.data?.items.find((s) => s.id === scope.id)?.name ?? 'School';
  };
}
