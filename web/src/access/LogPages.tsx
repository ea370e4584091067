import { type FormEvent, type ReactNode, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { permissionsInWords } from '../../../src/access/group-permission-words.ts';
import type { Answer, Item } from '../api/answers.ts';
import {
  Button,
  Empty,
  ErrorMessage,
  InputField,
  Loading,
  PageHeader,
  SelectField,
} from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useCursorList, useSchools } from '../hooks.ts';
import { PersonPicker } from './common.tsx';

/**
 * A row of the audit or access log. `withheld`: a version of a record the reader could not read
 * (no before or after); `destroyed`: the record was destroyed, and its before, after and meta went
 * with it. Access rows carry the record read (`record`) and the way in that allowed it.
 */
type AuditEvent = Item<'/api/v1/audit-log'>;

type AllowedBy = NonNullable<AuditEvent['allowedBy']>;

/** Names of the people, groups, schools and children the rows mention, as the server gave them. */
type Names = Answer<'/api/v1/audit-log', 'get'>['names'];

/** What each audited action means, in the words of the school. */
const actionWords: Record<string, string> = {
  'action.complete': 'Completed an action',
  'action.create': 'Added an action',
  'action.delete': 'Deleted an action',
  'action.update': 'Changed an action',
  'auth.login': 'Signed in',
  'auth.logout': 'Signed out',
  'auth.step_up': 'Confirmed a two-factor code',
  'auth.totp.disabled': 'Turned off two-factor sign-in',
  'auth.totp.enabled': 'Turned on two-factor sign-in',
  'auth.totp.enrolment_started': 'Started setting up two-factor sign-in',
  'block.create': 'Blocked a member of staff from a child',
  'block.remove': 'Lifted a block',
  'category.create': 'Added a category',
  'category.update': 'Renamed or retired a category',
  'document.delete': 'Deleted a document',
  'document.read': 'Opened a document',
  'document.upload': 'Uploaded a document',
  'incident.assign': 'Assigned a concern',
  'incident.create': 'Logged a concern',
  'incident.delete': 'Deleted a concern',
  'incident.exclusions': 'Changed who is kept out of a concern',
  'incident.export': 'Exported concerns',
  'incident.read': 'Opened a concern',
  'incident.update': 'Changed a concern',
  'notification_rules.defaults': 'Set who is told of a school’s new concerns',
  'notification_rules.replace': 'Changed who is told of a category’s new concerns',
  'organisation.create': 'Created the organisation',
  'outbox.retry': 'Sent a failed email again',
  'organisation.update': 'Changed the organisation',
  'role_grant.create': 'Gave a role',
  'role_grant.revoke': 'Took away a role',
  'school.create': 'Added a school',
  'school.settings': 'Changed school settings',
  'school.update': 'Changed a school',
  'school_group.create': 'Added a school group',
  'school_group.delete': 'Deleted a school group',
  'school_group.update': 'Changed a school group',
  'student.create': 'Added a child',
  'student.delete': 'Deleted a child’s record',
  'student.export': 'Exported children',
  'student.import': 'Imported children',
  'student.read': 'Opened a child’s record',
  'student.report_search': 'Searched for a child to report about',
  'student.safeguarding_file': 'Downloaded a child’s safeguarding file',
  'student.update': 'Changed a child’s record',
  'student_group.create': 'Added a student group',
  'student_group.delete': 'Deleted a student group',
  'student_group.members': 'Changed who is in a student group',
  'student_group.update': 'Changed a student group',
  'user.create': 'Added a member of staff',
  'user.import': 'Imported staff',
  'user.link.add': 'Linked a member of staff to a child',
  'user.link.remove': 'Removed a link to a child',
  'user.password_change': 'Changed a password',
  'user.remove': 'Removed a member of staff',
  'user.update': 'Changed a member of staff',
  'user_group.clearances.set': 'Changed a user group’s clearances',
  'user_group.create': 'Added a user group',
  'user_group.defaults': 'Set up a school’s default groups',
  'user_group.delete': 'Deleted a user group',
  'user_group.link.add': 'Linked a user group to children',
  'user_group.link.remove': 'Unlinked a user group from children',
  'user_group.members.add': 'Added people to a user group',
  'user_group.members.remove': 'Removed people from a user group',
  'user_group.owners.add': 'Added an owner to a user group',
  'user_group.owners.remove': 'Removed an owner from a user group',
  'user_group.permission_set.create': 'Added a permission set to a user group',
  'user_group.permission_set.delete': 'Deleted a permission set of a user group',
  'user_group.permission_set.update': 'Changed a permission set of a user group',
  'user_group.update': 'Changed a user group',
};

