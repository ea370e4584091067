import { useQuery } from '@tanstack/react-query';
import { createContext, type FormEvent, useContext, useId, useState } from 'react';
import { api, type Page } from '../api/client.ts';
import {
  Button,
  Dialog,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  QueryState,
} from '../components/ui.tsx';
import { plural } from '../format.ts';
import { useDebounced } from '../hooks.ts';
import { Tabs } from './Tabs.tsx';
import {
  type GroupOperation,
  type GroupPermission,
  groupPermissionLabels,
  groupPermissions,
  type PermissionSet,
  type PermissionSets,
  type SetAssignee,
  type User,
  type UserGroup,
  type UserGroupSummary,
  type VisibleAssignee,
} from './types.ts';

/** The server's limits (spec section 5): sets per group, the fixed three included; assignees per set. */
const MAX_SETS = 20;
const MAX_ASSIGNEES = 1000;
const MAX_NAME = 100;

/** A set made on the page and not yet saved; `key` names it until the server gives it an id. */
export interface NewSet {
  key: string;
  name: string;
  permissions: GroupPermission[];
  assignees: VisibleAssignee[];
}

/** A saved set changed on the page: what it was, and what it is to become. */
export interface SetChange {
  name: string;
  was: { permissions: GroupPermission[]; assignees: SetAssignee[] };
  permissions?: GroupPermission[];
  assignees?: SetAssignee[];
}

/** Permission-set edits waiting for the page's Save, beside its other edits. */
export interface SetEdits {
  created: NewSet[];
  changed: Record<string, SetChange>;
  deleted: { id: string; name: string }[];
}

export const noSetEdits: SetEdits = { created: [], changed: {}, deleted: [] };

/** The batch operations that make, change and delete permission sets. */
export type SetOperation = Extract<
  GroupOperation,
  { op: 'createPermissionSet' | 'updatePermissionSet' | 'deletePermissionSet' }
>;

type AssigneeRef = Extract<SetOperation, { op: 'createPermissionSet' }>['assignees'][number];

const refOf = (a: VisibleAssignee): AssigneeRef => ({ type: a.type, id: a.id });
const keyOf = (a: SetAssignee) => `${a.type}:${a.id ?? 'withheld'}`;

function visible(list: readonly SetAssignee[]): VisibleAssignee[] {
  return list.filter((a): a is VisibleAssignee => a.id !== null);
}

/** A set's permissions as the server keeps them: in order, `view` with any other. */
function normalised(list: Iterable<GroupPermission>): GroupPermission[] {
  const held = new Set(list);
  if (held.size > 0) held.add('view');
  return groupPermissions.filter((p) => held.has(p));
}

/** Ticking any permission ticks View; unticking View unticks the rest, which need it. */
function toggled(
  current: readonly GroupPermission[],
  permission: GroupPermission,
  on: boolean,
): GroupPermission[] {
  if (permission === 'view' && !on) return [];
  const next = new Set(current);
  if (on) next.add(permission);
  else next.delete(permission);
  return normalised(next);
}

const samePermissions = (a: readonly GroupPermission[], b: readonly GroupPermission[]) =>
  normalised(a).join() === normalised(b).join();

const sameAssignees = (a: readonly SetAssignee[], b: readonly SetAssignee[]) => {
  const keys = new Set(a.map(keyOf));
  return a.length === b.length && b.every((x) => keys.has(keyOf(x)));
};

function permissionText(list: readonly GroupPermission[]): string {
  return list.length === 0 ? 'nothing' : list.map((p) => groupPermissionLabels[p]).join(', ');
}

export function assigneeName(a: SetAssignee): string {
  if (a.id === null) return 'a user group you cannot see';
  return a.type === 'user_group' ? `the group ${a.name}` : a.name;
}

