import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useWideningConfirm, type WideningChange } from '../access/Widening.tsx';
import { ApiError, api, type Page } from '../api/client.ts';
import { type Role, roleLabels, type Scope } from '../api/types.ts';
import {
  Button,
  ConfirmDeletion,
  Empty,
  ErrorMessage,
  InputField,
  Loading,
  Notice,
  PageHeader,
  Progress,
  QueryState,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { formatDate, plural } from '../format.ts';
import { useDebounced } from '../hooks.ts';
import { useCan } from '../session.tsx';
import {
  Pager,
  RoleGrantForm,
  StudentSearch,
  UserSearch,
  useCursorPages,
  useGrantableRoles,
  useScopeName,
} from './common.tsx';
import {
  describeSetEdits,
  noSetEdits,
  PermissionSetsTab,
  type SetEdits,
} from './GroupPermissionSets.tsx';
import { Tabs } from './Tabs.tsx';
import {
  type Clearance,
  clearanceLabels,
  type GroupHomes,
  type GroupMember,
  type GroupOperation,
  type StudentGroup,
  studentName,
  type User,
  type UserGroup,
  type UserGroupSummary,
} from './types.ts';

export function UserGroupsPage() {
  const can = useCan();
  const [text, setText] = useState('');
  const q = useDebounced(text.trim());
  const pages = useCursorPages(q);
  const query = useQuery({
    queryKey: ['user-groups', 'list', q, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<UserGroupSummary>>(
        '/user-groups',
        { q, cursor: pages.cursor, limit: 50 },
        signal,
      ),
  });
  return (
    <>
      <PageHeader
        title="User groups"
        description="Groups of staff: what they can see comes from the group's roles, links and clearances."
      />
      {can('user_groups.manage') ? <CreateUserGroup /> : null}
      <section aria-labelledby="groups-title">
        <h2 id="groups-title">Groups</h2>
        <div className="filters">
          <InputField
            label="Search groups"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        <QueryState query={query} loading="Loading groups…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No user groups match.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Description</th>
                      <th scope="col">Members</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((group) => (
                      <tr key={group.id}>
                        <td>
                          <Link to={`/admin/user-groups/${group.id}`}>{group.name}</Link>
                          {group.system ? <span className="tag">Built in</span> : null}
                        </td>
                        <td>{group.description}</td>
                        <td>{group.memberCount.toLocaleString('en-GB')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryState>
        <Pager pages={pages} nextCursor={query.data?.nextCursor} label="Pages of groups" />
      </section>
    </>
  );
}

const scopeKey = (scope: Scope) => `${scope.type}:${scope.id}`;

function homeLabel(home: Scope & { name: string }): string {
  if (home.type === 'organisation') return `Whole organisation (${home.name})`;
  if (home.type === 'school_group') return `School group: ${home.name}`;
  return home.name;
}

function CreateUserGroup() {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [rationale, setRationale] = useState('');
  const [home, setHome] = useState('');
  const homes = useQuery({
    queryKey: ['user-groups', 'homes'],
    queryFn: ({ signal }) => api.get<GroupHomes>('/user-groups/homes', undefined, signal),
    enabled: open,
  });
  const fallback = homes.data?.default ? scopeKey(homes.data.default) : '';
  const chosen = homes.data?.items.find((h) => scopeKey(h) === (home || fallback));
  const create = useMutation({
    mutationFn: () =>
      api.post<UserGroup>('/user-groups', {
        name,
        description,
        rationale,
        ...(chosen ? { homeScope: { type: chosen.type, id: chosen.id } } : {}),
      }),
    onSuccess: (group) => navigate(`/admin/user-groups/${group.id}`),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  if (!open)
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          Create a user group
        </button>
      </p>
    );
  return (
    <section className="panel" aria-labelledby="create-group-title">
      <h2 id="create-group-title">Create a user group</h2>
      <form onSubmit={submit}>
        <InputField label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
        <SelectField
          label="Administered from"
          hint="Admins there, and the group's owners, manage it; Admins of other schools do not see it."
          value={home || fallback}
          onChange={(e) => setHome(e.target.value)}
          required
        >
          <option value="">Choose where the group belongs</option>
          {homes.data?.items.map((h) => (
            <option key={scopeKey(h)} value={scopeKey(h)}>
              {homeLabel(h)}
            </option>
          ))}
        </SelectField>
        <ErrorMessage error={homes.error} />
        <TextAreaField
          label="Description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <TextAreaField
          label="Why this group exists"
          hint="Recorded for reviews of who can see what."
          value={rationale}
          onChange={(e) => setRationale(e.target.value)}
        />
        <ErrorMessage error={create.error} />
        <div className="pending-actions">
          <Button type="submit" busy={create.isPending}>
            Create group
          </Button>
          <button type="button" className="secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

export function UserGroupPage() {
  const { id = '' } = useParams();
  const query = useQuery({
    queryKey: ['user-groups', 'one', id],
    queryFn: ({ signal }) => api.get<UserGroup>(`/user-groups/${id}`, undefined, signal),
  });
  return (
    <QueryState query={query} loading="Loading the group…">
      {(group) => <UserGroupEditor key={group.id} group={group} />}
    </QueryState>
  );
}

interface Person {
  id: string;
  name: string;
}

/** A link to an "All students" group carries its confirmation and the reason for it. */
type LinkTarget =
  | { studentGroupId: string; label: string; confirm?: true; rationale?: string }
  | { studentId: string; label: string };

/** Edits made on the page and not yet sent: one batch applies all of them, or none. */
interface Pending {
  addMembers: Person[];
  removeMembers: Person[];
  addOwners: Person[];
  removeOwners: Person[];
  addLinks: LinkTarget[];
  removeLinks: { id: string; label: string }[];
  clearances: Clearance[] | null;
  /** Permission sets made, changed and deleted (the Permissions tab). */
  sets: SetEdits;
}

const nothingPending: Pending = {
  addMembers: [],
  removeMembers: [],
  addOwners: [],
  removeOwners: [],
  addLinks: [],
  removeLinks: [],
  clearances: null,
  sets: noSetEdits,
};

/** The server takes at most this many users in one operation; more go in further operations of the same batch. */
const USERS_PER_OPERATION = 10_000;

function names(people: Person[]): string {
  const shown = people.slice(0, 5).map((p) => p.name);
  const more = people.length - shown.length;
  return more > 0
    ? `${shown.join(', ')} and ${more.toLocaleString('en-GB')} more`
    : shown.join(', ');
}

function clearanceText(list: Clearance[]): string {
  return list.length === 0 ? 'none' : list.map((c) => clearanceLabels[c]).join(', ');
}

/** Each pending edit as a sentence and the batch operations that make it. */
function describe(
  group: UserGroup,
  details: { name: string; description: string; rationale: string },
  pending: Pending,
): { text: string; operations: GroupOperation[] }[] {
  const changes: { text: string; operations: GroupOperation[] }[] = [];
  const update: { name?: string; description?: string; rationale?: string } = {};
  if (details.name.trim() !== group.name) update.name = details.name.trim();
  if (details.description !== group.description) update.description = details.description;
  if (details.rationale !== group.rationale) update.rationale = details.rationale;
  const updated = Object.keys(update);
  if (updated.length > 0) {
    changes.push({
      text: `Change the group's ${updated.join(', ')}`,
      operations: [{ op: 'update', ...update }],
    });
  }
  const people = (
    op: 'addMembers' | 'removeMembers' | 'addOwners' | 'removeOwners',
    list: Person[],
    verb: string,
  ) => {
    if (list.length === 0) return;
    const operations: GroupOperation[] = [];
    for (let i = 0; i < list.length; i += USERS_PER_OPERATION) {
      operations.push({ op, userIds: list.slice(i, i + USERS_PER_OPERATION).map((p) => p.id) });
    }
    changes.push({ text: `${verb}: ${names(list)}`, operations });
  };
  people('addMembers', pending.addMembers, `Add ${plural(pending.addMembers.length, 'member')}`);
  people(
    'removeMembers',
    pending.removeMembers,
    `Remove ${plural(pending.removeMembers.length, 'member')}`,
  );
  people('addOwners', pending.addOwners, `Add ${plural(pending.addOwners.length, 'owner')}`);
  people(
    'removeOwners',
    pending.removeOwners,
    `Remove ${plural(pending.removeOwners.length, 'owner')}`,
  );
  for (const link of pending.addLinks) {
    const confirmed = 'studentGroupId' in link && link.confirm ? link : null;
    changes.push({
      text: confirmed
        ? `Link to ${link.label}, every child there (confirmed): “${confirmed.rationale}”`
        : `Link to ${link.label}`,
      operations: [
        'studentGroupId' in link
          ? {
              op: 'addStudentLink',
              studentGroupId: link.studentGroupId,
              ...(confirmed ? { confirm: true, rationale: confirmed.rationale } : {}),
            }
          : { op: 'addStudentLink', studentId: link.studentId },
      ],
    });
  }
  for (const link of pending.removeLinks) {
    changes.push({
      text: `End the link to ${link.label}`,
      operations: [{ op: 'removeStudentLink', linkId: link.id }],
    });
  }
  if (pending.clearances) {
    changes.push({
      text: `Set clearances to: ${clearanceText(pending.clearances)} (was: ${clearanceText(group.clearances)})`,
      operations: [{ op: 'setClearances', clearances: pending.clearances }],
    });
  }
  changes.push(...describeSetEdits(pending.sets));
  return changes;
}

/** Whether the caller may change nothing at all on the group (it is only theirs to read). */
function changesNothing(group: UserGroup): boolean {
  const a = group.abilities;
  return ![
    a.editDetails,
    a.delete,
    a.manageMembers,
    a.manageOwners,
    a.managePermissionSets,
    a.manageLinks,
    a.manageClearances,
    a.manageRoles,
  ].some(Boolean);
}

type GroupTab = 'group' | 'permissions';

const groupTabs = [
  { id: 'group', label: 'Members and access' },
  { id: 'permissions', label: 'Permissions' },
] as const;

/** The chosen tab lives in the address (`?tab=permissions`), so it can be linked to and kept. */
function useGroupTab(): [GroupTab, (tab: GroupTab) => void] {
  const [params, setParams] = useSearchParams();
  const tab: GroupTab = params.get('tab') === 'permissions' ? 'permissions' : 'group';
  const choose = (next: GroupTab) =>
    setParams(next === 'group' ? {} : { tab: next }, { replace: true });
  return [tab, choose];
}

function UserGroupEditor({ group }: { group: UserGroup }) {
  const queryClient = useQueryClient();
  const [tab, setTab] = useGroupTab();
  const { confirm, dialog } = useWideningConfirm();
  const [details, setDetails] = useState({
    name: group.name,
    description: group.description,
    rationale: group.rationale,
  });
  const [pending, setPending] = useState<Pending>(nothingPending);
  const [saved, setSaved] = useState<string | null>(null);
  const changes = describe(group, details, pending);
  const operations = changes.flatMap((c) => c.operations);

  const save = useMutation({
    mutationFn: async () => {
      // The whole batch is previewed at once: a link and a clearance added together widen
      // together, though neither would alone.
      const widens =
        pending.addMembers.length > 0 ||
        pending.addLinks.length > 0 ||
        (pending.clearances ?? []).some((c) => !group.clearances.includes(c));
      const change: WideningChange = {
        kind: 'user_group_batch',
        userGroupId: group.id,
        operations,
      };
      if (widens && !(await confirm(change))) return false;
      await api.post(`/user-groups/${group.id}/batch`, { operations });
      return true;
    },
    onSuccess: async (done) => {
      if (!done) return;
      setSaved(`Saved ${plural(changes.length, 'change')}.`);
      await queryClient.invalidateQueries({ queryKey: ['user-groups'] });
      setPending(nothingPending);
    },
  });

  const discard = () => {
    setPending(nothingPending);
    setDetails({ name: group.name, description: group.description, rationale: group.rationale });
    save.reset();
  };
  const edit = (change: (p: Pending) => Pending) => {
    setSaved(null);
    setPending(change);
  };

  const failedAt =
    save.error instanceof ApiError && typeof save.error.problem.operationIndex === 'number'
      ? save.error.problem.operationIndex
      : null;
  let failedChange: string | null = null;
  if (failedAt !== null) {
    let index = 0;
    for (const change of changes) {
      index += change.operations.length;
      if (failedAt < index) {
        failedChange = change.text;
        break;
      }
    }
  }

  return (
    <>
      <PageHeader title={group.name} description={group.description || undefined} />
      {dialog}
      <p>
        Administered from <strong>{homeLabel(group.homeScope)}</strong>
        {changesNothing(group) ? '. You can see this group but not change it.' : null}
      </p>
      <p>
        Last reviewed:{' '}
        {group.lastReviewedAt ? (
          <Link to={`/access-reviews/${group.lastReviewId}`}>
            {formatDate(group.lastReviewedAt)}
          </Link>
        ) : (
          'never'
        )}
      </p>
      {group.system ? (
        <Notice>This group is built in: Haven made it with the school.</Notice>
      ) : null}
      {saved && changes.length === 0 ? <Notice tone="success">{saved}</Notice> : null}
      {changes.length > 0 ? (
        <section className="pending" aria-labelledby="pending-title">
          <h2 id="pending-title">Changes not saved yet</h2>
          <p>
            Nothing changes for anyone until you save. All of these are saved together, or none.
          </p>
          <ul aria-label="Changes not saved yet">
            {changes.map((change) => (
              <li key={change.text}>{change.text}</li>
            ))}
          </ul>
          {save.error ? (
            <div className="error" role="alert">
              <p>
                Nothing was saved.{' '}
                {failedChange ? `This change could not be made: ${failedChange}. ` : ''}
                {save.error instanceof Error ? save.error.message : String(save.error)}
              </p>
            </div>
          ) : null}
          {save.isPending ? (
            <Loading label={`Saving ${plural(changes.length, 'change')}…`} />
          ) : null}
          <div className="pending-actions">
            <Button busy={save.isPending} onClick={() => save.mutate()}>
              Save changes
            </Button>
            <button type="button" className="secondary" onClick={discard} disabled={save.isPending}>
              Discard
            </button>
          </div>
        </section>
      ) : null}

      <Tabs label="Parts of the group" tabs={groupTabs} selected={tab} onSelect={setTab}>
        {tab === 'permissions' ? (
          <PermissionSetsTab
            group={group}
            edits={pending.sets}
            edit={(change) => edit((p) => ({ ...p, sets: change(p.sets) }))}
          />
        ) : (
          <>
            <section className="panel" aria-labelledby="details-title">
              <h2 id="details-title">Details</h2>
              <InputField
                label="Name"
                value={details.name}
                readOnly={!group.abilities.editDetails}
                onChange={(e) => setDetails({ ...details, name: e.target.value })}
              />
              <TextAreaField
                label="Description"
                value={details.description}
                readOnly={!group.abilities.editDetails}
                onChange={(e) => setDetails({ ...details, description: e.target.value })}
              />
              <TextAreaField
                label="Why this group exists"
                value={details.rationale}
                readOnly={!group.abilities.editDetails}
                onChange={(e) => setDetails({ ...details, rationale: e.target.value })}
              />
            </section>

            <Members group={group} pending={pending} edit={edit} />
            <Owners group={group} pending={pending} edit={edit} />
            <GroupRoles group={group} />
            <StudentLinks group={group} pending={pending} edit={edit} />
            <Clearances group={group} pending={pending} edit={edit} />
            {group.abilities.delete ? <DeleteGroup group={group} /> : null}
          </>
        )}
      </Tabs>
    </>
  );
}

/** Deleting is its own request (not part of the batch): it ends everything the group conferred. */
function DeleteGroup({ group }: { group: UserGroup }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState(false);
  const remove = useMutation({
    mutationFn: () => api.delete(`/user-groups/${group.id}`),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['user-groups'] });
      navigate('/admin/user-groups');
    },
  });
  return (
    <section className="panel" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete the group</h2>
      <p className="muted">
        Its members lose every role, link and clearance they hold through it, at once.
      </p>
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        Delete {group.name}
      </button>
      <ConfirmDeletion
        open={asking}
        title={`Delete ${group.name}?`}
        confirmLabel="Delete the group"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setAsking(false);
          remove.reset();
        }}
      >
        <p>
          Its {plural(group.memberCount, 'member')} lose what the group gave them. The group is kept
          in the history and the audit log.
        </p>
      </ConfirmDeletion>
    </section>
  );
}

interface SectionProps {
  group: UserGroup;
  pending: Pending;
  edit: (change: (p: Pending) => Pending) => void;
}

const without = (list: Person[], id: string) => list.filter((p) => p.id !== id);

function Members({ group, pending, edit }: SectionProps) {
  const [text, setText] = useState('');
  const q = useDebounced(text.trim());
  const pages = useCursorPages(q);
  const query = useQuery({
    queryKey: ['user-groups', 'members', group.id, q, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<GroupMember>>(
        `/user-groups/${group.id}/members`,
        { q, cursor: pages.cursor, limit: 50 },
        signal,
      ),
    placeholderData: (previous) => previous,
    // Seeing a group is not seeing who is in it (`view_members`).
    enabled: group.abilities.viewMembers,
  });
  const hiddenMembers =
    !group.abilities.viewMembers || (query.error instanceof ApiError && query.error.status === 403);
  const removing = new Set(pending.removeMembers.map((p) => p.id));
  const adding = new Set(pending.addMembers.map((p) => p.id));
  const add = (people: Person[]) =>
    edit((p) => {
      const fresh = people.filter((person) => !p.addMembers.some((a) => a.id === person.id));
      const ids = new Set(people.map((person) => person.id));
      return {
        ...p,
        addMembers: [...p.addMembers, ...fresh],
        removeMembers: p.removeMembers.filter((r) => !ids.has(r.id)),
      };
    });
  return (
    <section className="panel" aria-labelledby="members-title">
      <h2 id="members-title">Members ({group.memberCount.toLocaleString('en-GB')})</h2>
      {hiddenMembers ? (
        <p>You may not see this group's members.</p>
      ) : (
        <>
          <div className="filters">
            <InputField
              label="Search members"
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
          <QueryState query={query} loading="Loading members…">
            {(data) =>
              data.items.length === 0 ? (
                <Empty>{q ? `No member matches "${q}".` : 'No members yet.'}</Empty>
              ) : (
                <ul className="list compact" aria-label="Members">
                  {data.items.map((member) => (
                    <li key={member.id}>
                      <div>
                        <Link to={`/admin/users/${member.id}`}>{member.name}</Link>{' '}
                        <span className="muted">{member.email}</span>
                        {member.status === 'disabled' ? (
                          <span className="tag">Disabled</span>
                        ) : null}
                        {removing.has(member.id) ? (
                          <span className="tag tag-warning">To be removed</span>
                        ) : null}
                      </div>
                      {group.abilities.manageMembers ? (
                        removing.has(member.id) ? (
                          <button
                            type="button"
                            className="link-button"
                            onClick={() =>
                              edit((p) => ({
                                ...p,
                                removeMembers: without(p.removeMembers, member.id),
                              }))
                            }
                            aria-label={`Keep ${member.name}`}
                          >
                            Keep
                          </button>
                        ) : (
                          <button
                            type="button"
                            className="link-button"
                            onClick={() =>
                              edit((p) => ({
                                ...p,
                                removeMembers: [...p.removeMembers, member],
                                addMembers: without(p.addMembers, member.id),
                              }))
                            }
                            aria-label={`Remove ${member.name}`}
                          >
                            Remove
                          </button>
                        )
                      ) : null}
                    </li>
                  ))}
                </ul>
              )
            }
          </QueryState>
          <Pager pages={pages} nextCursor={query.data?.nextCursor} label="Pages of members" />
        </>
      )}
      {group.abilities.manageMembers ? (
        <>
          <h3>Add members</h3>
          {pending.addMembers.length > 0 ? (
            <p>
              To be added: {names(pending.addMembers)}.{' '}
              <button
                type="button"
                className="link-button"
                onClick={() => edit((p) => ({ ...p, addMembers: [] }))}
              >
                Clear the list
              </button>
            </p>
          ) : null}
          <UserSearch
            label="Find staff to add"
            actionLabel="Add"
            path={candidatesOf(group)}
            isPicked={(id) => adding.has(id)}
            onPick={(user) => add([user])}
          />
          <PasteEmails path={candidatesOf(group)} onFound={add} />
        </>
      ) : null}
    </section>
  );
}

const LOOKUPS_AT_ONCE = 4;

/** Many people at once: each email is looked up on the server, with progress, then added to the pending list. */
/**
 * Staff to add to a group or name in its sets, found through the group itself: its delegates may
 * manage members without being able to list every user.
 */
export function candidatesOf(group: { id: string }): string {
  return `/user-groups/${group.id}/candidates`;
}

function PasteEmails({ path, onFound }: { path: string; onFound: (people: Person[]) => void }) {
  const [text, setText] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [notFound, setNotFound] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const lookUp = async () => {
    const emails = [
      ...new Set(
        text
          .split(/[\s,;]+/)
          .map((e) => e.trim().toLowerCase())
          .filter((e) => e.includes('@')),
      ),
    ];
    if (emails.length === 0) return;
    setError(null);
    setNotFound([]);
    setProgress({ done: 0, total: emails.length });
    const found: Person[] = [];
    const missing: string[] = [];
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < emails.length) {
        const email = emails[next++]!;
        const page = await api.get<Page<User>>(path, { q: email, limit: 5, status: 'enabled' });
        const user = page.items.find((u) => u.email.toLowerCase() === email);
        if (user) found.push({ id: user.id, name: user.name });
        else missing.push(email);
        done += 1;
        setProgress({ done, total: emails.length });
      }
    };
    try {
      await Promise.all(Array.from({ length: LOOKUPS_AT_ONCE }, worker));
      onFound(found);
      setNotFound(missing);
      setText(missing.join('\n'));
    } catch (failure) {
      setError(failure);
    } finally {
      setProgress(null);
    }
  };
  return (
    <details className="paste-emails">
      <summary>Paste a list of emails</summary>
      <TextAreaField
        label="Email addresses"
        hint="One per line, or separated by commas. Each one is looked up, then added to the changes to save."
        rows={5}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {progress ? (
        <Progress value={progress.done} max={progress.total} label="Looking up staff" />
      ) : null}
      <ErrorMessage error={error} />
      {notFound.length > 0 ? (
        <Notice tone="warning">
          No active user has {plural(notFound.length, 'of these emails', 'of these emails')}:{' '}
          {notFound.join(', ')}. They are left in the box.
        </Notice>
      ) : null}
      <Button className="secondary" busy={progress !== null} onClick={() => void lookUp()}>
        Look up and add
      </Button>
    </details>
  );
}

const MAX_OWNERS = 10;

function Owners({ group, pending, edit }: SectionProps) {
  const removing = new Set(pending.removeOwners.map((p) => p.id));
  const adding = new Set(pending.addOwners.map((p) => p.id));
  const ownerCount = group.owners.length + pending.addOwners.length - pending.removeOwners.length;
  return (
    <section className="panel" aria-labelledby="owners-title">
      <h2 id="owners-title">Owners</h2>
      <p className="muted">
        Owners manage the group's members without being Admins. At most {MAX_OWNERS}.
      </p>
      {group.owners.length === 0 && pending.addOwners.length === 0 ? (
        <Empty>No owners: only Admins manage this group.</Empty>
      ) : (
        <ul className="list compact" aria-label="Owners">
          {group.owners.map((owner) => (
            <li key={owner.id}>
              <div>
                {owner.name} <span className="muted">{owner.email}</span>
                {removing.has(owner.id) ? (
                  <span className="tag tag-warning">To be removed</span>
                ) : null}
              </div>
              {group.abilities.manageOwners && !removing.has(owner.id) ? (
                <button
                  type="button"
                  className="link-button"
                  onClick={() => edit((p) => ({ ...p, removeOwners: [...p.removeOwners, owner] }))}
                  aria-label={`Remove ${owner.name} as owner`}
                >
                  Remove
                </button>
              ) : null}
            </li>
          ))}
          {pending.addOwners.map((owner) => (
            <li key={owner.id}>
              <div>
                {owner.name} <span className="tag tag-warning">To be added</span>
              </div>
              <button
                type="button"
                className="link-button"
                onClick={() => edit((p) => ({ ...p, addOwners: without(p.addOwners, owner.id) }))}
                aria-label={`Do not add ${owner.name} as owner`}
              >
                Undo
              </button>
            </li>
          ))}
        </ul>
      )}
      {group.abilities.manageOwners ? (
        ownerCount >= MAX_OWNERS ? (
          <p>The group has {MAX_OWNERS} owners, the most it can have.</p>
        ) : (
          <UserSearch
            label="Find staff to make owners"
            path={candidatesOf(group)}
            actionLabel="Make owner"
            isPicked={(id) => adding.has(id) || group.owners.some((o) => o.id === id)}
            onPick={(user) =>
              edit((p) => ({ ...p, addOwners: [...p.addOwners, { id: user.id, name: user.name }] }))
            }
          />
        )
      ) : null}
    </section>
  );
}

/** Role grants are their own requests (the batch does not carry them), so they apply at once. */
function GroupRoles({ group }: { group: UserGroup }) {
  const queryClient = useQueryClient();
  const can = useCan();
  const grantable = useGrantableRoles();
  const scopeName = useScopeName();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['user-groups'] });
  const grant = useMutation({
    mutationFn: ({ role, scope, reason }: { role: Role; scope: Scope; reason: string }) =>
      api.post('/role-grants', {
        subject: { type: 'user_group', id: group.id },
        role,
        scope,
        ...(reason ? { reason } : {}),
      }),
    onSuccess: () => void refresh(),
  });
  const revoke = useMutation({
    mutationFn: (grantId: string) => api.delete(`/role-grants/${grantId}`),
    onSuccess: () => void refresh(),
  });
  return (
    <section className="panel" aria-labelledby="roles-title">
      <h2 id="roles-title">Roles</h2>
      <p className="muted">
        Every member holds these roles. Role changes apply as soon as you make them.
      </p>
      {group.roleGrants.length === 0 ? (
        <Empty>The group grants no role.</Empty>
      ) : (
        <ul className="list compact" aria-label="Roles">
          {group.roleGrants.map((held) => (
            <li key={held.id}>
              <div>
                {roleLabels[held.role]} <span className="muted">at {scopeName(held.scope)}</span>
                {held.reason ? <div className="muted">Reason: {held.reason}</div> : null}
              </div>
              {group.abilities.manageRoles &&
              (held.role === 'owner' ? can('roles.assign.owner') : can('roles.assign')) ? (
                <Button
                  className="link-button"
                  busy={revoke.isPending && revoke.variables === held.id}
                  onClick={() => revoke.mutate(held.id)}
                  aria-label={`Revoke ${roleLabels[held.role]} at ${scopeName(held.scope)}`}
                >
                  Revoke
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <ErrorMessage error={revoke.error} />
      {group.abilities.manageRoles && grantable.length > 0 ? (
        <>
          <h3>Grant a role to the group</h3>
          <RoleGrantForm
            subject={{ type: 'user_group', id: group.id }}
            busy={grant.isPending}
            error={grant.error}
            onGrant={(role, scope, reason) => grant.mutate({ role, scope, reason })}
          />
        </>
      ) : null}
    </section>
  );
}

function linkLabel(link: UserGroup['studentLinks'][number]): string {
  if (link.redacted) return 'a child you cannot see';
  if (link.studentGroup) return `student group ${link.studentGroup.name}`;
  return `child ${link.student?.name ?? ''}`;
}

function StudentLinks({ group, pending, edit }: SectionProps) {
  const [studentGroupId, setStudentGroupId] = useState('');
  // A link to "All students" is made only when confirmed, with the reason for it (issue 14, item 6).
  const [confirmAll, setConfirmAll] = useState(false);
  const [rationale, setRationale] = useState('');
  const studentGroups = useQuery({
    queryKey: ['student-groups', 'list', null],
    queryFn: ({ signal }) => api.get<Page<StudentGroup>>('/student-groups', undefined, signal),
    enabled: group.abilities.manageLinks,
  });
  const chosenAll = studentGroups.data?.items.find(
    (g) => g.id === studentGroupId && g.kind === 'all',
  );
  const removing = new Set(pending.removeLinks.map((l) => l.id));
  const linkedGroups = new Set([
    ...group.studentLinks.map((l) => l.studentGroup?.id),
    ...pending.addLinks.map((l) => ('studentGroupId' in l ? l.studentGroupId : undefined)),
  ]);
  const linkedStudents = new Set([
    ...group.studentLinks.map((l) => l.student?.id),
    ...pending.addLinks.map((l) => ('studentId' in l ? l.studentId : undefined)),
  ]);
  return (
    <section className="panel" aria-labelledby="links-title">
      <h2 id="links-title">Children the group can see</h2>
      <p className="muted">
        Links to student groups, or to single children, give members access to those children's
        records (as far as their roles allow).
      </p>
      {group.studentLinks.length === 0 && pending.addLinks.length === 0 ? (
        <Empty>No links: the group's members see no children through it.</Empty>
      ) : (
        <ul className="list compact" aria-label="Links">
          {group.studentLinks.map((link) => (
            <li key={link.id}>
              <div>
                {link.studentGroup ? (
                  <>
                    Student group{' '}
                    <Link to={`/admin/student-groups/${link.studentGroup.id}`}>
                      {link.studentGroup.name}
                    </Link>{' '}
                    <span className="muted">
                      ({plural(link.studentGroup.size, 'child', 'children')})
                    </span>
                  </>
                ) : link.redacted ? (
                  'A child you cannot see'
                ) : (
                  <>
                    Child <Link to={`/students/${link.student?.id}`}>{link.student?.name}</Link>
                  </>
                )}{' '}
                <span className="muted">since {formatDate(link.since)}</span>
                {removing.has(link.id) ? (
                  <span className="tag tag-warning">To be ended</span>
                ) : null}
              </div>
              {group.abilities.manageLinks && !removing.has(link.id) ? (
                <button
                  type="button"
                  className="link-button"
                  onClick={() =>
                    edit((p) => ({
                      ...p,
                      removeLinks: [...p.removeLinks, { id: link.id, label: linkLabel(link) }],
                    }))
                  }
                  aria-label={`End the link to ${linkLabel(link)}`}
                >
                  End link
                </button>
              ) : null}
            </li>
          ))}
          {pending.addLinks.map((link) => (
            <li key={'studentGroupId' in link ? link.studentGroupId : link.studentId}>
              <div>
                {link.label} <span className="tag tag-warning">To be linked</span>
              </div>
              <button
                type="button"
                className="link-button"
                onClick={() =>
                  edit((p) => ({ ...p, addLinks: p.addLinks.filter((l) => l !== link) }))
                }
                aria-label={`Do not link ${link.label}`}
              >
                Undo
              </button>
            </li>
          ))}
        </ul>
      )}
      {group.abilities.manageLinks ? (
        <>
          <h3>Link a student group</h3>
          <form
            className="inline-form"
            onSubmit={(event) => {
              event.preventDefault();
              const chosen = studentGroups.data?.items.find((g) => g.id === studentGroupId);
              if (!chosen) return;
              if (chosen.kind === 'all' && !(confirmAll && rationale.trim())) return;
              edit((p) => ({
                ...p,
                addLinks: [
                  ...p.addLinks,
                  chosen.kind === 'all'
                    ? {
                        studentGroupId: chosen.id,
                        label: `student group ${chosen.name}`,
                        confirm: true,
                        rationale: rationale.trim(),
                      }
                    : { studentGroupId: chosen.id, label: `student group ${chosen.name}` },
                ],
              }));
              setStudentGroupId('');
              setConfirmAll(false);
              setRationale('');
            }}
          >
            <SelectField
              label="Student group"
              value={studentGroupId}
              onChange={(e) => {
                setStudentGroupId(e.target.value);
                setConfirmAll(false);
              }}
            >
              <option value="">Choose a student group</option>
              {studentGroups.data?.items
                .filter((g) => !linkedGroups.has(g.id))
                .map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
            </SelectField>
            {chosenAll ? (
              <div className="all-students-confirmation">
                <Notice tone="warning">
                  {chosenAll.name} holds every child of its school: every member of {group.name}{' '}
                  will see all of them, now and as children join.
                </Notice>
                <label>
                  <input
                    type="checkbox"
                    checked={confirmAll}
                    onChange={(e) => setConfirmAll(e.target.checked)}
                  />{' '}
                  I confirm that every member of this group needs to see every child there
                </label>
                <TextAreaField
                  label="Why this group needs every child"
                  hint="Kept with the link and in the audit log."
                  value={rationale}
                  maxLength={2000}
                  required
                  onChange={(e) => setRationale(e.target.value)}
                />
              </div>
            ) : null}
            <button
              type="submit"
              className="secondary"
              disabled={chosenAll !== undefined && !(confirmAll && rationale.trim())}
            >
              Add link
            </button>
          </form>
          <ErrorMessage error={studentGroups.error} />
          <h3>Link a single child</h3>
          <StudentSearch
            label="Find a child"
            actionLabel="Link"
            isPicked={(id) => linkedStudents.has(id)}
            onPick={(student) =>
              edit((p) => ({
                ...p,
                addLinks: [
                  ...p.addLinks,
                  { studentId: student.id, label: `child ${studentName(student)}` },
                ],
              }))
            }
          />
        </>
      ) : null}
    </section>
  );
}

function Clearances({ group, pending, edit }: SectionProps) {
  const current = pending.clearances ?? group.clearances;
  const toggle = (clearance: Clearance, on: boolean) =>
    edit((p) => {
      const base = p.clearances ?? group.clearances;
      const next = (Object.keys(clearanceLabels) as Clearance[]).filter((c) =>
        c === clearance ? on : base.includes(c),
      );
      const same =
        next.length === group.clearances.length && next.every((c) => group.clearances.includes(c));
      return { ...p, clearances: same ? null : next };
    });
  return (
    <section className="panel" aria-labelledby="clearances-title">
      <h2 id="clearances-title">Clearances</h2>
      <fieldset className="checks" disabled={!group.abilities.manageClearances}>
        <legend>Members may see these sensitive records of the children they can see</legend>
        {(Object.keys(clearanceLabels) as Clearance[]).map((clearance) => (
          <label key={clearance}>
            <input
              type="checkbox"
              checked={current.includes(clearance)}
              onChange={(e) => toggle(clearance, e.target.checked)}
            />{' '}
            {clearanceLabels[clearance]}
          </label>
        ))}
      </fieldset>
    </section>
  );
}