const refusalWords: Record<string, string> = {
  not_found: 'not found, or not theirs to see',
  forbidden: 'not allowed',
  unauthorized: 'not signed in',
  mfa_required: 'needed a two-factor check',
  no_role: 'holds no role',
};

export function describeAction(action: string): string {
  if (actionWords[action]) return actionWords[action];
  if (action.startsWith('request.')) {
    const code = action.slice('request.'.length);
    return `Refused: ${refusalWords[code] ?? code.replaceAll('_', ' ')}`;
  }
  return action;
}

const targetPages: Record<string, { label: string; href: (id: string) => string }> = {
  incident: { label: 'Concern', href: (id) => `/incidents/${id}` },
  student: { label: 'Child', href: (id) => `/students/${id}` },
  user: { label: 'Member of staff', href: (id) => `/admin/users/${id}` },
  user_group: { label: 'User group', href: (id) => `/admin/user-groups/${id}` },
  student_group: { label: 'Student group', href: (id) => `/admin/student-groups/${id}` },
  category: { label: 'Category', href: (id) => `/admin/categories/${id}` },
};

function Target({ target }: { target: AuditEvent['target'] }) {
  if (!target) return <span className="muted">—</span>;
  const page = targetPages[target.type];
  const label = page?.label ?? target.type.replaceAll('_', ' ');
  if (!target.id || !page) return label;
  return (
    <Link to={page.href(target.id)}>
      {label} <span className="visually-hidden">{target.id}</span>
    </Link>
  );
}

const outcomeWords: Record<string, string> = {
  allowed: 'Allowed',
  not_found: 'Refused (not theirs to see)',
  mfa_required: 'Refused (two-factor check needed)',
  forbidden: 'Refused',
};

/** The path recorded with a read, in words. */
function readPath(path: unknown): string {
  if (!path || typeof path !== 'object') return '';
  const p = path as { kind?: string; name?: string };
  switch (p.kind) {
    case 'reporter':
      return 'They logged it';
    case 'assignee':
      return 'Assigned to them';
    case 'assigned_group':
      return `Assigned to ${p.name ?? 'a group'} they are in`;
    case 'student':
      return 'Through a child they can see';
    case 'group_to_student_group':
    case 'group_to_student':
      return 'Through a user group';
    case 'user_to_student':
      return 'Linked directly';
    default:
      return '';
  }
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : {};
}

const roleWords: Record<string, string> = {
  owner: 'Owner',
  dsl: 'DSL',
  deputy_dsl: 'Deputy DSL',
  admin: 'Admin',
  viewer: 'Viewer',
};

const clearanceWords: Record<string, string> = {
  child_protection: 'child protection',
  allegations: 'allegations',
};

/**
 * A log row's change in words, from its before and after and the names the server sent ("Jo
 * Bloggs received DSL at Northgate School: reason …"); null when Haven has no words for it, and
 * the page shows the raw before and after instead.
 */