function listed(assignees: readonly SetAssignee[]): string {
  const shown = assignees.slice(0, 5).map(assigneeName);
  const more = assignees.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * Each pending permission-set edit as a sentence and the batch operation that makes it.
 * Deletions go first, so a name or a place among the 20 sets they free is free for the rest.
 */
export function describeSetEdits(edits: SetEdits): { text: string; operations: SetOperation[] }[] {
  const changes: { text: string; operations: SetOperation[] }[] = [];
  for (const set of edits.deleted) {
    changes.push({
      text: `Delete the permission set ${set.name}`,
      operations: [{ op: 'deletePermissionSet', setId: set.id }],
    });
  }
  for (const [setId, change] of Object.entries(edits.changed)) {
    const clauses: string[] = [];
    const operation: Extract<SetOperation, { op: 'updatePermissionSet' }> = {
      op: 'updatePermissionSet',
      setId,
    };
    if (change.permissions) {
      operation.permissions = change.permissions;
      clauses.push(
        `may ${permissionText(change.permissions)} (was: ${permissionText(change.was.permissions)})`,
      );
    }
    if (change.assignees) {
      const now = new Set(change.assignees.map(keyOf));
      const before = new Set(change.was.assignees.map(keyOf));
      const added = change.assignees.filter((a) => !before.has(keyOf(a)));
      const removed = change.was.assignees.filter((a) => !now.has(keyOf(a)));
      // The whole new list; groups the writer may not see cannot be named, and the server keeps them.
      operation.assignees = visible(change.assignees).map(refOf);
      if (added.length > 0) clauses.push(`add ${listed(added)}`);
      if (removed.length > 0) clauses.push(`remove ${listed(removed)}`);
    }
    changes.push({
      text: `Permission set ${change.name}: ${clauses.join('; ')}`,
      operations: [operation],
    });
  }
  for (const set of edits.created) {
    changes.push({
      text: `Add the permission set ${set.name}: may ${permissionText(set.permissions)}; ${
        set.assignees.length === 0 ? 'no assignees yet' : `held by ${listed(set.assignees)}`
      }`,
      operations: [
        {
          op: 'createPermissionSet',
          name: set.name,
          permissions: set.permissions,
          assignees: set.assignees.map(refOf),
        },
      ],
    });
  }
  return changes;
}

/** A saved set as the page shows it, its pending change applied. */
function withChange(set: PermissionSet, change: SetChange | undefined) {
  return {
    permissions: change?.permissions ?? set.permissions,
    assignees: change?.assignees ?? set.assignees,
  };
}

/** Records a change to a saved set, or drops it when the set is back as it was. */
function changing(
  edits: SetEdits,
  set: PermissionSet,
  patch: { permissions?: GroupPermission[]; assignees?: SetAssignee[] },
): SetEdits {
  const before = edits.changed[set.id] ?? {
    name: set.name,
    was: { permissions: set.permissions, assignees: set.assignees },
  };
  const next: SetChange = { ...before, ...patch };
  if (next.permissions && samePermissions(next.permissions, next.was.permissions))
    delete next.permissions;
  if (next.assignees && sameAssignees(next.assignees, next.was.assignees)) delete next.assignees;
  const changed = { ...edits.changed };
  if (next.permissions || next.assignees) changed[set.id] = next;
  else delete changed[set.id];
  return { ...edits, changed };
}

function changingNew(edits: SetEdits, key: string, patch: Partial<NewSet>): SetEdits {
  return {
    ...edits,
    created: edits.created.map((s) => (s.key === key ? { ...s, ...patch } : s)),
  };
}

interface TabProps {
  group: UserGroup;
  edits: SetEdits;
  edit: (change: (edits: SetEdits) => SetEdits) => void;
}

/**
 * The group's permission sets (seed 004): Owners, Members, Everyone, then the custom sets, each
 * with what it allows and who holds it. Every change waits for the page's Save.
 */
/** The group whose sets are shown: its own candidates route finds the users to name. */
const GroupOfTab = createContext<{ id: string }>({ id: '' });

export function PermissionSetsTab({ group, edits, edit }: TabProps) {
  const query = useQuery({
    queryKey: ['user-groups', 'permission-sets', group.id],
    queryFn: ({ signal }) =>
      api.get<PermissionSets>(`/user-groups/${group.id}/permission-sets`, undefined, signal),
  });
  return (
    <section aria-labelledby="permission-sets-title">
      <h2 id="permission-sets-title">Permission sets</h2>
      <p className="muted">
        Who may do what with this group. Assignees hold a set's permissions as soon as the change is
        saved; members of an assignee group hold it while they are members.
      </p>
      <GroupOfTab.Provider value={group}>
        <QueryState query={query} loading="Loading permission sets…">
          {(data) => <SetList group={group} data={data} edits={edits} edit={edit} />}
        </QueryState>
      </GroupOfTab.Provider>
    </section>
  );
}

function SetList({ group, data, edits, edit }: TabProps & { data: PermissionSets }) {
  // The server's answer decides; the group's abilities said the same when the page loaded.
  const manage = data.abilities.manage && group.abilities.managePermissionSets;
  const deleted = new Set(edits.deleted.map((d) => d.id));
  const setCount = data.items.length - edits.deleted.length + edits.created.length;
  const takenNames = [
    ...data.items.filter((s) => !deleted.has(s.id)).map((s) => s.name),
    ...edits.created.map((s) => s.name),
  ];
  return (
    <>
      {manage ? null : <p>You can see this group's permission sets but not change them.</p>}
      {data.items.map((set) =>
        set.kind === 'custom' ? (
          <CustomSet
            key={set.id}
            set={set}
            manage={manage}
            deleted={deleted.has(set.id)}
            edits={edits}
            edit={edit}
          />
        ) : (
          <FixedSet
            key={set.id}
            group={group}
            set={set}
            manage={manage}
            edits={edits}
            edit={edit}
          />
        ),
      )}
      {edits.created.map((set) => (
        <NewSetCard key={set.key} set={set} edit={edit} />
      ))}
      {manage ? (
        setCount >= MAX_SETS ? (
          <p>The group has {MAX_SETS} permission sets, the most it can have.</p>
        ) : (
          <AddPermissionSet takenNames={takenNames} edit={edit} />
        )
      ) : null}
    </>
  );
}

/** The checkboxes of one set: ticked as the set will be once saved. */
function PermissionChecks({
  setName,
  permissions,
  disabled,
  onChange,
}: {
  setName: string;
  permissions: readonly GroupPermission[];
  disabled: boolean;
  onChange?: (next: GroupPermission[]) => void;
}) {
  return (
    <fieldset className="checks permission-checks" disabled={disabled}>
      <legend>What {setName} may do</legend>
      {groupPermissions.map((permission) => (
        <label key={permission}>
          <input
            type="checkbox"
            checked={permissions.includes(permission)}
            readOnly={!onChange}
            onChange={(e) => onChange?.(toggled(permissions, permission, e.target.checked))}
          />{' '}
          {groupPermissionLabels[permission]}
        </label>
      ))}
    </fieldset>
  );
}

function SetHeading({
  id,
  name,
  tags,
}: {
  id: string;
  name: string;
  tags: { text: string; warning?: boolean }[];
}) {
  return (
    <div className="set-heading">
      <h3 id={id}>{name}</h3>
      {tags.map((tag) => (
        <span key={tag.text} className={tag.warning ? 'tag tag-warning' : 'tag'}>
          {tag.text}
        </span>
      ))}
    </div>
  );
}

const fixedAbout: Record<Exclude<PermissionSet['kind'], 'custom'>, string> = {
  owners:
    'Owners may do everything with the group, and choose its owners and permission sets. This set cannot be changed; owners are chosen on the Members and access tab.',
  members: 'Every member of the group holds this set, for as long as they are a member.',
  everyone: 'Everyone in the organisation holds this set; at first it allows nothing.',
};

function FixedSet({
  group,
  set,
  manage,
  edits,
  edit,
}: Omit<TabProps, 'group'> & { group: UserGroup; set: PermissionSet; manage: boolean }) {
  const headingId = useId();
  const kind = set.kind as Exclude<PermissionSet['kind'], 'custom'>;
  const change = edits.changed[set.id];
  const current = withChange(set, change);
  // Owners hold everything, whatever is stored.
  const editable = manage && kind !== 'owners';
  return (
    <section className="panel permission-set" aria-labelledby={headingId}>
      <SetHeading
        id={headingId}
        name={set.name}
        tags={[
          { text: 'Fixed' },
          ...(change ? [{ text: 'Changed, not saved yet', warning: true }] : []),
        ]}
      />
      <p className="muted">{fixedAbout[kind]}</p>
      <PermissionChecks
        setName={set.name}
        permissions={kind === 'owners' ? groupPermissions : current.permissions}
        disabled={!editable}
        onChange={
          editable ? (permissions) => edit((e) => changing(e, set, { permissions })) : undefined
        }
      />
      {kind === 'owners' ? (
        set.assignees.length === 0 ? (
          <Empty>No owners: only Admins manage this group.</Empty>
        ) : (
          <AssigneeList
            label={`Assignees of ${set.name}`}
            items={set.assignees.map((a) => ({ a }))}
          />
        )
      ) : (
        <p>
          Held by{' '}
          {kind === 'members'
            ? `the group's ${plural(group.memberCount, 'member')}.`
            : 'everyone in the organisation.'}
        </p>
      )}
    </section>
  );
}

function CustomSet({
  set,
  manage,
  deleted,
  edits,
  edit,
}: Omit<TabProps, 'group'> & { set: PermissionSet; manage: boolean; deleted: boolean }) {
  const headingId = useId();
  const [choosing, setChoosing] = useState(false);
  const change = edits.changed[set.id];
  const current = withChange(set, change);
  const editable = manage && !deleted;
  const now = new Set(current.assignees.map(keyOf));
  const before = new Set(set.assignees.map(keyOf));
  const setAssignees = (assignees: SetAssignee[]) => edit((e) => changing(e, set, { assignees }));
  const tags = [
    ...(deleted ? [{ text: 'To be deleted', warning: true }] : []),
    ...(change && !deleted ? [{ text: 'Changed, not saved yet', warning: true }] : []),
  ];
  return (
    <section className="panel permission-set" aria-labelledby={headingId}>
      <SetHeading id={headingId} name={set.name} tags={tags} />
      <PermissionChecks
        setName={set.name}
        permissions={current.permissions}
        disabled={!editable}
        onChange={
          editable ? (permissions) => edit((e) => changing(e, set, { permissions })) : undefined
        }
      />
      <h4>Assignees</h4>
      {set.assignees.length === 0 && current.assignees.length === 0 ? (
        <Empty>No assignees yet: nobody holds this set.</Empty>
      ) : (
        <AssigneeList
          label={`Assignees of ${set.name}`}
          items={[
            ...set.assignees.map((a) => ({
              a,
              state: now.has(keyOf(a)) ? undefined : ('removing' as const),
            })),
            ...current.assignees
              .filter((a) => !before.has(keyOf(a)))
              .map((a) => ({ a, state: 'adding' as const })),
          ]}
          onRemove={
            editable
              ? (a) => setAssignees(current.assignees.filter((x) => keyOf(x) !== keyOf(a)))
              : undefined
          }
          onKeep={editable ? (a) => setAssignees([...current.assignees, a]) : undefined}
          setName={set.name}
        />
      )}
      {editable ? (
        <div className="pending-actions">
          {current.assignees.length >= MAX_ASSIGNEES ? (
            <p>This set has {MAX_ASSIGNEES} assignees, the most it can have.</p>
          ) : (
            <button type="button" className="secondary" onClick={() => setChoosing(true)}>
              Add assignees
              <span className="visually-hidden"> to {set.name}</span>
            </button>
          )}
          <button
            type="button"
            className="secondary"
            onClick={() =>
              edit((e) => {
                const changed = { ...e.changed };
                delete changed[set.id];
                return { ...e, changed, deleted: [...e.deleted, { id: set.id, name: set.name }] };
              })
            }
          >
            Delete the set
            <span className="visually-hidden"> {set.name}</span>
          </button>
        </div>
      ) : null}
      {manage && deleted ? (
        <button
          type="button"
          className="link-button"
          onClick={() => edit((e) => ({ ...e, deleted: e.deleted.filter((d) => d.id !== set.id) }))}
        >
          Keep the set {set.name}
        </button>
      ) : null}
      <ChooseAssignees
        open={choosing}
        setName={set.name}
        current={current.assignees}
        room={MAX_ASSIGNEES - current.assignees.length}
        onClose={() => setChoosing(false)}
        onAdd={(chosen) => setAssignees([...current.assignees, ...chosen])}
      />
    </section>
  );
}

function NewSetCard({ set, edit }: { set: NewSet; edit: TabProps['edit'] }) {
  const headingId = useId();
  const [choosing, setChoosing] = useState(false);
  const patch = (p: Partial<NewSet>) => edit((e) => changingNew(e, set.key, p));
  return (
    <section className="panel permission-set" aria-labelledby={headingId}>
      <SetHeading
        id={headingId}
        name={set.name}
        tags={[{ text: 'New, not saved yet', warning: true }]}
      />
      <PermissionChecks
        setName={set.name}
        permissions={set.permissions}
        disabled={false}
        onChange={(permissions) => patch({ permissions })}
      />
      <h4>Assignees</h4>
      {set.assignees.length === 0 ? (
        <Empty>No assignees yet: nobody will hold this set.</Empty>
      ) : (
        <AssigneeList
          label={`Assignees of ${set.name}`}
          items={set.assignees.map((a) => ({ a, state: 'adding' as const }))}
          onRemove={(a) => patch({ assignees: set.assignees.filter((x) => keyOf(x) !== keyOf(a)) })}
          setName={set.name}
        />
      )}
      <div className="pending-actions">
        {set.assignees.length < MAX_ASSIGNEES ? (
          <button type="button" className="secondary" onClick={() => setChoosing(true)}>
            Add assignees
            <span className="visually-hidden"> to {set.name}</span>
          </button>
        ) : null}
        <button
          type="button"
          className="secondary"
          onClick={() =>
            edit((e) => ({ ...e, created: e.created.filter((s) => s.key !== set.key) }))
          }
        >
          Do not add the set
          <span className="visually-hidden"> {set.name}</span>
        </button>
      </div>
      <ChooseAssignees
        open={choosing}
        setName={set.name}
        current={set.assignees}
        room={MAX_ASSIGNEES - set.assignees.length}
        onClose={() => setChoosing(false)}
        onAdd={(chosen) => patch({ assignees: [...set.assignees, ...chosen] })}
      />
    </section>
  );
}

/** A user's initials, or a group's, for the avatar beside the name. */
function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join('');
}

/** A user's avatar is round, a group's square; the text beside it says which, for everyone. */
function Avatar({ assignee }: { assignee: SetAssignee }) {
  return (
    <span
      className={assignee.type === 'user' ? 'avatar avatar-user' : 'avatar avatar-group'}
      aria-hidden="true"
    >
      {assignee.name ? initials(assignee.name) : '?'}
    </span>
  );
}

function AssigneeDetail({ assignee }: { assignee: SetAssignee }) {
  if (assignee.type === 'user')
    return (
      <>
        {assignee.name} <span className="muted">User, {assignee.email}</span>
      </>
    );
  if (assignee.id === null)
    return (
      <>
        A user group you cannot see <span className="muted">User group</span>
      </>
    );
  return (
    <>
      {assignee.name}{' '}
      <span className="muted">User group, {plural(assignee.memberCount, 'member')}</span>
    </>
  );
}

function AssigneeList({
  label,
  items,
  onRemove,
  onKeep,
  setName,
}: {
  label: string;
  items: { a: SetAssignee; state?: 'adding' | 'removing' | undefined }[];
  onRemove?: ((a: SetAssignee) => void) | undefined;
  onKeep?: ((a: SetAssignee) => void) | undefined;
  setName?: string;
}) {
  return (
    <ul className="list compact assignees" aria-label={label}>
      {items.map(({ a, state }, index) => (
        <li key={a.id ? keyOf(a) : `withheld-${index}`}>
          <div className="assignee">
            <Avatar assignee={a} />
            <div>
              <AssigneeDetail assignee={a} />{' '}
              {state === 'adding' ? <span className="tag tag-warning">To be added</span> : null}
              {state === 'removing' ? <span className="tag tag-warning">To be removed</span> : null}
            </div>
          </div>
          {state === 'removing' && onKeep ? (
            <button
              type="button"
              className="link-button"
              onClick={() => onKeep(a)}
              aria-label={`Keep ${a.name ?? 'the hidden group'} in ${setName}`}
            >
              Keep
            </button>
          ) : state !== 'removing' && onRemove && a.id !== null ? (
            <button
              type="button"
              className="link-button"
              onClick={() => onRemove(a)}
              aria-label={`Remove ${a.name} from ${setName}`}
            >
              Remove
            </button>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function AddPermissionSet({ takenNames, edit }: { takenNames: string[]; edit: TabProps['edit'] }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [permissions, setPermissions] = useState<GroupPermission[]>([]);
  const [tried, setTried] = useState(false);
  const trimmed = name.trim();
  const problem =
    trimmed.length === 0
      ? 'Give the set a name.'
      : trimmed.length > MAX_NAME
        ? `At most ${MAX_NAME} characters.`
        : takenNames.some((n) => n.toLowerCase() === trimmed.toLowerCase())
          ? 'The group already has a set of that name.'
          : null;
  const close = () => {
    setOpen(false);
    setName('');
    setPermissions([]);
    setTried(false);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (problem) return;
    edit((e) => ({
      ...e,
      created: [
        ...e.created,
        { key: crypto.randomUUID(), name: trimmed, permissions, assignees: [] },
      ],
    }));
    close();
  };
  if (!open)
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          Add permission set
        </button>
      </p>
    );
  return (
    <section className="panel" aria-labelledby="new-set-title">
      <h3 id="new-set-title">Add a permission set</h3>
      <form onSubmit={submit} noValidate>
        <InputField
          label="Name of the set"
          value={name}
          maxLength={MAX_NAME}
          error={tried ? (problem ?? undefined) : undefined}
          onChange={(e) => setName(e.target.value)}
          required
        />
        <PermissionChecks
          setName="the set"
          permissions={permissions}
          disabled={false}
          onChange={setPermissions}
        />
        <div className="pending-actions">
          <button type="submit">Add the set</button>
          <button type="button" className="secondary" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

/**
 * "Add assignees": users or user groups, found by the server's search; one already holding the
 * set, or chosen already, says so. The chosen are added to the set's pending list together.
 */
function ChooseAssignees({
  open,
  setName,
  current,
  room,
  onClose,
  onAdd,
}: {
  open: boolean;
  setName: string;
  current: readonly SetAssignee[];
  room: number;
  onClose: () => void;
  onAdd: (chosen: VisibleAssignee[]) => void;
}) {
  const [tab, setTab] = useState<'users' | 'groups'>('users');
  const [chosen, setChosen] = useState<VisibleAssignee[]>([]);
  const close = () => {
    setChosen([]);
    setTab('users');
    onClose();
  };
  const taken = new Set([...current, ...chosen].map(keyOf));
  const choose = (a: VisibleAssignee) => setChosen((list) => [...list, a]);
  const full = chosen.length >= room;
  return (
    <Dialog open={open} title={`Add assignees to ${setName}`} onClose={close}>
      <Tabs
        label="Kind of assignee"
        tabs={[
          { id: 'users', label: 'Users' },
          { id: 'groups', label: 'User groups' },
        ]}
        selected={tab}
        onSelect={setTab}
      >
        {tab === 'users' ? (
          <UserCandidates taken={taken} full={full} onChoose={choose} />
        ) : (
          <GroupCandidates taken={taken} full={full} onChoose={choose} />
        )}
      </Tabs>
      {full ? <Notice tone="warning">A set holds at most {MAX_ASSIGNEES} assignees.</Notice> : null}
      {chosen.length > 0 ? (
        <AssigneeList
          label="Chosen to add"
          items={chosen.map((a) => ({ a }))}
          onRemove={(a) => setChosen((list) => list.filter((x) => keyOf(x) !== keyOf(a)))}
          setName="the chosen"
        />
      ) : (
        <p className="muted">Nobody chosen yet.</p>
      )}
      <div className="dialog-actions">
        <Button
          disabled={chosen.length === 0}
          onClick={() => {
            onAdd(chosen);
            close();
          }}
        >
          Add {chosen.length > 0 ? plural(chosen.length, 'assignee') : 'assignees'}
        </Button>
        <Button className="secondary" onClick={close}>
          Cancel
        </Button>
      </div>
    </Dialog>
  );
}

interface CandidateProps {
  taken: ReadonlySet<string>;
  full: boolean;
  onChoose: (a: VisibleAssignee) => void;
}

function UserCandidates({ taken, full, onChoose }: CandidateProps) {
  // Through the group's own candidates: its delegates need not be able to list every user.
  const group = useContext(GroupOfTab);
  return (
    <Candidates<User>
      label="Find users"
      hint="Type part of a name or email."
      path={`/user-groups/${group.id}/candidates`}
      query={{ status: 'enabled' }}
      toAssignee={(u) => ({ type: 'user', id: u.id, name: u.name, email: u.email })}
      taken={taken}
      full={full}
      onChoose={onChoose}
    />
  );
}

function GroupCandidates(props: CandidateProps) {
  return (
    <Candidates<UserGroupSummary>
      label="Find user groups"
      hint="Type part of the group's name."
      path="/user-groups"
      toAssignee={(g) => ({
        type: 'user_group',
        id: g.id,
        name: g.name,
        memberCount: g.memberCount,
      })}
      {...props}
    />
  );
}

function Candidates<T extends { id: string }>({
  label,
  hint,
  path,
  query: extra,
  toAssignee,
  taken,
  full,
  onChoose,
}: CandidateProps & {
  label: string;
  hint: string;
  path: string;
  query?: Record<string, string>;
  toAssignee: (item: T) => VisibleAssignee;
}) {
  const [text, setText] = useState('');
  const q = useDebounced(text.trim());
  // The first few come before any typing, to scroll through; typing narrows them.
  const query = useQuery({
    queryKey: ['assignee-candidates', path, q],
    queryFn: ({ signal }) => api.get<Page<T>>(path, { q, limit: 10, ...extra }, signal),
  });
  return (
    <div className="search-picker">
      <InputField
        label={label}
        type="search"
        value={text}
        hint={hint}
        autoComplete="off"
        onChange={(e) => setText(e.target.value)}
      />
      {query.isError ? (
        <ErrorMessage error={query.error} />
      ) : query.data ? (
        query.data.items.length === 0 ? (
          <Empty>{q ? `Nothing matches "${q}".` : 'Nothing to choose from.'}</Empty>
        ) : (
          <ul className="list compact assignees" aria-label={`${label}: results`}>
            {query.data.items.map((item) => {
              const a = toAssignee(item);
              const already = taken.has(keyOf(a));
              return (
                <li key={item.id}>
                  <div className="assignee">
                    <Avatar assignee={a} />
                    <div>
                      <AssigneeDetail assignee={a} />
                    </div>
                  </div>
                  <button
                    type="button"
                    className="secondary"
                    disabled={already || full}
                    onClick={() => onChoose(a)}
                    aria-label={already ? `${a.name}: already selected` : `Select ${a.name}`}
                  >
                    {already ? 'Already selected' : 'Select'}
                  </button>
                </li>
              );
            })}
          </ul>
        )
      ) : null}
    </div>
  );
}
