import { type FormEvent, type ReactNode, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
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
import { useCursorList } from '../hooks.ts';
import { PersonPicker } from './common.tsx';

interface AuditEvent {
  id: string;
  seq: number;
  at: string;
  category: string;
  action: string;
  actor: { id: string; name: string } | null;
  target: { type: string; id: string | null } | null;
  before: unknown;
  after: unknown;
  meta: unknown;
}

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

function useLog(path: string, query: Record<string, string | undefined>) {
  return useCursorList<AuditEvent>(['log', path, query], path, query, 50);
}

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
  const { values, set } = useFilters(['category', 'action', 'actorId', 'actorName', 'targetId']);
  const [action, setAction] = useState(values.action ?? '');
  const [targetId, setTargetId] = useState(values.targetId ?? '');
  const log = useLog('/audit-log', {
    category: values.category || undefined,
    action: values.action || undefined,
    actorId: values.actorId || undefined,
    targetId: values.targetId || undefined,
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
  const { values, set } = useFilters(['recordId', 'userId', 'userName']);
  const [recordId, setRecordId] = useState(values.recordId ?? '');
  const log = useLog('/access-log', {
    recordId: values.recordId || undefined,
    userId: values.userId || undefined,
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
                          <div className="log-detail">
                            <Target target={event.target} />
                          </div>
                        </td>
                        <td>{outcomeWords[after.outcome ?? ''] ?? after.outcome ?? ''}</td>
                        <td>{readPath(after.path)}</td>
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