export function describeChange(event: AuditEvent, names: Names): string | null {
  const name = (id: unknown, otherwise: string) =>
    typeof id === 'string' && id !== '(withheld)' ? (names[id] ?? otherwise) : otherwise;
  const people = (ids: unknown) => {
    const list = Array.isArray(ids) ? ids : [];
    const shown = list.slice(0, 5).map((id) => name(id, 'someone'));
    const more = list.length - shown.length;
    return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ') || 'nobody';
  };
  const scope = (value: unknown) => {
    const s = asObject(value);
    const fallback =
      s.type === 'organisation'
        ? 'the whole organisation'
        : s.type === 'school_group'
          ? 'a school group'
          : 'a school';
    return name(s.id, fallback);
  };
  const subject = (value: unknown) => {
    const s = asObject(value);
    return s.type === 'user_group'
      ? `Members of ${name(s.id, 'a user group')}`
      : name(s.id, 'Someone');
  };
  const reason = (value: unknown) =>
    typeof value === 'string' && value.trim() ? `: reason “${value.trim()}”` : '';
  const target = event.target?.id ?? null;
  const group = name(target, 'a user group');
  const child = (id: unknown) => name(id, 'a child you cannot see');
  const before = asObject(event.before);
  const after = asObject(event.after);
  const meta = asObject(event.meta);
  const linkTo = (link: Json) =>
    link.studentGroupId
      ? `student group ${name(link.studentGroupId, '(not shown)')}`
      : child(link.studentId);
  const changed = () => {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
      (k) =>
        JSON.stringify(before[k]) !== JSON.stringify(after[k]) &&
        typeof (after[k] ?? before[k]) !== 'object',
    );
    return keys.length === 0
      ? null
      : keys
          .map(
            (k) =>
              `${k} ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(after[k] ?? null)}`,
          )
          .join('; ');
  };
  /** A set's permissions and assignees in words ("Add and remove members; held by Jo Bloggs"). */
  const setWords = (set: Json) => {
    const permissions = Array.isArray(set.permissions) ? set.permissions : [];
    const allowed = permissions.length
      ? permissionsInWords(permissions as Parameters<typeof permissionsInWords>[0]).toLowerCase()
      : 'nothing';
    if (!Array.isArray(set.assignees)) return allowed;
    const held = set.assignees.map((a) => {
      const assignee = asObject(a);
      return assignee.type === 'user_group'
        ? `the group ${name(assignee.id, 'a user group you cannot see')}`
        : name(assignee.id, 'someone');
    });
    return `${allowed}; held by ${held.length ? held.join(', ') : 'nobody'}`;
  };
  if (event.withheld) return 'A version you may not read: its contents are withheld.';
  if (event.destroyed) return 'About a record since destroyed: its details went with it.';
  switch (event.action) {
    case 'role_grant.create':
      return `${subject(after.subject)} received ${roleWords[String(after.role)] ?? after.role} at ${scope(after.scope)}${reason(after.reason)}`;
    case 'role_grant.revoke':
      return `${subject(before.subject)} no longer hold${asObject(before.subject).type === 'user_group' ? '' : 's'} ${roleWords[String(before.role)] ?? before.role} at ${scope(before.scope)}${before.reason ? ` (given${reason(before.reason)})` : ''}`;
    case 'user_group.members.add':
      return `${people(after.userIds)} added to ${group}`;
    case 'user_group.members.remove':
      return `${people(before.userIds)} removed from ${group}`;
    case 'user_group.owners.add':
      return `${people(after.userIds)} made owner of ${group}`;
    case 'user_group.owners.remove':
      return `${people(before.userIds)} no longer owner of ${group}`;
    case 'user_group.link.add':
      return `${group} linked to ${linkTo(after)}${after.allStudents ? ' (every child there, confirmed)' : ''}${reason(after.rationale)}`;
    case 'user_group.link.remove':
      return `${group} no longer linked to ${linkTo(before)}`;
    case 'user_group.clearances.set': {
      const list = (v: unknown) =>
        Array.isArray(v) && v.length
          ? v.map((c) => clearanceWords[String(c)] ?? c).join(', ')
          : 'none';
      return `${group}’s clearances changed from ${list(before.clearances)} to ${list(after.clearances)}`;
    }
    case 'user_group.permission_set.create':
      return `Permission set ${String(after.name)} added to ${group}: ${setWords(after)}`;
    case 'user_group.permission_set.update':
      return `Permission set ${String(after.name)} of ${group} changed from ${setWords(before)} to ${setWords(after)}`;
    case 'user_group.permission_set.delete':
      return `Permission set ${String(before.name)} of ${group} deleted (it allowed ${setWords(before)})`;
    case 'user_group.create':
      return `User group ${after.name ?? group} created`;
    case 'user_group.delete':
      return `User group ${before.name ?? group} deleted`;
    case 'user_group.defaults':
      return `${group} set up with the school, linked to ${
        Array.isArray(after.links)
          ? after.links.map((l) => linkTo(asObject(l))).join(' and ')
          : 'its children'
      }`;
    case 'user.link.add':
      return `${name(target, 'Someone')} linked directly to ${child(after.studentId)}`;
    case 'user.link.remove':
      return `${name(target, 'Someone')} no longer linked to ${child(before.studentId)}`;
    case 'block.create':
      return `${name(after.userId, 'Someone')} blocked from ${child(target)}${reason(after.reason)}`;
    case 'block.remove':
      return `${name(before.userId, 'Someone')} no longer blocked from ${child(target)}${reason(meta.reason)}`;
    case 'user.create':
      return `${after.name ?? name(target, 'Someone')}${after.email ? ` (${after.email})` : ''} added`;
    case 'user.remove':
      return `${before.name ?? name(target, 'Someone')} removed from the organisation`;
    case 'user.update':
      if (before.disabledAt === null && after.disabledAt)
        return `${name(target, 'Someone')} disabled`;
      if (before.disabledAt && after.disabledAt === null)
        return `${name(target, 'Someone')} re-enabled`;
      if (before.name !== after.name) return `${before.name} renamed ${after.name}`;
      return changed();
    case 'student.create':
      return `${child(target)} added`;
    case 'student.delete':
      return `${child(target)}’s record deleted`;
    case 'student_group.create':
      return `Student group ${after.name ?? name(target, '')} created`;
    case 'student_group.delete':
      return `Student group ${before.name ?? name(target, '')} deleted`;
    case 'student_group.members':
      return `${Array.isArray(after.added) ? after.added.length : 0} added to and ${Array.isArray(after.removed) ? after.removed.length : 0} taken out of ${name(target, 'a student group')}`;
    case 'school.create':
      return `School ${after.name ?? name(target, '')} added`;
    default: {
      const words = changed();
      return words ? `${describeAction(event.action)}: ${words}` : null;
    }
  }
}

/** Before and after as sent, for what Haven has no words for (and for anyone who wants the detail). */
function RawChange({ event }: { event: AuditEvent }) {
  if (event.before == null && event.after == null && event.meta == null) return null;
  return (
    <details className="log-detail">
      <summary>Details</summary>
      <pre>
        {JSON.stringify({ before: event.before, after: event.after, meta: event.meta }, null, 2)}
      </pre>
    </details>
  );
}

function useLog(path: string, query: Record<string, string | undefined>) {
  const log = useCursorList<AuditEvent>(['log', path, query], path, query, 50);
  const names: Names = Object.assign(
    {},
    ...(log.data?.pages ?? []).map((page) => (page as { names?: Names }).names ?? {}),
  );
  return { ...log, names };
}

/** The schools whose logs the caller reads: the server answers 403 for any other. */
function SchoolFilter({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const schools = useSchools();
  if (!schools.data?.items.length) return null;
  return (
    <SelectField label="School" value={value} onChange={(event) => onChange(event.target.value)}>
      <option value="">Every school I oversee</option>
      {schools.data.items.map((school) => (
        <option key={school.id} value={school.id}>
          {school.name}
        </option>
      ))}
    </SelectField>
  );
}

/** "through Year 9 team (linked to Year 9)": the team, or the other way in, that allowed a read. */
export function allowedByWords(way: AllowedBy): string {
  const team = way.userGroup?.name ?? 'a group you cannot see';
  switch (way.kind) {
    case 'reporter':
      return 'as the person who reported it';
    case 'assignee':
      return 'as the person it is assigned to';
    case 'assigned_group':
      return `as a member of ${team}, which it is assigned to`;
    case 'direct_link':
      return `through a direct link to ${way.student?.name ?? 'the child'}`;
    case 'user_group': {
      const linked = way.studentGroup
        ? `linked to ${way.studentGroup.name ?? 'a student group'}`
        : `linked to ${way.student?.name ?? 'the child'}`;
      const about = way.student && way.studentGroup ? `, for ${way.student.name ?? 'a child'}` : '';
      return `through ${team} (${linked}${about})`;
    }
  }
}

const readWords: Record<string, string> = {
  student: 'the record of',
  incident: 'the concern',
  document: 'the document',
};

/** Filters kept in the address, so a filtered log can be shared and reloaded. */
function useFilters(keys: string[]) {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<
    string,
    string
  >;
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next);
  };
  return { values, set };
}

function PersonFilter({
  label,
  id,
  name,
  onChange,
}: {
  label: string;
  id: string;
  name: string;
  onChange: (person: { id: string; name: string }) => void;
}) {
  if (!id) return <PersonPicker label={label} onPick={onChange} />;
  return (
    <p className="chosen">
      <span>
        {label}: <strong>{name || 'the chosen person'}</strong>
      </span>
      <button type="button" className="link-button" onClick={() => onChange({ id: '', name: '' })}>
        Clear<span className="visually-hidden"> {label.toLowerCase()}</span>
      </button>
    </p>
  );
}

function LogList({
  log,
  children,
  empty,
}: {
  log: ReturnType<typeof useLog>;
  children: (events: AuditEvent[]) => ReactNode;
  empty: string;
}) {
  if (log.isPending) return <Loading label="Loading the log…" />;
  if (log.isError) return <ErrorMessage error={log.error} retry={() => void log.refetch()} />;
  const events = log.items;
  if (events.length === 0) return <Empty>{empty}</Empty>;
  return (
    <>
      {children(events)}
      {log.hasNextPage ? (
        <Button
          className="secondary more"
          busy={log.isFetchingNextPage}
          onClick={() => void log.fetchNextPage()}
        >
          Show older entries
        </Button>
      ) : null}
    </>
  );
}

export function AuditLogPage() {
  const { values, set } = useFilters([
    'category',
    'action',
    'actorId',
    'actorName',
    'targetId',
    'schoolId',
  ]);
  const [action, setAction] = useState(values.action ?? '');
  const [targetId, setTargetId] = useState(values.targetId ?? '');
  const log = useLog('/audit-log', {
    category: values.category || undefined,
    action: values.action || undefined,
    actorId: values.actorId || undefined,
    targetId: values.targetId || undefined,
    schoolId: values.schoolId || undefined,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    set({ action: action.trim(), targetId: targetId.trim() });
  };
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, sign-in and refused request, newest first. Entries cannot be edited."
      />
      <section className="panel" aria-labelledby="audit-filters">
        <h2 id="audit-filters">Filter</h2>
        <form onSubmit={apply} className="log-filters">
          <SelectField
            label="Kind"
            value={values.category}
            onChange={(event) => set({ category: event.target.value })}
          >
            <option value="">Everything</option>
            <option value="change">Changes</option>
            <option value="denied">Refused requests</option>
            <option value="access">Reads of records</option>
          </SelectField>
          <SchoolFilter value={values.schoolId ?? ''} onChange={(schoolId) => set({ schoolId })} />
          <SelectField
            label="What happened"
            value={action}
            onChange={(event) => {
              setAction(event.target.value);
              set({ action: event.target.value });
            }}
          >
            <option value="">Anything</option>
            {Object.entries(actionWords).map(([key, words]) => (
              <option key={key} value={key}>
                {words}
              </option>
            ))}
          </SelectField>
          <InputField
            label="Record"
            hint="The identifier of a concern, child or group"
            value={targetId}
            onChange={(event) => setTargetId(event.target.value)}
          />
          <Button type="submit" className="secondary">
            Apply
          </Button>
        </form>
        <PersonFilter
          label="Done by"
          id={values.actorId ?? ''}
          name={values.actorName ?? ''}
          onChange={(person) => set({ actorId: person.id, actorName: person.name })}
        />
      </section>
      <section className="panel" aria-labelledby="audit-entries">
        <h2 id="audit-entries">Entries</h2>
        <LogList log={log} empty="No entries match.">
          {(events) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Change</th>
                    <th scope="col">Record</th>
                  </tr>
                </thead>
                <tbody>
                  {events.map((event) => (
                    <tr key={event.id}>
                      <td>{formatDateTime(event.at)}</td>
                      <td>{event.actor?.name ?? 'Haven'}</td>
                      <td>
                        {describeAction(event.action)}
                        <div className="muted log-detail">{event.action}</div>
                      </td>
                      <td>
                        {describeChange(event, log.names) ?? <span className="muted">—</span>}
                        <RawChange event={event} />
                      </td>
                      <td>
                        <Target target={event.target} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </LogList>
      </section>
    </>
  );
}

export function AccessLogPage() {
  const { values, set } = useFilters(['recordId', 'userId', 'userName', 'schoolId']);
  const [recordId, setRecordId] = useState(values.recordId ?? '');
  const log = useLog('/access-log', {
    recordId: values.recordId || undefined,
    userId: values.userId || undefined,
    schoolId: values.schoolId || undefined,
  });
  return (
    <>
      <PageHeader
        title="Access log"
        description="Every time someone opened a child’s record, a concern or a document — or was refused — with the way in that allowed it."
      />
      <section className="panel" aria-labelledby="access-filters">
        <h2 id="access-filters">Filter</h2>
        <form
          className="log-filters"
          onSubmit={(event) => {
            event.preventDefault();
            set({ recordId: recordId.trim() });
          }}
        >
          <InputField
            label="Record"
            hint="The identifier of a concern, child or document"
            value={recordId}
            onChange={(event) => setRecordId(event.target.value)}
          />
          <SchoolFilter value={values.schoolId ?? ''} onChange={(schoolId) => set({ schoolId })} />
          <Button type="submit" className="secondary">
            Apply
          </Button>
        </form>
        <PersonFilter
          label="Read by"
          id={values.userId ?? ''}
          name={values.userName ?? ''}
          onChange={(person) => set({ userId: person.id, userName: person.name })}
        />
      </section>
      <section className="panel" aria-labelledby="access-entries">
        <h2 id="access-entries">Reads</h2>
        <LogList log={log} empty="No reads match.">
          {(events) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Way in</th>
                  </tr>
                </thead>
                <tbody>
                  {events.map((event) => {
                    const after = (event.after ?? {}) as { outcome?: string; path?: unknown };
                    return (
                      <tr key={event.id}>
                        <td>{formatDateTime(event.at)}</td>
                        <td>{event.actor?.name ?? 'Haven'}</td>
                        <td>
                          {describeAction(event.action)}
                          {event.record && readWords[event.record.type] ? (
                            <div>
                              Read {readWords[event.record.type]}{' '}
                              <strong>{event.record.label ?? 'a record you cannot see'}</strong>
                              {event.allowedBy ? ` ${allowedByWords(event.allowedBy)}` : ''}
                            </div>
                          ) : null}
                          <div className="log-detail">
                            <Target target={event.target} />
                          </div>
                        </td>
                        <td>{outcomeWords[after.outcome ?? ''] ?? after.outcome ?? ''}</td>
                        <td>
                          {event.allowedBy ? allowedByWords(event.allowedBy) : readPath(after.path)}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </LogList>
      </section>
    </>
  );
}
